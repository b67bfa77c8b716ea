#!/usr/bin/env python3
"""What data-parallel training would give on 8, 64 and 512 processes (docs/performance.md,
"Training on many processes: a plan"). Pure arithmetic, no dependencies:

    python3 bench/scaling_plan.py

Weak scaling (each process keeps its batch, so its compute per step stays what was measured
here); each step adds, per process:
  * the gradients' all-reduce: S bytes. Large all-reduces in MPI libraries run as a
    reduce-scatter and an all-gather (Rabenseifner): 2 (N-1)/N * S / bandwidth, plus
    2 log2(N) latencies. Bucketed, it can hide behind the backward pass (about two thirds of a
    step) where the network allows; the table gives both ends.
  * batch norm's statistics, forward and backward, and the loss: tiny all-reduces on the
    critical path, latency-bound: 2 log2(N) latencies each (recursive doubling).
The inputs are measured here (compute per step, bytes, batch norm count: see COMPUTE) or are
interconnects' nominal link rates; the latencies are order-of-magnitude MPI small-message
figures for each kind of network (assumed, not measured here).
"""
import math

# name: (compute seconds per step on one process, gradient bytes per step, small all-reduces per step, where measured)
COMPUTE = {
    "ResNet-20, 64 images/process (28x28)": (
        0.152, 272_186 * 4, 2 * 19 + 1,
        "hush-robustness --limit 4096 --batch 64 --threads 1: 9.7 s for 64 steps (session 23, 1 core)"),
    "residual U-Net w32, 8 crops of 64 px/process": (
        0.123, 4_199_171 * 4, 2 * 9 + 1,
        "hush-denoise train --model residual_unet --width 32 --batch 8 --crop 64: 3.6-3.8 s for 30 steps (session 23, 1 core)"),
    "ResNet-50, 8 images/process (224x224)": (
        0.80, 25_557_032 * 4, 2 * 53 + 1,
        "docs/performance.md: the training step at batch 8, 769-814 ms on 2 threads (commit 0155eae)"),
}
# name: (bytes per second, seconds of latency per message)
NETWORKS = {
    "10 Gb Ethernet (TCP)": (1.25e9, 25e-6),
    "InfiniBand EDR 100 Gb/s": (12.5e9, 1.5e-6),
    "InfiniBand HDR 200 Gb/s": (25e9, 1.0e-6),
}
PROCESSES = (2, 8, 64, 512)
BACKWARD_SHARE = 2 / 3  # of a step: what a bucketed all-reduce can hide behind at best


def step(compute, grad_bytes, smalls, n, bandwidth, latency):
    hops = math.ceil(math.log2(n))
    grad = 2 * (n - 1) / n * grad_bytes / bandwidth + 2 * hops * latency
    small = smalls * 2 * hops * latency
    no_overlap = compute + small + grad
    overlapped = compute + small + max(0.0, grad - BACKWARD_SHARE * compute)
    return grad, small, no_overlap, overlapped


# Strong scaling: one global batch shared by more processes, so each computes less. Compute
# per image taken as constant (optimistic: small batches use a core less well).
GLOBAL_BATCH = {"ResNet-20, 64 images/process (28x28)": (64, 512), "residual U-Net w32, 8 crops of 64 px/process": (8, 64),
                "ResNet-50, 8 images/process (224x224)": (8, 256)}


def strong(workload, compute, grad_bytes, smalls):
    per_process, batch = GLOBAL_BATCH[workload]
    print(f"Strong scaling, a global batch of {batch}: compute per process {compute / per_process * 1e3:.1f} ms per image; "
          "the first process count at which communication (gradients + batch norm, no overlap) exceeds compute:\n")
    print("| network | processes where communication > compute | images per process there | speed-up there over one process |")
    print("| --- | ---: | ---: | ---: |")
    for network, (bandwidth, latency) in NETWORKS.items():
        n = 1
        while n * 2 <= batch:
            n *= 2
            c = compute * (batch / n) / per_process
            grad, small, plain, _ = step(c, grad_bytes, smalls, n, bandwidth, latency)
            if grad + small > c:
                one = compute * batch / per_process
                print(f"| {network} | {n} | {batch // n} | {one / plain:.1f}x |")
                break
        else:
            print(f"| {network} | beyond {n} (one image each) | - | - |")
    print()


def main():
    for workload, (compute, grad_bytes, smalls, where) in COMPUTE.items():
        print(f"### {workload}")
        print(f"compute {compute * 1e3:.0f} ms per step ({where}); gradients {grad_bytes / 1e6:.1f} MB; "
              f"{smalls} small all-reduces per step\n")
        print("| network | processes | gradient all-reduce (ms) | batch norm + loss (ms) | efficiency, no overlap | "
              "efficiency, all-reduce hidden behind backward |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for network, (bandwidth, latency) in NETWORKS.items():
            for n in PROCESSES:
                grad, small, plain, hidden = step(compute, grad_bytes, smalls, n, bandwidth, latency)
                flag = " (all-reduce > compute)" if grad > compute else ""
                print(f"| {network} | {n} | {grad * 1e3:.1f}{flag} | {small * 1e3:.2f} | {compute / plain:.0%} | {compute / hidden:.0%} |")
        print()
        strong(workload, compute, grad_bytes, smalls)


if __name__ == "__main__":
    main()
