#!/usr/bin/python3
"""Two builds of hush on the same work, interleaved in one run: did a change make it faster?

Runs the hush-bench-peer of two build trees (bench/peer.cpp) in alternating rounds and prints a
markdown table of medians with B's speed-up over A (A's median time / B's). Build both first:

    git worktree add ../before <commit> && cmake -S ../before -B ../before/build -DCMAKE_BUILD_TYPE=Release
    cmake --build ../before/build --target hush-bench-peer && cmake --build build --target hush-bench-peer
    bench/ab.py ../before/build/bin/hush-bench-peer build/bin/hush-bench-peer \\
        --workloads resnet50_fwd_b1,resnet50_fwd_b8,resnet50_train_b8,unet_train_b4,disc_train_b8

Never run it while something else uses the cores.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vs_torch import MODELS, listed, run  # noqa: E402  (one way to run a peer program)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the baseline's hush-bench-peer")
    parser.add_argument("b", help="the candidate's hush-bench-peer")
    parser.add_argument("--workloads", help="comma-separated (default: the model workloads)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    a = parser.parse_args()
    for path in (a.a, a.b):
        if not os.access(path, os.X_OK):
            sys.exit(f"ab: {path} is not an executable hush-bench-peer")
    wanted = a.workloads.split(",") if a.workloads else MODELS
    for path in (a.a, a.b):
        missing = [w for w in wanted if w not in listed([path])]
        if missing:
            sys.exit(f"ab: {path} does not know {', '.join(missing)}")

    times = {"A": {}, "B": {}}
    started = time.time()
    for r in range(a.rounds):
        order = [("A", a.a), ("B", a.b)]
        for name, path in order if r % 2 == 0 else order[::-1]:
            print(f"round {r + 1}/{a.rounds}: {name} ({time.time() - started:.0f} s so far)", file=sys.stderr, flush=True)
            for w, rec in run([path], wanted, a.reps, a.warmup, a.threads).items():
                times[name].setdefault(w, []).extend(rec["ms"])

    med = {k: {w: statistics.median(v) for w, v in t.items()} for k, t in times.items()}
    lines = [f"A = {a.a}", f"B = {a.b}", f"{a.rounds} rounds x {a.reps} iterations, {a.threads} threads; medians in ms", "",
             "| workload | A ms | B ms | B speed-up |", "| --- | ---: | ---: | ---: |"]
    for w in wanted:
        lines.append(f"| {w} | {med['A'][w]:.1f} | {med['B'][w]:.1f} | {med['A'][w] / med['B'][w]:.3f}x |")
    lines += ["", f"({time.time() - started:.0f} s in all)"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
