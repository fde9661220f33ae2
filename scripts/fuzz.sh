#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs each for FUZZ_SECONDS (default 60), FUZZ_JOBS targets at a time (default: cores),
# from its corpus (build-fuzz/corpus/TARGET, kept between runs, seeded from fuzz/seeds and
# fuzz/regressions). Each runs in libFuzzer's fork mode and goes on after a crash, so the
# whole time is spent and every distinct failing input is kept (build-fuzz/artifacts/TARGET).
# Prints executions, coverage and failing inputs per target; exits 1 when there is one.
# FUZZ_RUNS=N instead: N inputs per target from a fixed seed, in one process (CI's short
# pass: the same inputs every time, so a failure there is one to reproduce, not a chance).
#   scripts/fuzz.sh [BUILD_DIR] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
shift || true
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
all=(fuzz_open fuzz_access fuzz_sample fuzz_model_spec fuzz_options fuzz_sidecar fuzz_results)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFRAMEPIPE_FUZZ=ON -DFRAMEPIPE_SANITIZE=address,undefined -DFRAMEPIPE_WERROR=OFF \
  -DFRAMEPIPE_PYTHON=OFF -DFRAMEPIPE_TORCH=OFF -DFRAMEPIPE_BUILD_TESTS=OFF -DFRAMEPIPE_BUILD_APPS=OFF \
  -DFRAMEPIPE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -40 "$build/fuzz-build.log"; exit 1; }

# Per target: the dictionary, the longest input worth trying, and where its seeds are.
dict_of() {
  case $1 in
    fuzz_open | fuzz_access) echo video ;; fuzz_sample) echo sample ;; fuzz_model_spec) echo model_spec ;;
    fuzz_options) echo options ;; fuzz_sidecar) echo sidecar ;; fuzz_results) echo results ;;
  esac
}
max_len_of() { case $1 in fuzz_open | fuzz_access) echo 65536 ;; fuzz_sidecar) echo 16384 ;; *) echo 4096 ;; esac; }

run_one() {
  local t=$1 corpus="$build/corpus/$1" art="$build/artifacts/$1/"
  rm -rf "$art"  # this run's failing inputs only
  mkdir -p "$corpus" "$art"
  for d in "$root/fuzz/seeds/$t" "$root/fuzz/regressions/$t"; do [ -d "$d" ] && cp -n "$d"/* "$corpus"/ 2>/dev/null || true; done
  [ "$t" = fuzz_model_spec ] && cp -n "$root"/tests/models/*.json "$corpus"/
  # detect_leaks: FFmpeg's and framepipe's error paths must free what they took.
  rm -f "$build/logs/$t.counts"
  FRAMEPIPE_FUZZ_COUNTS="$build/logs/$t.counts" ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:handle_abort=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/$t" "$corpus" -timeout=25 -rss_limit_mb=2560 -malloc_limit_mb=2048 \
    -max_len="$(max_len_of "$t")" -dict="$root/fuzz/dict/$(dict_of "$t").dict" -artifact_prefix="$art" \
    "${mode[@]}" >"$build/logs/$t.log" 2>&1 || true
}

if [ -n "${FUZZ_RUNS:-}" ]; then
  mode=(-runs="$FUZZ_RUNS" -seed=1)
else
  mode=(-max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
mkdir -p "$build/logs"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

failed=0
printf '%-16s %12s %8s %8s %8s  %s\n' target execs exec/s edges corpus crashes
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  # Status lines: "#EXECS: cov: EDGES ft: F corp: N exec/s R ..." (fork mode) or
  # "#EXECS<tab>NEW cov: EDGES ft: F corp: N/SIZE ... exec/s: R ..." (one process).
  last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -1 || true)
  execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
  cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")
  corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$last")
  rate=$(sed -nE 's/.* exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
  crashes=$(find "$build/artifacts/$t" -type f | wc -l)
  # fuzz_access's own counts, summed over the forked jobs' reports.
  # A job that failed ends without its counts; its FAILED line counts the frame that differed.
  extra=$(awk '/^fuzz_access: [0-9]+ inputs/ {i+=$2; o+=$4; x+=$6; d+=$9} /FAILED: .* differs from streaming/ {d++}
    END {if (i) printf "fuzz_access: %d inputs, %d opened, %d indices checked (jobs that ended), %d differ from streaming", i, o, x, d}' \
    "$build/logs/$t.counts" 2>/dev/null || true)
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$crashes"
  [ -n "$extra" ] && echo "    $extra"
  if [ "$crashes" -gt 0 ]; then
    failed=1
    echo "    $t: see $log and $build/artifacts/$t/" >&2
    { grep -h 'FAILED:' "$build/logs/$t.counts" 2>/dev/null; grep -h 'ERROR:\|runtime error:' "$log"; } | sort | uniq -c | sed 's/^/    /' >&2 || true
  fi
done
exit $failed
