#!/usr/bin/python3
"""Where an inference workload's time goes, in hush and in ONNX Runtime: per kind of primitive.

hush: hush-bench-peer under oneDNN's verbose mode (DNNL_VERBOSE=1 prints every primitive it runs
with its time). The run is made twice, with 1 and with 1 + R timed iterations after the same
warm-up, and the difference of the per-kind sums divided by R is one iteration's: what only the
first iteration does (weights reordered into oneDNN's layout) cancels out. What oneDNN does not
run (hush's own pooling, additions, the classifier's product) is the iteration's wall time less
oneDNN's.
ONNX Runtime: bench/ort_peer.mjs with its profiler on; the node events of the last R runs,
summed per operator type.

    /usr/bin/python3 bench/profile_inference.py --workload resnet50_fwd_b1 --reps 10
    /usr/bin/python3 bench/profile_inference.py --workload resnet50_fwd_b8 --reps 5 --out /tmp/profile.md

Run it alone on the machine (the times are compared). Prints a markdown table.
"""
import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT = ["node", os.path.join(ROOT, "bench", "ort_peer.mjs")]


def hush_run(hush, workload, reps, warmup, threads):
    """(per-kind oneDNN ms summed over the run, {kind: count}, the JSON record)."""
    env = dict(os.environ, DNNL_VERBOSE="1")
    env.pop("OPENBLAS_CORETYPE", None)
    done = subprocess.run([hush, "--workloads", workload, "--reps", str(reps), "--warmup", str(warmup),
                           "--threads", str(threads)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, check=True)
    ms, count, record = collections.Counter(), collections.Counter(), None
    for line in done.stdout.splitlines():
        if line.startswith("onednn_verbose,exec,"):
            fields = line.split(",")
            kind = fields[3]
            if kind == "convolution" and "attr-post-ops:" in line:
                kind += " + " + re.search(r"attr-post-ops:(\S+)", line).group(1).replace("eltwise_", "")
            if kind == "reorder":
                kind += " (weights)" if re.search(r"dst_f32::blocked:A[a-zA-Z0-9]*16a", line) else " (activations)"
            ms[kind] += float(fields[-1])
            count[kind] += 1
        elif line.startswith("{"):
            record = json.loads(line)
    return ms, count, record


def ort_run(workload, reps, warmup, threads, onnx):
    """{op type: ms per run}, {op type: nodes per run}, median run ms, over the last `reps` runs."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "ort")
        done = subprocess.run(ORT + ["--models", onnx, "--workloads", workload, "--reps", str(reps), "--warmup",
                                     str(warmup), "--threads", str(threads), "--profile", prefix],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
        record = json.loads(done.stdout.splitlines()[-1])
        events = json.load(open(sorted(glob.glob(prefix + "*.json"))[-1]))
    runs = sorted(e["ts"] for e in events if e.get("name") == "model_run")
    first = runs[-reps]
    ms, count = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["ts"] >= first and e["name"].endswith("_kernel_time"):
            ms[e["args"]["op_name"]] += e["dur"] / 1e3 / reps
            count[e["args"]["op_name"]] += 1 / reps
    return ms, count, sorted(record["ms"])[len(record["ms"]) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="resnet50_fwd_b1")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--onnx", default=os.path.join(ROOT, "build", "onnx"))
    parser.add_argument("--hush", default=os.path.join(ROOT, "build", "bin", "hush-bench-peer"),
                        help="the hush-bench-peer to profile (another build's, say)")
    parser.add_argument("--out")
    a = parser.parse_args()

    one, one_count, _ = hush_run(a.hush, a.workload, 1, a.warmup, a.threads)
    many, many_count, record = hush_run(a.hush, a.workload, 1 + a.reps, a.warmup, a.threads)
    # Kinds that only the first iteration runs (the weights' reorders) differ between the two runs
    # by timing noise alone: they are left out.
    hush_count = {k: (many_count[k] - one_count[k]) / a.reps for k in many_count}
    hush_ms = {k: (many[k] - one[k]) / a.reps for k in many if hush_count[k] >= 0.5}
    times = sorted(record["ms"])
    wall = times[len(times) // 2]
    in_dnnl = sum(hush_ms.values())
    ort_ms, ort_count, ort_wall = ort_run(a.workload, a.reps, a.warmup, a.threads, a.onnx)
    in_nodes = sum(ort_ms.values())

    lines = [f"{a.workload}: {a.reps} timed iterations after {a.warmup} warm-up, {a.threads} threads; ms per iteration", "",
             f"hush: median {wall:.2f} ms, of which oneDNN primitives {in_dnnl:.2f} ms", "",
             "| hush: what runs | per iteration | ms | share |", "| --- | ---: | ---: | ---: |"]
    for k in sorted(hush_ms, key=hush_ms.get, reverse=True):
        lines.append(f"| oneDNN {k} | {hush_count[k]:.0f} | {hush_ms[k]:.2f} | {100 * hush_ms[k] / wall:.0f}% |")
    lines.append(f"| hush's own kernels and the rest (wall less oneDNN) | | {wall - in_dnnl:.2f} | "
                 f"{100 * (wall - in_dnnl) / wall:.0f}% |")
    lines += ["", f"ONNX Runtime: median {ort_wall:.2f} ms, of which its nodes {in_nodes:.2f} ms", "",
              "| ONNX Runtime: operator | per iteration | ms | share |", "| --- | ---: | ---: | ---: |"]
    for k in sorted(ort_ms, key=ort_ms.get, reverse=True):
        lines.append(f"| {k} | {ort_count[k]:.0f} | {ort_ms[k]:.2f} | {100 * ort_ms[k] / ort_wall:.0f}% |")
    lines.append(f"| the rest (wall less its nodes) | | {ort_wall - in_nodes:.2f} | {100 * (ort_wall - in_nodes) / ort_wall:.0f}% |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
