#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs each for FUZZ_SECONDS (default 60), FUZZ_JOBS targets at a time (default: cores),
# from its corpus (build-fuzz/corpus/TARGET, kept between runs, seeded from fuzz/seeds and
# fuzz/regressions). Prints executions, coverage and crashes per target; exits 1 when a
# target crashed, leaked, hung or ran out of memory (the input is kept in build-fuzz/artifacts).
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
  mkdir -p "$corpus" "$art"
  for d in "$root/fuzz/seeds/$t" "$root/fuzz/regressions/$t"; do [ -d "$d" ] && cp -n "$d"/* "$corpus"/ 2>/dev/null || true; done
  [ "$t" = fuzz_model_spec ] && cp -n "$root"/tests/models/*.json "$corpus"/
  # detect_leaks: FFmpeg's and framepipe's error paths must free what they took.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:handle_abort=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/$t" "$corpus" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -malloc_limit_mb=2048 \
    -max_len="$(max_len_of "$t")" -dict="$root/fuzz/dict/$(dict_of "$t").dict" -artifact_prefix="$art" \
    -print_final_stats=1 >"$build/logs/$t.log" 2>&1 || true
}

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
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "$build/artifacts/$t" -type f | wc -l)
  extra=$(grep -h '^fuzz_access: .* inputs' "$log" | tail -1 || true)
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$crashes"
  [ -n "$extra" ] && echo "    $extra"
  if [ "$crashes" -gt 0 ] || grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\|libFuzzer\)\|runtime error:\|FAILED:' "$log"; then
    failed=1
    echo "    $t: see $log and $build/artifacts/$t/" >&2
    grep -m3 'ERROR:\|runtime error:\|FAILED:' "$log" | sed 's/^/    /' >&2
  fi
done
exit $failed
