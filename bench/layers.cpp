// conv2d forward and backward at ResNet-50's convolution shapes, and the small CNN's training
// step, in GFLOP/s.
#include <benchmark/benchmark.h>

#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"

namespace {

struct conv_case {
  const char* name;
  std::int64_t c, h, k, kernel, stride;
};
// ResNet-50's distinct convolutions at 224×224 (torchvision layout, stride on the 3×3).
constexpr conv_case resnet50_convs[] = {
    {"conv1 7x7/2", 3, 224, 64, 7, 2},        {"layer1 1x1 64->64", 64, 56, 64, 1, 1},
    {"layer1 3x3 64", 64, 56, 64, 3, 1},       {"layer1 1x1 64->256", 64, 56, 256, 1, 1},
    {"layer2 3x3/2 128", 128, 56, 128, 3, 2},  {"layer2 3x3 128", 128, 28, 128, 3, 1},
    {"layer3 3x3 256", 256, 14, 256, 3, 1},    {"layer3 1x1 256->1024", 256, 14, 1024, 1, 1},
    {"layer4 3x3 512", 512, 7, 512, 3, 1},     {"layer4 1x1 2048->512", 2048, 7, 512, 1, 1},
};

template <class Backend>
void conv_forward(benchmark::State& state, conv_case cc, std::int64_t batch, bool with_backward) {
  hush::conv2d conv({.in = cc.c, .out = cc.k, .kernel = cc.kernel, .stride = cc.stride,
                     .padding = cc.kernel / 2, .bias = false});
  hush::context<Backend> ctx(1);
  const hush::shape in{batch, cc.c, cc.h, cc.h};
  conv.setup(ctx, in);
  hush::tensor x(in, 0.5f), dy(conv.output_shape(in), 0.1f);
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.forward(ctx, x).data());
    if (with_backward) benchmark::DoNotOptimize(conv.backward(ctx, x, dy).data());
  }
  const auto out = conv.output_shape(in);
  const double flops = 2.0 * out.numel() * cc.c * cc.kernel * cc.kernel * (with_backward ? 3 : 1);
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void fashion_cnn_step(benchmark::State& state) {
  hush::model<hush::models::fashion_cnn, hush::backend::cpu> m({.seed = 1});
  hush::tensor x({64, 1, 28, 28}, 0.5f), y({64}, 3.0f);
  hush::sgd opt(m.net, {.lr = 0.01f, .momentum = 0.9f});
  hush::cross_entropy loss;
  m.setup(x.shape());
  for (auto _ : state) {
    m.zero_grad();
    loss.forward(m.ctx, m.forward(x), y);
    m.backward(loss.backward());
    opt.step(m.ctx.backend);
  }
  state.counters["images/s"] = benchmark::Counter(64, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const auto& cc : resnet50_convs) {
    benchmark::RegisterBenchmark((std::string("conv2d fwd/cpu/") + cc.name).c_str(),
                                 [cc](benchmark::State& s) { conv_forward<hush::backend::cpu>(s, cc, 8, false); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark((std::string("conv2d fwd+bwd/cpu/") + cc.name).c_str(),
                                 [cc](benchmark::State& s) { conv_forward<hush::backend::cpu>(s, cc, 8, true); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::RegisterBenchmark("fashion_cnn train step/cpu/batch 64", fashion_cnn_step)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
