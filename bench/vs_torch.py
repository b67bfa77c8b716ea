#!/usr/bin/python3
"""hush against the peers a user would pick, on the same work, interleaved in one run.

Runs build/bin/hush-bench-peer (bench/peer.cpp) and its peers in alternating rounds on the same
workloads, then prints one markdown table of medians: time per iteration for each, the best peer
per workload, hush's speed-up over it (its median time / hush's), GFLOP/s where the work is a
single convolution or product, and the share of the machine's fp32 peak (measured by
hush-bench-peer's fma_peak workload). The peers:
  torch        Debian's PyTorch as it comes: eager, NCHW (bench/torch_peer.py)
  torch-tuned  the same, tuned as a practitioner would on a CPU: channels_last, and ResNet-50 and
               U-Net inference TorchScript-traced, frozen and optimised (torch_peer.py --mode tuned)
  onnxruntime  ONNX Runtime (npm's onnxruntime-node, CPU, fp32) on the inference workloads, with
               the models bench/export_onnx.py wrote (bench/ort_peer.mjs)
OpenVINO's npm package (openvino-node) downloads its runtime from storage.openvinotoolkit.org at
install, which this machine cannot reach: it is not a peer here. With --bf16 hush runs its
inference convolutions in bf16 (cpu_precision::bf16) and both PyTorch peers run under CPU
autocast to bf16 (torch_peer.py --bf16); ONNX Runtime stays fp32. With --memory each model
workload also runs alone in a fresh process of each program, and their peak resident memory is
compared.

    (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci)      # once, for the onnxruntime peer
    /usr/bin/python3 bench/export_onnx.py build/onnx           # once
    bench/vs_torch.py                          # everything: about 30 minutes on 2 cores
    bench/vs_torch.py --rounds 1 --reps 2 --workloads resnet50_fwd_b1,conv_l1_3x3_64 --peers torch-tuned
    bench/vs_torch.py --memory --out /tmp/perf.md
    bench/vs_torch.py --bf16 --workloads resnet50_fwd_b1,resnet50_fwd_b8,unet_fwd_b4

Never run it while something else uses the cores: the programs are compared, not timed alone.
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
PYTHON = sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3"
TORCH = [PYTHON, os.path.join(ROOT, "bench", "torch_peer.py")]
ORT = ["node", os.path.join(ROOT, "bench", "ort_peer.mjs")]
PEER_TITLES = {"torch": "PyTorch", "torch-tuned": "PyTorch tuned", "onnxruntime": "ONNX Runtime"}
MODELS = ["resnet50_fwd_b1", "resnet50_fwd_b8", "resnet50_fwd_b32_64", "resnet50_train_b8",
          "unet_fwd_b4", "unet_train_b4", "disc_train_b8", "gan_train_b8", "vit_b16_fwd_b8", "mae_train_b64"]
SGEMM = ["sgemm_1024", "sgemm_2048"]


def run(command, workloads, reps, warmup, threads):
    """Runs one peer program on the workloads; returns {workload: record}."""
    args = command + ["--workloads", ",".join(workloads), "--reps", str(reps), "--warmup", str(warmup),
                      "--threads", str(threads)]
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode == 77:  # hush-bench-peer --bf16 on a CPU without native bf16
        sys.exit(f"vs_torch: skipped: {done.stderr.strip()}")
    if done.returncode != 0:
        sys.exit(f"vs_torch: {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return {r["workload"]: r for r in map(json.loads, done.stdout.splitlines())}


def listed(command):
    done = subprocess.run(command + ["--list"], stdout=subprocess.PIPE, text=True, check=True)
    return done.stdout.split()


def peer_commands(names, onnx_dir, bf16):
    autocast = ["--bf16"] if bf16 else []
    commands = {"torch": TORCH + autocast, "torch-tuned": TORCH + ["--mode", "tuned"] + autocast,
                "onnxruntime": ORT + ["--models", onnx_dir]}
    unknown = [n for n in names if n not in commands]
    if unknown:
        sys.exit(f"vs_torch: unknown peer(s) {', '.join(unknown)} (torch, torch-tuned, onnxruntime)")
    if "onnxruntime" in names:
        if not os.path.isdir(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node")):
            sys.exit("vs_torch: the onnxruntime peer needs onnxruntime-node: (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci)")
        if not os.path.exists(os.path.join(onnx_dir, "resnet50.onnx")):
            sys.exit(f"vs_torch: no ONNX models in {onnx_dir}: /usr/bin/python3 bench/export_onnx.py {onnx_dir}")
    return {n: commands[n] for n in names}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", help="comma-separated (default: every workload hush and PyTorch know)")
    parser.add_argument("--peers", default="torch,torch-tuned,onnxruntime", help="comma-separated peers")
    parser.add_argument("--onnx", default=os.path.join(ROOT, "build", "onnx"), help="bench/export_onnx.py's folder")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of all programs")
    parser.add_argument("--reps", type=int, default=3, help="timed iterations per workload and round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory", action="store_true", help="also compare peak memory, one process per model workload")
    parser.add_argument("--out", help="also write the tables to this markdown file")
    parser.add_argument("--bf16", action="store_true",
                        help="inference in bf16: hush-bench-peer --bf16 against PyTorch under CPU autocast (ONNX Runtime stays fp32)")
    a = parser.parse_args()
    if not os.access(HUSH, os.X_OK):
        sys.exit(f"vs_torch: {HUSH} is missing: build it first (scripts/test, or cmake --build build --target hush-bench-peer)")

    peers = peer_commands(a.peers.split(","), a.onnx, a.bf16)
    hush_names = listed([HUSH])
    peer_names = {p: set(listed(c)) for p, c in peers.items()}
    torch_names = listed(TORCH)
    shared = [w for w in hush_names if w in torch_names]
    wanted = a.workloads.split(",") if a.workloads else MODELS + [w for w in shared if w.startswith("conv_")] + SGEMM
    unknown = [w for w in wanted if w not in hush_names or not any(w in n for n in peer_names.values())]
    if unknown:
        sys.exit(f"vs_torch: not known to hush and a peer: {', '.join(unknown)}")
    extra = ["fma_peak"] + [f"dnnl_{w}" for w in wanted if w.startswith("sgemm_") and f"dnnl_{w}" in hush_names]

    programs = [("hush", [HUSH] + (["--bf16"] if a.bf16 else []))] + list(peers.items())
    times = {name: {} for name, _ in programs}
    flop = {}
    started = time.time()
    for r in range(a.rounds):
        # Rotate who goes first, so no program always runs on a machine warmed by another.
        for name, command in programs[r % len(programs):] + programs[:r % len(programs)]:
            work = wanted + extra if name == "hush" else [w for w in wanted if w in peer_names[name]]
            if not work:
                continue
            print(f"round {r + 1}/{a.rounds}: {name} ({len(work)} workloads, {time.time() - started:.0f} s so far)",
                  file=sys.stderr, flush=True)
            for w, rec in run(command, work, a.reps, a.warmup, a.threads).items():
                times[name].setdefault(w, []).extend(rec["ms"])
                if "flop" in rec:
                    flop[w] = rec["flop"]

    med = {k: {w: statistics.median(v) for w, v in t.items()} for k, t in times.items()}
    gflops = lambda w, ms: flop[w] / ms / 1e6 if w in flop else None  # noqa: E731
    peak = gflops("fma_peak", med["hush"]["fma_peak"])
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    titles = [PEER_TITLES[p] + (" bf16" if a.bf16 and p != "onnxruntime" else "") for p in peers]
    lines = [f"fp32 peak of the cores in use (fma_peak): {peak:.0f} GFLOP/s; {a.rounds} rounds x {a.reps} "
             f"iterations, {a.threads} threads; medians in ms; OPENBLAS_CORETYPE "
             f"{'=' + coretype if coretype else 'unset'}" +
             ("; inference in bf16 (hush --bf16, PyTorch under CPU autocast; ONNX Runtime fp32)" if a.bf16 else ""), "",
             "| workload | hush ms | " + " | ".join(f"{t} ms" for t in titles) +
             " | best peer | hush speed-up over it | hush GFLOP/s | % of peak |",
             "| --- | ---: | " + " | ".join("---:" for _ in titles) + " | --- | ---: | ---: | ---: |"]
    for w in wanted:
        h = med["hush"][w]
        theirs = {p: med[p][w] for p in peers if w in med[p]}
        best = min(theirs, key=theirs.get)
        hg = gflops(w, h)
        cells = ([w, f"{h:.2f}"] + [f"{theirs[p]:.2f}" if p in theirs else "—" for p in peers] +
                 [titles[list(peers).index(best)], f"{theirs[best] / h:.2f}x", f"{hg:.0f}" if hg else "",
                  f"{100 * hg / peak:.0f}%" if hg else ""])
        lines.append("| " + " | ".join(cells) + " |")
    for w in wanted:
        if w.startswith("sgemm_") and f"dnnl_{w}" in med["hush"] and w in med.get("torch", {}):
            rates = {"hush's GEMM path": gflops(w, med["hush"][w]), "PyTorch torch.mm": gflops(w, med["torch"][w]),
                     "oneDNN dnnl_sgemm": gflops(f"dnnl_{w}", med["hush"][f"dnnl_{w}"])}
            best = max(rates, key=rates.get)
            lines.append("")
            lines.append(f"{w}: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in rates.items()) +
                         f"; hush's path is {100 * rates[next(iter(rates))] / rates[best]:.0f}% of the best ({best})")
    if a.memory:
        lines += ["", "Peak resident memory in MB, each model workload alone in a fresh process (1 warm-up, 1 timed):", "",
                  "| workload | hush | " + " | ".join(titles) + " | hush / the least of the peers |",
                  "| --- | ---: | " + " | ".join("---:" for _ in titles) + " | ---: |"]
        for w in [m for m in wanted if m in MODELS]:
            print(f"memory: {w}", file=sys.stderr, flush=True)
            h = run(programs[0][1], [w], 1, 1, a.threads)[w]["peak_rss_mb"]
            theirs = {p: run(c, [w], 1, 1, a.threads)[w]["peak_rss_mb"] for p, c in peers.items() if w in peer_names[p]}
            least = min(theirs.values())
            lines.append(f"| {w} | {h:.0f} | " + " | ".join(f"{theirs[p]:.0f}" if p in theirs else "—" for p in peers) +
                         f" | {h / least:.2f} |")
    lines += ["", f"({time.time() - started:.0f} s in all)"]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
