#!/usr/bin/env bash
# What a network type costs the compiler: wall time and peak memory of g++ compiling one
# translation unit at -O2 (/usr/bin/time -v), against issue 6's budgets: ResNet-50 30 s and
# 1.5 GB, a small network 10 s (and, not in the issue, 1 GB). The budgets apply to the network
# programs in this folder (a training step and an inference, nothing else); the examples users
# compile are measured beside them, with CLI11 alone, which they also include, for scale.
# Prints a table; exits 1 when a budgeted figure exceeds its budget by more than 50% (the CI
# gate: machines vary, a real regression does not hide in 50%).
#   bench/compile_cost/run.sh            (from any directory; needs scripts/setup's packages)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
opencv=$(pkg-config --cflags-only-I opencv4)
flags=(-std=c++20 -O2 -fopenmp -I"$root/include" -DHUSH_WITH_DNNL=1 ${opencv//-I/-isystem } -c -o /dev/null)
# name | source | budget seconds | budget MB (empty: measured, not budgeted)
cases=(
  "ResNet-50: step + inference|bench/compile_cost/resnet50.cpp|30|1536"
  "small network: step + inference|bench/compile_cost/small_network.cpp|10|1024"
  "ResNet-50 example|examples/resnet50.cpp||"
  "Fashion-MNIST example|examples/train_fashion_mnist.cpp||"
  "CLI11 alone (3 options)|bench/compile_cost/cli11.cpp||"
)
status=0
echo "| translation unit | seconds | budget | peak MB | budget | verdict |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for c in "${cases[@]}"; do
  IFS='|' read -r name source budget_s budget_mb <<<"$c"
  log=$(mktemp)
  if ! /usr/bin/time -v g++ "${flags[@]}" "$root/$source" 2>"$log"; then
    cat "$log" >&2; rm -f "$log"
    echo "compile_cost: g++ failed on $source (output above)" >&2; exit 1
  fi
  seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + t[i]; print s}' "$log")
  mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$log")
  rm -f "$log"
  verdict="measured"
  if [[ -n $budget_s ]]; then
    verdict=$(awk -v s="$seconds" -v bs="$budget_s" -v m="$mb" -v bm="$budget_mb" 'BEGIN {
      if (s > 1.5 * bs || m > 1.5 * bm) print "OVER BUDGET by more than 50%";
      else if (s > bs || m > bm) print "over budget (within the 50% margin)";
      else print "within budget" }')
  fi
  [[ $verdict == OVER* ]] && status=1
  echo "| $name (\`$source\`) | $seconds | ${budget_s:--} | $mb | ${budget_mb:--} | $verdict |"
done
exit $status
