// conv2d forward and forward+backward at ResNet-50's convolution shapes, on the cpu and thrust
// backends, in GFLOP/s; ResNet-20's (batch 128, 28×28) on the cpu backend with each of its
// convolution algorithms (oneDNN, im2col); and compositions: a ResNet basic block, a U-Net level and the small CNN's
// training step.
#include <benchmark/benchmark.h>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"
#include "resnet50_convs.hpp"

namespace {

using conv_case = hush::bench::conv_shape;
using hush::bench::resnet50_convs;

// ResNet-20's distinct convolutions on Fashion-MNIST (28×28, 16/32/64 channels).
constexpr conv_case resnet20_convs[] = {
    {"stem 3x3 1->16", 1, 28, 16, 3, 1},  {"stage1 3x3 16", 16, 28, 16, 3, 1}, {"stage2 3x3/2 16->32", 16, 28, 32, 3, 2},
    {"stage2 3x3 32", 32, 14, 32, 3, 1},  {"stage3 3x3 64", 64, 7, 64, 3, 1},
};

template <class Backend>
void conv_forward(benchmark::State& state, conv_case cc, std::int64_t batch, bool with_backward, Backend backend = {}) {
  hush::conv2d conv({.in = cc.c, .out = cc.k, .kernel = cc.kernel, .stride = cc.stride,
                     .padding = cc.kernel / 2, .bias = false});
  hush::context<Backend> ctx(1);
  ctx.backend = backend;
  const hush::shape in{batch, cc.c, cc.h, cc.h};
  conv.setup(ctx, in);
  // In the backend's memory (device memory for thrust).
  const hush::tensor_of<decltype(ctx)> x(hush::to(backend, hush::tensor(in, 0.5f)));
  const hush::tensor_of<decltype(ctx)> dy(hush::to(backend, hush::tensor(conv.output_shape(in), 0.1f)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.forward(ctx, x).data());
    if (with_backward) benchmark::DoNotOptimize(conv.backward(ctx, x, dy).data());
  }
  const auto out = conv.output_shape(in);
  const double flops = 2.0 * out.numel() * cc.c * cc.kernel * cc.kernel * (with_backward ? 3 : 1);
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

template <class Backend>
void fashion_cnn_step(benchmark::State& state) {
  hush::model<hush::models::fashion_cnn, Backend> m({.seed = 1});
  const typename decltype(m)::tensor x(hush::to(m.ctx.backend, hush::tensor({64, 1, 28, 28}, 0.5f)));
  const auto y = hush::to(m.ctx.backend, hush::index_tensor({64}, std::vector<std::int32_t>(64, 3)));
  hush::sgd opt(m.net, {.lr = 0.01f, .momentum = 0.9f});
  hush::cross_entropy loss;
  m.setup(x.shape());
  for (auto _ : state) {
    m.zero_grad();
    loss.forward(m.ctx, m.forward(x), y);
    m.backward(loss.backward(m.ctx));
    opt.step(m.ctx.backend);
  }
  state.counters["images/s"] = benchmark::Counter(64, benchmark::Counter::kIsIterationInvariantRate);
}

/// A ResNet-50 style basic block at 56×56×64, batch 8: forward and backward.
using block_main = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::batch_norm2d>;
using basic_block = hush::residual<block_main, hush::identity, hush::relu>;
/// One U-Net level: a strided convolution down, a transposed one up, the skip concatenation.
using unet_inner = hush::seq<hush::conv2d, hush::leaky_relu, hush::conv_transpose2d, hush::relu>;
using unet_level = hush::concat_skip<unet_inner>;

template <class Backend, class Net>
void composition(benchmark::State& state, Net net, hush::shape in, double flops_per_pass) {
  hush::context<Backend> ctx(1);
  net.setup(ctx, in);
  const hush::tensor_of<decltype(ctx)> x(hush::to(ctx.backend, hush::tensor(in, 0.5f)));
  const hush::tensor_of<decltype(ctx)> dy(hush::to(ctx.backend, hush::tensor(net.output_shape(in), 0.1f)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(net.forward(ctx, x).data());
    benchmark::DoNotOptimize(net.backward(ctx, x, dy).data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(3 * flops_per_pass, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

template <class Backend>
void register_backend() {
  const std::string b = Backend::name;
  for (const auto& cc : resnet50_convs) {
    benchmark::RegisterBenchmark(("conv2d fwd/" + b + "/" + cc.name).c_str(),
                                 [cc](benchmark::State& s) { conv_forward<Backend>(s, cc, 8, false); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("conv2d fwd+bwd/" + b + "/" + cc.name).c_str(),
                                 [cc](benchmark::State& s) { conv_forward<Backend>(s, cc, 8, true); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::RegisterBenchmark(("basic block 64@56x56 fwd+bwd/" + b + "/batch 8").c_str(), [](benchmark::State& s) {
    const auto conv = [] { return hush::conv2d({.in = 64, .out = 64, .kernel = 3, .padding = 1, .bias = false}); };
    composition<Backend>(s, basic_block(block_main(conv(), hush::batch_norm2d(64), hush::relu{}, conv(), hush::batch_norm2d(64))),
                         {8, 64, 56, 56}, 2 * 2.0 * 8 * 64 * 56 * 56 * 64 * 9);
  })->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("unet level 48@128x128 fwd+bwd/" + b + "/batch 4").c_str(), [](benchmark::State& s) {
    composition<Backend>(s,
                         unet_level(unet_inner(hush::conv2d({.in = 48, .out = 48, .kernel = 4, .stride = 2, .padding = 1}),
                                               hush::leaky_relu(0.2f),
                                               hush::conv_transpose2d({.in = 48, .out = 48, .kernel = 4, .stride = 2, .padding = 1}),
                                               hush::relu{})),
                         {4, 48, 128, 128}, 2 * 2.0 * 4 * 48 * 64 * 64 * 48 * 16);
  })->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("fashion_cnn train step/" + b + "/batch 64").c_str(), fashion_cnn_step<Backend>)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
}

void register_cpu_algorithms() {
  for (const auto algorithm : hush::backend::cpu_conv_algorithms())
    for (const auto& cc : resnet20_convs)
      benchmark::RegisterBenchmark(
          (std::string("resnet20 conv2d fwd+bwd/cpu ") + hush::backend::name(algorithm) + "/" + cc.name).c_str(),
          [cc, algorithm](benchmark::State& s) {
            conv_forward<hush::backend::cpu>(s, cc, 128, true, {.convolutions = algorithm});
          })
          ->Unit(benchmark::kMillisecond)->UseRealTime();
}

const bool registered = [] {
  register_cpu_algorithms();
  register_backend<hush::backend::cpu>();
  register_backend<hush::backend::thrust>();
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
