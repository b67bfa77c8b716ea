// hush's side of the comparison with PyTorch (bench/torch_peer.py runs the same workloads, by the
// same names; bench/vs_torch.py runs both, interleaved, and prints the table). One JSON line per
// workload on stdout:
//   {"framework": "hush", "workload": NAME, "ms": [...], "peak_rss_mb": X, "baseline_rss_mb": B}
// plus "flop" for the convolutions and products. Workloads (shapes as in torch_peer.py):
//   resnet50_fwd_b1, resnet50_fwd_b8   ResNet-50 eval forward, 224×224
//   resnet50_fwd_b32_64                ResNet-50 eval forward, batch 32 at 64×64
//   resnet50_train_b8                  forward, cross-entropy, backward, SGD (momentum 0.9)
//   unet_fwd_b4, unet_train_b4         Noise2Noise U-Net at 256×256; MSE and Adam
//   disc_train_b8                      DCGAN discriminator at 256×256; BCE with logits and Adam
//   gan_train_b8                       seed 001's GAN step at 256×256 (model_workloads.hpp's gan_step)
//   conv_<name>                        each of ResNet-50's 23 convolutions alone, forward, batch 8
//   sgemm_1024, sgemm_2048             hush's GEMM path (backend::gemm) on square matrices
//   dnnl_sgemm_1024, dnnl_sgemm_2048   oneDNN's sgemm, a candidate for the machine's best
//   fma_peak                           the cores' fp32 ceiling: chains of vector FMAs
//
//   build/bin/hush-bench-peer --workloads resnet50_fwd_b8,conv_l1_3x3_64 --reps 5
// --bf16 runs the inference convolutions in bf16 (backend/cpu/tag.hpp's cpu_precision); on a CPU
// without native bf16 it prints why and exits with 77 (skipped). --direct keeps the fp32 inference
// convolutions off Winograd's kernels (cpu::winograd_inference), to measure what they give.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <omp.h>

#include <CLI/CLI.hpp>

#include "hush/hush.hpp"
#include "model_workloads.hpp"
#include "resnet50_convs.hpp"
#ifdef HUSH_WITH_DNNL
#include <dnnl.h>
#endif

namespace {

using backend = hush::backend::cpu;

using hush::bench::filled;
using hush::bench::workload;

double rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

/// Forward workloads in eval mode instead of inference mode (--eval; model_workloads.hpp).
bool eval_mode = false;
/// The cpu backend's settings (--im2col, --nchw).
backend chosen{};

workload conv(const hush::bench::conv_shape& c) {
  const hush::conv2d::options o{.in = c.c, .out = c.k, .kernel = c.kernel, .stride = c.stride,
                                .padding = c.kernel / 2, .bias = false};
  const hush::shape in{8, c.c, c.h, c.h};
  const auto out = hush::conv2d(o).output_shape(in);
  return {[o, in]() -> std::function<void()> {
            auto layer = std::make_shared<hush::conv2d>(o);
            auto ctx = std::make_shared<hush::context<backend>>(1);
            ctx->backend = chosen;
            auto x = std::make_shared<hush::tensor>(filled(in));
            ctx->mode = hush::mode::eval;
            layer->setup(*ctx, in);
            return [layer, ctx, x] { layer->forward(*ctx, *x); };
          },
          2.0 * double(out.numel()) * double(c.c * c.kernel * c.kernel)};
}

workload sgemm(std::int64_t n, bool dnnl) {
  return {[n, dnnl]() -> std::function<void()> {
            auto a = std::make_shared<hush::tensor>(filled({n, n}, 1));
            auto b = std::make_shared<hush::tensor>(filled({n, n}, 2));
            auto c = std::make_shared<hush::tensor>(hush::shape{n, n});
            if (!dnnl)
              return [=] { hush::backend::gemm(backend{}, false, false, n, n, n, 1.0f, a->data(), b->data(), 0.0f, c->data()); };
#ifdef HUSH_WITH_DNNL
            return [=] {
              const auto d = static_cast<dnnl_dim_t>(n);
              dnnl_sgemm('N', 'N', d, d, d, 1.0f, a->data(), d, b->data(), d, 0.0f, c->data(), d);
            };
#else
            throw std::runtime_error("dnnl_sgemm: hush was built without oneDNN");
#endif
          },
          2.0 * double(n) * double(n) * double(n)};
}

// The fp32 ceiling of the cores in use: independent chains of fused multiply-adds on the widest
// vectors the CPU has, one loop per thread; 2 flop per lane per FMA.
using v16 = float __attribute__((vector_size(64)));
using v8 = float __attribute__((vector_size(32)));
constexpr int chains = 12;  // enough independent FMAs to cover their latency on two FMA pipes
constexpr std::int64_t fma_rounds = 4'000'000;
template <class V>
[[gnu::always_inline]] inline float fma_chains(float seed) {
  V acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = V{} + seed + float(c);
  const V m = V{} + 0.999999f, a = V{} + 1e-7f;
  for (std::int64_t r = 0; r < fma_rounds; ++r)
    for (auto& x : acc) x = x * m + a;
  float sum = 0;
  for (auto& x : acc) sum += x[0];
  return sum;
}
[[gnu::target("avx512f")]] float fma_avx512(float seed) { return fma_chains<v16>(seed); }
[[gnu::target("avx2,fma")]] float fma_avx2(float seed) { return fma_chains<v8>(seed); }
volatile float fma_sink = 0;  // keeps the chains' results alive
workload fma_peak() {
  const bool wide = __builtin_cpu_supports("avx512f");
  return {[wide]() -> std::function<void()> {
            return [wide] {
              float total = 0;
#pragma omp parallel reduction(+ : total)
              total += wide ? fma_avx512(float(omp_get_thread_num())) : fma_avx2(float(omp_get_thread_num()));
              fma_sink = total;
            };
          },
          2.0 * (wide ? 16 : 8) * chains * double(fma_rounds) * hush::threads()};
}

std::map<std::string, workload> workloads() {
  std::map<std::string, workload> w;
  hush::bench::model_workloads<backend>{chosen, eval_mode}.add_to(w);
  for (const auto& c : hush::bench::resnet50_convs) w[std::string("conv_") + c.name] = conv(c);
  for (std::int64_t n : {1024, 2048}) {
    w["sgemm_" + std::to_string(n)] = sgemm(n, false);
    w["dnnl_sgemm_" + std::to_string(n)] = sgemm(n, true);
  }
  w["fma_peak"] = fma_peak();
  return w;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hush's side of bench/vs_torch.py: times named workloads, one JSON line each"};
  std::string names;
  int reps = 5, warmup = 2, threads = 2;
  bool list = false;
  app.add_option("--workloads", names, "comma-separated workload names (--list shows them)");
  app.add_option("--reps", reps, "timed iterations per workload")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed iterations first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "threads for OpenMP and BLAS")->check(CLI::PositiveNumber);
  app.add_flag("--list", list, "print the workload names and exit");
  bool im2col = false;
  app.add_flag("--eval", eval_mode, "forward workloads in eval mode instead of inference mode (no fusion)");
  app.add_flag("--im2col", im2col, "convolutions through im2col + BLAS even when oneDNN is built in");
  bool nchw = false;
  app.add_flag("--nchw", nchw, "activations in NCHW between oneDNN's convolutions (reordered around each) instead of its blocked layout");
  bool bf16 = false;
  app.add_flag("--bf16", bf16, "inference convolutions in bf16 (where the CPU multiplies bf16 natively)");
  bool direct = false;
  app.add_flag("--direct", direct, "inference convolutions by oneDNN's direct kernels only, never Winograd's (cpu::winograd_inference)");
  CLI11_PARSE(app, argc, argv);

