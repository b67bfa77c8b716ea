// Where the U-Net training step's memory goes (docs/performance.md, issue 22, session 31): the
// resident set after each pass of two steps of bench/model_workloads.hpp's unet_train_b4 (the
// Noise2Noise U-Net at (4, 3, 256, 256), MSE, Adam), the layers' registered buffers by role and
// the buffer plan's arena. Not a CMake target (it would only add to CI's compile time):
//   g++ -std=c++20 -O2 -DNDEBUG -fopenmp -DHUSH_WITH_DNNL=1 -Iinclude bench/unet_memory.cpp \
//       -o /tmp/unet_memory -ldnnl -lopenblas && /tmp/unet_memory
#include <cstdio>
#include <fstream>
#include <string>

#include "hush/hush.hpp"
#include "hush/models/unet.hpp"

namespace {
/// A line of /proc/self/status in MB: VmRSS (resident now) or VmHWM (the peak so far).
double status_mb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return 0;
}
}  // namespace

int main() {
  namespace m = hush::models;
  hush::model<m::noise2noise_unet, hush::backend::cpu> net({.seed = 1}, m::noise2noise_unet());
  const hush::tensor x({4, 3, 256, 256}, 0.5f), target({4, 3, 256, 256}, 0.25f);
  std::printf("before setup: resident %.1f MB\n", status_mb("VmRSS"));
  net.setup(x.shape());
  hush::mse_loss loss;
  hush::adam opt(net.net, {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.99f});
  for (int step = 1; step <= 2; ++step) {
    net.zero_grad();
    const auto& y = net.forward(x);
    std::printf("step %d forward:  resident %.1f MB, peak %.1f\n", step, status_mb("VmRSS"), status_mb("VmHWM"));
    loss.forward(net.ctx, y, target);
    net.backward(loss.backward(net.ctx));
    opt.step(net.ctx.backend);
    std::printf("step %d backward: resident %.1f MB, peak %.1f\n", step, status_mb("VmRSS"), status_mb("VmHWM"));
  }
  const auto b = net.buffers();
  const double mb = 1024.0 * 1024.0;
  std::printf("registered: outputs %.1f MB, input gradients %.1f, saved %.1f; the arena they share %.1f\n", b.output / mb,
              b.input_gradient / mb, b.saved / mb, double(net.arena_bytes()) / mb);
}
