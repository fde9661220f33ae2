# Entry points. Each target installs what is missing (Debian packages), then builds.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build test demo test-asan bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# On CI (CI=true) the AddressSanitizer + UndefinedBehaviorSanitizer suite runs too.
test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	@if [ "$$CI" = true ]; then $(MAKE) --no-print-directory test-asan; fi

demo: build
	@bash scripts/demo.sh $(BUILD)

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFRAMEPIPE_SANITIZE=address,undefined $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)
	@ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS)

bench: build
	@bash scripts/install-deps.sh bench
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
