# Entry points. Each target installs what is missing (Debian packages), then builds.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build test demo test-asan test-tsan test-access fuzz test-damage conformance install package wheel bench bench-index bench-infer bench-pipeline bench-python bench-writer models clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# On CI (CI=true) the AddressSanitizer + UndefinedBehaviorSanitizer suite runs too, the
# threaded tests under ThreadSanitizer (make test-tsan, ~7 min built), and a short libFuzzer pass (FUZZ_RUNS=300 inputs per target from a fixed seed, after the
# committed seeds and regressions) so that the targets keep building with Clang and their
# committed inputs keep passing under libFuzzer.
test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	@if [ "$$CI" = true ]; then $(MAKE) --no-print-directory test-asan && \
	  $(MAKE) --no-print-directory test-tsan && \
	  $(MAKE) --no-print-directory fuzz FUZZ_RUNS=$${FUZZ_RUNS:-300}; fi

# Every libFuzzer target for FUZZ_SECONDS (default 60) each, with ASan + UBSan (clang-14):
# executions, coverage and crashes per target (scripts/fuzz.sh).
fuzz:
	@bash scripts/install-deps.sh fuzz
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-60} FUZZ_RUNS=$(FUZZ_RUNS) bash scripts/fuzz.sh $(BUILD_FUZZ)

# The differential test on damage with many more cases than make test runs (400 by default).
test-damage: build
	@bash scripts/make-test-media.sh $(BUILD)/media >/dev/null
	@FRAMEPIPE_MEDIA=$(BUILD)/media FRAMEPIPE_DAMAGE_CASES=$${FRAMEPIPE_DAMAGE_CASES:-400} $(BUILD)/tests/test_damage

# The access property test with many more seeded requests per file than make test runs
# (FRAMEPIPE_ACCESS_REQUESTS, default 300; FRAMEPIPE_ACCESS_SEED picks the first seed).
test-access: build
	@bash scripts/make-test-media.sh $(BUILD)/media >/dev/null
	@FRAMEPIPE_MEDIA=$(BUILD)/media FRAMEPIPE_ACCESS_REQUESTS=$${FRAMEPIPE_ACCESS_REQUESTS:-300} \
	  $(BUILD)/tests/test_access --gtest_filter='Media/AccessProperty.*' | grep -E '^\[ access|FAILED|PASSED|Failure|seed'

# The threaded tests under ThreadSanitizer: the stress test of a shared reader, the reader's
# and the sampler's tests (worker pools, read-ahead). tests/tsan.supp names only FFmpeg's own
# frame-thread internals, each with its reason; a report in framepipe's code fails.
TSAN_TESTS = test_access test_reader test_sample test_errors test_transform
test-tsan: deps
	@cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFRAMEPIPE_SANITIZE=thread -DFRAMEPIPE_PYTHON=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_TSAN) -j$(JOBS) --target $(TSAN_TESTS) framepipe_cli
	@bash scripts/make-test-media.sh $(BUILD)/media >/dev/null
	@for t in $(TSAN_TESTS); do \
	  echo "test-tsan: $$t"; \
	  FRAMEPIPE_MEDIA=$(BUILD)/media FRAMEPIPE_ACCESS_REQUESTS=4 FRAMEPIPE_THREADS_SECONDS=20 \
	  TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
	  $(BUILD_TSAN)/tests/$$t --gtest_brief=1 || exit 1; done

# The conformance matrix: every file of the media set by every route, as a table.
conformance: build
	@bash scripts/make-test-media.sh $(BUILD)/media >/dev/null
	@FRAMEPIPE_MEDIA=$(BUILD)/media $(BUILD)/tests/test_conformance 2>/dev/null | grep -v '^\['

demo: build
	@bash scripts/demo.sh $(BUILD)

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFRAMEPIPE_SANITIZE=address,undefined $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)
	@ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS)

