#!/usr/bin/python3
"""hush against PyTorch on the same work, interleaved in one run (issue 6's harness).

Runs build/bin/hush-bench-peer (bench/peer.cpp) and bench/torch_peer.py (Debian's python3-torch)
in alternating rounds on the same workloads, then prints one markdown table of medians: time per
iteration, hush's speed-up over PyTorch (PyTorch's median time / hush's), GFLOP/s where the work
is a single convolution or product, and the share of the machine's fp32 peak (measured by
hush-bench-peer's fma_peak workload). With --memory it also runs each model workload alone in a
fresh process of each framework and compares their peak resident memory.

    bench/vs_torch.py                          # everything: about 15 minutes on 2 cores
    bench/vs_torch.py --rounds 1 --reps 2 --workloads resnet50_fwd_b1,conv_l1_3x3_64
    bench/vs_torch.py --memory --out /tmp/perf.md

Never run it while something else uses the cores: the two programs are compared, not timed alone.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HUSH = os.path.join(ROOT, "build", "bin", "hush-bench-peer")
TORCH = [sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3",
         os.path.join(ROOT, "bench", "torch_peer.py")]
MODELS = ["resnet50_fwd_b1", "resnet50_fwd_b8", "resnet50_fwd_b32_64", "resnet50_train_b8",
          "unet_fwd_b4", "unet_train_b4", "disc_train_b8", "gan_train_b8", "vit_b16_fwd_b8", "mae_train_b64"]
SGEMM = ["sgemm_1024", "sgemm_2048"]


def run(command, workloads, reps, warmup, threads):
    """Runs one peer program on the workloads; returns {workload: record}."""
    args = command + ["--workloads", ",".join(workloads), "--reps", str(reps), "--warmup", str(warmup),
                      "--threads", str(threads)]
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"vs_torch: {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return {r["workload"]: r for r in map(json.loads, done.stdout.splitlines())}


def listed(command):
    done = subprocess.run(command + ["--list"], stdout=subprocess.PIPE, text=True, check=True)
    return done.stdout.split()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", help="comma-separated (default: every workload both sides know)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of both programs")
    parser.add_argument("--reps", type=int, default=3, help="timed iterations per workload and round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory", action="store_true", help="also compare peak memory, one process per model workload")
    parser.add_argument("--out", help="also write the tables to this markdown file")
    a = parser.parse_args()
    if not os.access(HUSH, os.X_OK):
        sys.exit(f"vs_torch: {HUSH} is missing: build it first (scripts/test, or cmake --build build --target hush-bench-peer)")

    hush_names, torch_names = listed([HUSH]), listed(TORCH)
    shared = [w for w in hush_names if w in torch_names]
    wanted = a.workloads.split(",") if a.workloads else MODELS + [w for w in shared if w.startswith("conv_")] + SGEMM
    unknown = [w for w in wanted if w not in shared]
    if unknown:
        sys.exit(f"vs_torch: not known to both programs: {', '.join(unknown)}")
    extra = ["fma_peak"] + [f"dnnl_{w}" for w in wanted if w.startswith("sgemm_") and f"dnnl_{w}" in hush_names]

    times = {"hush": {}, "torch": {}}
    flop = {}
    started = time.time()
    for r in range(a.rounds):
        # Alternate who goes first, so neither always runs on a machine warmed by the other.
        order = [("hush", [HUSH]), ("torch", TORCH)]
        for name, command in order if r % 2 == 0 else order[::-1]:
            work = wanted + extra if name == "hush" else wanted
            print(f"round {r + 1}/{a.rounds}: {name} ({len(work)} workloads, {time.time() - started:.0f} s so far)",
                  file=sys.stderr, flush=True)
            for w, rec in run(command, work, a.reps, a.warmup, a.threads).items():
                times[name].setdefault(w, []).extend(rec["ms"])
                if "flop" in rec:
                    flop[w] = rec["flop"]

    med = {k: {w: statistics.median(v) for w, v in t.items()} for k, t in times.items()}
    gflops = lambda w, ms: flop[w] / ms / 1e6 if w in flop else None
    peak = gflops("fma_peak", med["hush"]["fma_peak"])
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    lines = [f"fp32 peak of the cores in use (fma_peak): {peak:.0f} GFLOP/s; {a.rounds} rounds x {a.reps} "
             f"iterations, {a.threads} threads; medians in ms; OPENBLAS_CORETYPE "
             f"{'=' + coretype if coretype else 'unset'}", "",
             "| workload | hush ms | PyTorch ms | hush speed-up | hush GFLOP/s | % of peak | PyTorch GFLOP/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for w in wanted:
        h, t = med["hush"][w], med["torch"][w]
        hg, tg = gflops(w, h), gflops(w, t)
        cells = [w, f"{h:.2f}", f"{t:.2f}", f"{t / h:.2f}x",
                 f"{hg:.0f}" if hg else "", f"{100 * hg / peak:.0f}%" if hg else "", f"{tg:.0f}" if tg else ""]
        lines.append("| " + " | ".join(cells) + " |")
    for w in wanted:
        if w.startswith("sgemm_") and f"dnnl_{w}" in med["hush"]:
            rates = {"hush's GEMM path": gflops(w, med["hush"][w]), "PyTorch torch.mm": gflops(w, med["torch"][w]),
                     "oneDNN dnnl_sgemm": gflops(f"dnnl_{w}", med["hush"][f"dnnl_{w}"])}
            best = max(rates, key=rates.get)
            lines.append("")
            lines.append(f"{w}: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in rates.items()) +
                         f"; hush's path is {100 * rates[next(iter(rates))] / rates[best]:.0f}% of the best ({best})")
    if a.memory:
        lines += ["", "Peak resident memory, each model workload alone in a fresh process (1 warm-up, 1 timed):", "",
                  "| workload | hush MB | PyTorch MB | hush/PyTorch | hush above start | PyTorch above start |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for w in [m for m in wanted if m in MODELS]:
            print(f"memory: {w}", file=sys.stderr, flush=True)
            h = run([HUSH], [w], 1, 1, a.threads)[w]
            t = run(TORCH, [w], 1, 1, a.threads)[w]
            lines.append(f"| {w} | {h['peak_rss_mb']:.0f} | {t['peak_rss_mb']:.0f} | "
                         f"{h['peak_rss_mb'] / t['peak_rss_mb']:.2f} | {h['peak_rss_mb'] - h['baseline_rss_mb']:.0f} | "
                         f"{t['peak_rss_mb'] - t['baseline_rss_mb']:.0f} |")
    lines += ["", f"({time.time() - started:.0f} s in all)"]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
