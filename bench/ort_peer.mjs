#!/usr/bin/env node
// ONNX Runtime side of bench/vs_torch.py: the inference workloads of bench/peer.cpp (same names,
// same shapes) through onnxruntime-node (CPU execution provider, fp32, every graph optimisation,
// T intra-op threads), on the models bench/export_onnx.py wrote. Prints one JSON line per
// workload, as bench/torch_peer.py does:
//   {"framework": "onnxruntime", "workload": NAME, "ms": [...], "peak_rss_mb": X, "baseline_rss_mb": B}
//
//   (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci)        # once: onnxruntime-node, CPU only
//   node bench/ort_peer.mjs --models build/onnx --workloads resnet50_fwd_b1 --reps 5 --warmup 2 --threads 2
import ort from "onnxruntime-node";
import { parseArgs } from "node:util";
import path from "node:path";

const workloads = {
  resnet50_fwd_b1: ["resnet50.onnx", [1, 3, 224, 224]],
  resnet50_fwd_b8: ["resnet50.onnx", [8, 3, 224, 224]],
  resnet50_fwd_b32_64: ["resnet50.onnx", [32, 3, 64, 64]],
  unet_fwd_b4: ["unet.onnx", [4, 3, 256, 256]],
};

const { values: a } = parseArgs({
  options: {
    workloads: { type: "string", default: "" },
    reps: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    threads: { type: "string", default: "2" },
    models: { type: "string", default: path.join("build", "onnx") },
    list: { type: "boolean", default: false },
    // ONNX Runtime's own profile (a JSON trace of every node's run) written to PREFIX_<date>.json
    // when the session is released: what bench/profile_inference.py reads.
    profile: { type: "string", default: "" },
  },
});
if (a.list) {
  for (const name of Object.keys(workloads)) console.log(name);
  process.exit(0);
}
const names = a.workloads.split(",").filter((n) => n);
const unknown = names.filter((n) => !(n in workloads));
if (unknown.length || !names.length) {
  console.error(`ort_peer: unknown or no workloads: ${unknown.join(", ")} (known: ${Object.keys(workloads).join(", ")})`);
  process.exit(2);
}
const rssMb = () => process.resourceUsage().maxRSS / 1024;  // kB -> MB, the process's high-water mark
const baseline = rssMb();
console.error(`[onnxruntime] ${ort.env.versions.node}, threads ${a.threads}, baseline rss ${baseline.toFixed(1)} MB`);
for (const name of names) {
  const [file, shape] = workloads[name];
  const session = await ort.InferenceSession.create(path.join(a.models, file), {
    executionProviders: ["cpu"],
    intraOpNumThreads: Number(a.threads),
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    ...(a.profile ? { enableProfiling: true, profileFilePrefix: a.profile } : {}),
  });
  const count = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = Math.random();
  const feeds = { x: new ort.Tensor("float32", data, shape) };
  for (let i = 0; i < Number(a.warmup); ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < Number(a.reps); ++i) {
    const start = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - start);
  }
  console.log(JSON.stringify({ framework: "onnxruntime", workload: name, ms, peak_rss_mb: rssMb(), baseline_rss_mb: baseline }));
  console.error(`[onnxruntime] ${name}: median ${ms.slice().sort((x, y) => x - y)[Math.floor(ms.length / 2)].toFixed(3)} ms`);
  await session.release();
}
