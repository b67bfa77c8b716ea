// Noise throughput in megapixels per second (a pixel = its 3 channels), on both backends:
// each pixel-wise model alone and seed 000's mix, on a batch of 8 images of 256×256.
#include <benchmark/benchmark.h>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/low_res.hpp"
#include "hush/noise/pixel.hpp"

namespace {
namespace nz = hush::noise;

template <class Backend, class Noise>
void throughput(benchmark::State& state, Noise noise) {
  using tensor = hush::basic_tensor<hush::memory_of<Backend>>;  // where the backend runs
  const tensor batch(hush::to(Backend{}, hush::tensor({8, 3, 256, 256}, 0.4f)));
  tensor out;
  const hush::counter_rng rng{1};
  std::uint64_t first = 0;
  for (auto _ : state) {
    nz::apply_to_batch(Backend{}, noise, rng, batch, out, first);
    first += 8;  // new images every time, as a data pipeline would
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["MP/s"] = benchmark::Counter(8.0 * 256 * 256 / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Backend>
void register_backend() {
  const std::string b = std::string("/") + Backend::name;
  auto add = [&](const std::string& name, auto noise) {
    benchmark::RegisterBenchmark((name + b).c_str(), [noise](benchmark::State& s) { throughput<Backend>(s, noise); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  };
  add("gaussian", nz::gaussian{0.1f});
  add("speckle", nz::speckle{0.1f});
  add("salt_pepper", nz::salt_pepper{0.05f});
  add("poisson peak 30", nz::poisson{30.0f});
  add("bernoulli", nz::bernoulli{0.3f});
  add("impulse", nz::impulse{0.1f});
  add("seed000 mix", nz::chain<nz::gaussian, nz::salt_pepper, nz::poisson>({0.1f}, {0.08f}, {30.0f}));
  add("low_res x4 bicubic", nz::low_res{4, nz::upsampling::bicubic});
}

const bool registered = [] {
  register_backend<hush::backend::cpu>();
  register_backend<hush::backend::thrust>();
  return true;
}();
}  // namespace

BENCHMARK_MAIN();
