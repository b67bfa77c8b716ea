#!/usr/bin/env bash
# Fuzzing (issue 15): builds each libFuzzer harness of fuzz/ with clang (-fsanitize=fuzzer,
# address,undefined) and runs it for HUSH_FUZZ_SECONDS seconds (default 15) from a copy of its
# committed seed corpus (fuzz/corpus/<harness>/; the checkpoint harness writes its own seed).
# Exits 1 on a finding, which libFuzzer saves as build-fuzz/findings/<harness>/crash-*: add it to
# tests/hardening.cpp as a regression test, and to the seed corpus.
#   fuzz/run.sh                       # every harness
#   HUSH_FUZZ_SECONDS=300 fuzz/run.sh safetensors idx
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${HUSH_FUZZ_SECONDS:-15}
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(safetensors idx noise_spec checkpoint image)
out=build-fuzz
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -I/usr/include/opencv4)
libs=(-lz -lopencv_imgcodecs -lopencv_imgproc -lopencv_core -fopenmp -lopenblas)

# Build side by side, two at a time.
printf '%s\n' "${harnesses[@]}" | xargs -P "${HUSH_JOBS:-2}" -I{} sh -c \
  'clang++ "$@" fuzz/{}.cpp -o '"$out"'/fuzz-{} '"${libs[*]}"' || { echo "fuzz: building {} failed" >&2; exit 255; }' _ "${flags[@]}"
# Run two at a time (one per core), then report in order.
run_one() {
  local h=$1 corpus=$scratch/corpus-$1
  mkdir -p "$corpus" "$out/findings/$h"
  [[ -d fuzz/corpus/$h ]] && cp fuzz/corpus/"$h"/* "$corpus"/
  HUSH_FUZZ_DIR=$scratch HUSH_FUZZ_SEED_DIR=$corpus OMP_NUM_THREADS=1 OPENCV_LOG_LEVEL=SILENT \
    "$out/fuzz-$h" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/findings/$h/" "$corpus" >"$scratch/$h.log" 2>&1
  echo $? >"$scratch/$h.status"
}
export -f run_one
export out scratch seconds
printf '%s\n' "${harnesses[@]}" | xargs -P "${HUSH_JOBS:-2}" -I{} bash -c 'run_one {}'
status=0
for h in "${harnesses[@]}"; do
  if [[ $(cat "$scratch/$h.status") == 0 ]]; then
    runs=$(grep -oE 'Done [0-9]+ runs' "$scratch/$h.log" | grep -oE '[0-9]+' || echo "?")
    echo "fuzz $h: $runs runs in $seconds s, nothing found"
  else
    echo "fuzz $h: FOUND something (input in $out/findings/$h/):"
    grep -m 30 -E "ERROR|SUMMARY|not a hush::error|Test unit written|#[0-9]+ 0x" "$scratch/$h.log" || true
    status=1
  fi
done
exit $status
