#!/usr/bin/env bash
# Data-parallel scaling and communication (docs/distributed.md, session 23): ResNet-20 strong and
# weak scaling with 1 and 2 processes and 1 or 2 threads, three gradient bucket sizes, and seed
# 001's U-Net through hush-denoise train. Needs a Release build in build/, results/photos
# (scripts/photos) and an idle machine; prints each run's epoch and communication lines.
#   bash bench/distributed_scaling.sh
set -uo pipefail
out=${OUT:-/tmp/hush-scaling}  # the runs' logs and output folders
mkdir -p "$out"
cd "$(dirname "$0")/.."
B=build/bin
MPI=(mpirun --allow-run-as-root --oversubscribe --bind-to core -np 2)
R=(--test-limit 200 --epochs 1 --regimes clean --data /usr/share/datasets/fashion-mnist)
line() { grep -E "clean epoch 1: (test|communication)" "$1" | sed 's/^.*clean epoch 1: //' ; }
run() { local name=$1; shift; "$@" >"$out/$name.log" 2>&1; echo "== $name"; line "$out/$name.log"; }
for rep in 1 2; do
  # strong scaling: global batch 128, 8192 images (64 steps)
  run strong-1p1t-$rep $B/hush-robustness "${R[@]}" --limit 8192 --batch 128 --threads 1 --out $out/o1
  run strong-1p2t-$rep $B/hush-robustness "${R[@]}" --limit 8192 --batch 128 --threads 2 --out $out/o2
  run strong-2p-b4-$rep "${MPI[@]}" $B/hush-robustness "${R[@]}" --limit 8192 --batch 128 --threads 1 --out $out/o3
  run strong-2p-b0-$rep "${MPI[@]}" $B/hush-robustness "${R[@]}" --limit 8192 --batch 128 --threads 1 --bucket-mb 0 --out $out/o4
  run strong-2p-b025-$rep "${MPI[@]}" $B/hush-robustness "${R[@]}" --limit 8192 --batch 128 --threads 1 --bucket-mb 0.25 --out $out/o5
  # weak scaling: 64 images per process per step, 64 steps
  run weak-1p-$rep $B/hush-robustness "${R[@]}" --limit 4096 --batch 64 --threads 1 --out $out/o6
  run weak-2p-$rep "${MPI[@]}" $B/hush-robustness "${R[@]}" --limit 8192 --batch 128 --threads 1 --out $out/o7
  # weak scaling at a small shard: 16 images per process per step
  run weak16-1p-$rep $B/hush-robustness "${R[@]}" --limit 1024 --batch 16 --threads 1 --out $out/o8
  run weak16-2p-$rep "${MPI[@]}" $B/hush-robustness "${R[@]}" --limit 2048 --batch 32 --threads 1 --out $out/o9
done
# the U-Net denoiser (seed 001's residual U-Net, width 32), 30 steps of 8 crops of 64 px
D=(train --train results/photos/train --val results/photos/val --model residual_unet --width 32 --epochs 1 --steps 30 --batch 8 --crop 64 --noise seed001)
dline() { grep -E "epoch 1: (validation|communication)" "$1" | sed 's/^.*epoch 1: //'; }
drun() { local name=$1; shift; "$@" >"$out/$name.log" 2>&1; echo "== $name"; dline "$out/$name.log"; }
for rep in 1 2; do
  rm -rf $out/d1 $out/d2 $out/d3
  OMP_NUM_THREADS=1 drun unet-1p1t-$rep $B/hush-denoise "${D[@]}" --out $out/d1
  OMP_NUM_THREADS=1 drun unet-2p-$rep "${MPI[@]}" -x OMP_NUM_THREADS=1 $B/hush-denoise "${D[@]}" --out $out/d2
  OMP_NUM_THREADS=1 drun unet-2p-b0-$rep "${MPI[@]}" -x OMP_NUM_THREADS=1 $B/hush-denoise "${D[@]}" --bucket-mb 0 --out $out/d3
done
