// One binary, the best device it finds: built by nvcc with CUDA, run in CI where there is no GPU.
// It must say so on its first line and run the CPU path; on a GPU machine it runs the thrust
// backend on the device. Prints the logits' sum, for comparing the two paths by hand.
#include <cstdio>
#include <memory>

#include "hush/backend/cpu.hpp"
#include "hush/backend/thrust.hpp"
#include "hush/core/device.hpp"
#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"

int main() try {
  const auto device = hush::choose_device();
  std::printf("%s\n", device.line().c_str());
  const double sum = hush::with_device(device, [](auto backend) {
    using net = hush::models::fashion_cnn;
    // On the heap: nvcc 13.0's cicc crashes on some networks held as locals (docs/gpu.md).
    const auto m = std::make_unique<hush::model<net, decltype(backend)>>(typename hush::model<net, decltype(backend)>::options{.seed = 1});
    hush::tensor x({2, 1, 28, 28});
    hush::init_uniform(x, hush::counter_rng(3), 0, 1.0f);
    m->infer();
    const hush::tensor logits(hush::to_host(m->forward(hush::to(backend, x))));
    double s = 0;
    for (const float v : logits.values()) s += v;
    return s;
  });
  std::printf("fashion_cnn logits (2, 10), sum %.6f\n", sum);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-device-check: %s\n", hush::explain(e).c_str());
  return 1;
}
