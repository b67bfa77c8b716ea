#!/usr/bin/env bash
# ResNet-20 training step (batch 128, 28x28 Fashion-MNIST, SGD with Nesterov momentum), hush
# against PyTorch (Debian's python3-torch, 2 threads), interleaved in one run: ROUNDS rounds of
# STEPS steps each, alternating. Prints each median and the ratio of the medians.
#   bench/resnet20_vs_torch.sh [ROUNDS] [STEPS]        (after scripts/test or scripts/demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} steps=${2:-15}
hush_ms=() torch_ms=()
for ((r = 1; r <= rounds; ++r)); do
  h=$("$root/build/bin/hush-robustness" --time-steps "$steps" --threads 2)
  t=$(/usr/bin/python3 "$root/scripts/torch_robustness.py" --time-steps "$steps" --threads 2)
  echo "$h"; echo "$t"
  hush_ms+=("$(sed -E 's/.*median ([0-9.]+) ms.*/\1/' <<<"$h")")
  torch_ms+=("$(sed -E 's/.*median ([0-9.]+) ms.*/\1/' <<<"$t")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
hm=$(median "${hush_ms[@]}") tm=$(median "${torch_ms[@]}")
echo "median of $rounds rounds: hush $hm ms, torch $tm ms per step; hush/torch time $(awk -v a="$hm" -v b="$tm" 'BEGIN {printf "%.2f", a / b}')"
