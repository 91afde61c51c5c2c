#!/usr/bin/env bash
# Hardening runs, part of the README's test command (scripts/test.sh):
#  1. the whole test suite built with clang, AddressSanitizer and
#     UndefinedBehaviorSanitizer (PIXELWISE_SANITIZE; any report fails a test);
#  2. every libFuzzer target of fuzz/ for PIXELWISE_FUZZ_SECONDS (default 20)
#     from a seed corpus written by fuzz_seeds; a crash leaves its input in
#     <build>/fuzz-artifacts/<target>/ and fails the run (turn it into a case of
#     tests/test_fuzz_regressions.cpp once fixed); the seed is fixed
#     (PIXELWISE_FUZZ_SEED, default 1).
# Both use one build tree, PIXELWISE_ASAN_BUILD_DIR (default build-asan).
# The Python module is not built there: an ASan-instrumented extension cannot
# be loaded by the uninstrumented interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${PIXELWISE_ASAN_BUILD_DIR:-$root/build-asan}
jobs=${PIXELWISE_JOBS:-$(nproc)}
seconds=${PIXELWISE_FUZZ_SECONDS:-20}
# A fixed libFuzzer seed: a run explores the same inputs in the same order,
# so a CI failure can be reproduced (PIXELWISE_FUZZ_SEED=0 lets libFuzzer pick).
fuzz_seed=${PIXELWISE_FUZZ_SEED:-1}

CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPIXELWISE_FUZZ=ON -DPIXELWISE_PYTHON=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"

echo "== fuzzing every parser of outside data, ${seconds} s each"
corpus=$build_dir/fuzz-corpus
rm -rf "$corpus"
"$build_dir/fuzz/fuzz_seeds" "$corpus/seeds" "$root"
failed=()
for target in npy libsvm_model config model_dir idx toolbox image; do
  mkdir -p "$corpus/work/$target" "$build_dir/fuzz-artifacts/$target"
  if ! "$build_dir/fuzz/fuzz_$target" "$corpus/work/$target" "$corpus/seeds/$target" \
      -max_total_time="$seconds" -seed="$fuzz_seed" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -artifact_prefix="$build_dir/fuzz-artifacts/$target/" -print_final_stats=1 \
      > "$build_dir/fuzz-artifacts/$target/log.txt" 2>&1; then
    failed+=("$target")
    tail -n 40 "$build_dir/fuzz-artifacts/$target/log.txt"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build_dir/fuzz-artifacts/$target/log.txt" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz_$target: $runs inputs"
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build_dir/fuzz-artifacts)" >&2
  exit 1
fi
echo "== hardening passed"