# Installing (README "Install"): the CLI, libraries, modules, headers, CMake and pkg-config
# files and the Python module into PREFIX (default /usr/local; DESTDIR for staging).
PREFIX ?= /usr/local
install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# The Debian package, framepipe_<version>_amd64.deb in $(BUILD)/package (CPack, dpkg-shlibdeps).
package: build
	@cd $(BUILD) && cpack -B $(CURDIR)/$(BUILD)/package >/dev/null && ls $(CURDIR)/$(BUILD)/package/*.deb

# A wheel for Debian 12's python3 in dist/ (pip install dist/framepipe-*.whl, in a venv made
# with --system-site-packages); builds in build-pip/ with Debian's setuptools and wheel.
wheel: deps
	@/usr/bin/python3 -m build --wheel --no-isolation --outdir dist . >/dev/null && ls dist/*.whl

bench: build
	@bash scripts/install-deps.sh bench
	@bash bench/run.sh $(BUILD)

# What the verified index costs against a full decode: the 10-minute 1080p file, a damaged
# minute of it, and the media set's damaged and badly muxed files.
bench-index: build
	@bash scripts/install-deps.sh bench
	@bash bench/run.sh $(BUILD) --only none >/dev/null  # makes the 1080p files
	@[ -s $(BUILD)/bench/damaged_1080p_1min.mp4 ] || /usr/bin/python3 scripts/damage-media.py zero \
	  $(BUILD)/bench/vtest_1080p_1min.mp4 50 $(BUILD)/bench/damaged_1080p_1min.mp4
	@/usr/bin/python3 bench/bench_index.py --build $(BUILD) --rounds $${ROUNDS:-3} $(BUILD)/bench/vtest_1080p_10min.mp4 \
	  $(BUILD)/bench/vtest_1080p_1min.mp4 $(BUILD)/bench/damaged_1080p_1min.mp4 \
	  $(BUILD)/media/h264_ptsdts.mp4 $(BUILD)/media/h264_nopicture.mp4 $(BUILD)/media/h264_damaged.mp4

# Inference engines against PyTorch eager (ResNet-18, MobileNetV3-small, R3D-18).
bench-infer: build
	@bash scripts/install-deps.sh bench
	@/usr/bin/python3 bench/bench_infer.py --build $(BUILD) --threads $(JOBS) --int8-video $(BUILD)/media/real/vtest.avi

# End-to-end run against its stages alone and a naive Python loop (vtest.avi and the 1080p file).
bench-pipeline: build
	@bash scripts/install-deps.sh bench
	@bash bench/run.sh $(BUILD) --only none >/dev/null  # makes the 1080p file
	@/usr/bin/python3 bench/bench_pipeline.py --build $(BUILD) --threads $(JOBS) \
	  $(BUILD)/media/real/vtest.avi $(BUILD)/bench/vtest_1080p.mp4

# The Python module against PyAV and cv2 (get_batch of 32 random frames, a full pass) on the 1080p file.
# Writing video from Python: framepipe.VideoWriter, cv2.VideoWriter, raw frames piped to ffmpeg.
bench-writer: build
	@bash scripts/install-deps.sh bench
	@/usr/bin/python3 bench/bench_writer.py --build $(BUILD)

bench-python: build
	@bash scripts/install-deps.sh bench
	@bash bench/run.sh $(BUILD) --only none >/dev/null  # makes the 1080p file
	@/usr/bin/python3 bench/bench_python.py --build $(BUILD) $(BUILD)/bench/vtest_1080p.mp4
	@/usr/bin/python3 bench/bench_datasets.py --build $(BUILD)
	@/usr/bin/python3 bench/bench_datasets.py --build $(BUILD) --videos 40

# Retrains the committed test models (tests/models), about 8 minutes on 2 cores.
models:
	@bash scripts/install-deps.sh models
	@/usr/bin/python3 scripts/make-test-models.py tests/models

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