  hush::set_threads(threads);  // before the workloads: fma_peak counts the threads
  if (im2col) chosen.convolutions = hush::backend::cpu_conv_algorithm::im2col;
  if (nchw) chosen.blocked_layout = false;
  if (direct) chosen.winograd_inference = false;
  if (bf16) {
#if HUSH_WITH_DNNL
    const bool native = hush::backend::dnnl_detail::cpu_has_bf16();
#else
    const bool native = false;
#endif
    if (!native || im2col) {
      std::cerr << "hush-bench-peer: --bf16 skipped: it needs oneDNN's convolutions on a CPU with AVX-512-BF16 or AMX\n";
      return 77;
    }
    chosen.inference_precision = hush::backend::cpu_precision::bf16;
  }
  const auto all = workloads();
  if (list) {
    for (const auto& [name, w] : all) std::cout << name << '\n';
    return 0;
  }
  const auto wanted = split(names);
  for (const auto& name : wanted)
    if (!all.count(name)) {
      std::cerr << "hush-bench-peer: unknown workload '" << name << "'; --list shows the valid ones\n";
      return 2;
    }
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::cerr << "hush-bench-peer: " << threads << " threads, BLAS kernels " << hush::ensure_fast_blas()
            << (coretype ? std::string(" (OPENBLAS_CORETYPE=") + coretype + " in the environment)" : std::string()) << ", "
            << hush::backend::name(chosen.convolutions) << " convolutions" << (bf16 ? ", bf16 inference" : "")
            << (chosen.winograd_inference ? "" : ", no Winograd") << "\n";
  const double baseline = rss_mb();
  for (const auto& name : wanted) {
    std::vector<double> ms;
    {
      auto iteration = all.at(name).make();
      for (int i = 0; i < warmup; ++i) iteration();
      for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        iteration();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    std::ostringstream line;
    line << R"({"framework": "hush", "workload": ")" << name << R"(", "ms": [)";
    for (std::size_t i = 0; i < ms.size(); ++i) line << (i ? ", " : "") << ms[i];
    line << R"(], "peak_rss_mb": )" << rss_mb() << R"(, "baseline_rss_mb": )" << baseline;
    if (all.at(name).flop > 0) line << R"(, "flop": )" << all.at(name).flop;
    std::cout << line.str() << "}" << std::endl;
  }
  return 0;
}
