// Whole models on the thrust backend, whose tensors are device tensors (host memory on Thrust's
// OpenMP system here, the GPU's with CUDA), against the reference backend: the ResNet-20
// training step (with each of seed 004's regimes), the Noise2Noise U-Net step, the
// discriminator step and ResNet-50 inference. And the device a program chooses (core/device.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/core/device.hpp"
#include "hush/hush.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/unet.hpp"
#include "hush/noise/pixel.hpp"
#include "hush/train/regime.hpp"
#include "support.hpp"

namespace {

using hush::shape;
using hush::test::difference;

hush::tensor normal(shape s, std::uint64_t stream) {
  hush::tensor t(s);
  const hush::counter_rng rng{21};
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = rng.normal(stream, static_cast<std::uint64_t>(i));
  return t;
}

void append(std::vector<float>& out, const hush::tensor& t) {
  out.insert(out.end(), t.values().begin(), t.values().end());
}

/// A training step of Net on Backend with `loss` against `target`: the output, the input
/// gradient, every parameter gradient, then every weight after one SGD step, as host values.
template <class Backend, class Net, class Target, class Loss>
std::vector<float> train_step(Net net, shape in, const Target& target, Loss loss) {
  hush::model<Net, Backend> m({.seed = 5}, std::move(net));
  const auto& x = hush::to(m.ctx.backend, normal(in, 1));
  const auto& t = hush::to(m.ctx.backend, target);
  hush::sgd opt(m.net, {.lr = 0.05f, .momentum = 0.9f});
  m.train();
  m.zero_grad();
  std::vector<float> out;
  const auto& y = m.forward(x);
  append(out, hush::to_host(y));
  out.push_back(loss.forward(m.ctx, y, t));
  append(out, hush::to_host(m.backward(loss.backward(m.ctx))));
  hush::for_each_parameter(m.net, [&](std::string_view, hush::parameter& p) { append(out, hush::to_host(p.grad)); });
  opt.step(m.ctx.backend);
  hush::for_each_parameter(m.net, [&](std::string_view, hush::parameter& p) { append(out, hush::to_host(p.value)); });
  return out;
}

template <class Net, class Target, class Loss>
void check_step(const char* name, Net net, shape in, const Target& target, Loss loss) {
  const double d = difference(train_step<hush::backend::reference>(net, in, target, loss),
                              train_step<hush::backend::thrust>(net, in, target, loss));
  CHECK_MESSAGE(d < 2e-3, name << ": thrust (device tensors) differs from the reference by " << d);
}

}  // namespace

TEST_CASE("whole models on device tensors equal the reference: ResNet-20, U-Net and discriminator steps") {
  const hush::index_tensor labels({4}, {3, 7, 0, 9});
  check_step("ResNet-20", hush::models::resnet20({.channels = 1, .classes = 10}), {4, 1, 28, 28}, labels,
             hush::cross_entropy{});
  check_step("Noise2Noise U-Net", hush::models::noise2noise_unet({.channels = 3, .out_channels = 3, .width = 8}),
             {1, 3, 32, 32}, normal({1, 3, 32, 32}, 2), hush::mse_loss{});
  check_step("discriminator", hush::models::dcgan_discriminator({.channels = 3, .size = 64, .width = 8}),
             {2, 3, 64, 64}, hush::tensor({2, 1}, std::vector<float>{1, 0}), hush::bce_with_logits_loss{});
}

TEST_CASE("ResNet-50 inference on device tensors equals the reference") {
  const auto logits = [](auto backend) {
    using B = decltype(backend);
    auto m = std::make_unique<hush::model<hush::models::resnet50, B>>(
        typename hush::model<hush::models::resnet50, B>::options{.seed = 2},
        hush::models::resnet50({.channels = 3, .classes = 10}));
    m->infer();  // batch norm folded into the convolutions (batch_norm_fold, a kernel)
    return hush::tensor(hush::to_host(m->forward(hush::to(backend, normal({1, 3, 32, 32}, 3)))));
  };
  const auto thrust = logits(hush::backend::thrust{}), reference = logits(hush::backend::reference{});
  CHECK(difference({reference.values().begin(), reference.values().end()},
                   {thrust.values().begin(), thrust.values().end()}) < 2e-3);
}

TEST_CASE("the four training regimes compose on the host and train on device tensors as on the reference") {
  // What fit() does per step: the regime's batch on the host (cpu backend), moved to the model.
  const auto noise = hush::noise::gaussian{0.2f};
  const auto clean = normal({4, 1, 28, 28}, 4);
  const hush::index_tensor labels({4}, {1, 2, 3, 4});
  const std::vector<std::int64_t> indices{10, 11, 12, 13};
  const auto run = [&](auto backend, auto regime) {
    hush::model<hush::models::resnet20, decltype(backend)> m({.seed = 9},
                                                             hush::models::resnet20({.channels = 1, .classes = 10}));
    const auto b = regime.compose(hush::backend::cpu{}, clean, labels, indices, 1);
    const auto& x = hush::to(backend, b.x);
    const auto& y = hush::to(backend, b.y);
    m.train();
    std::vector<float> out{regime.loss(m.ctx, m.forward(x), y)};
    append(out, hush::to_host(m.backward(regime.gradient(m.ctx))));
    return out;
  };
  const hush::counter_rng rng{3};
  using hush::backend::reference, hush::backend::thrust;
  CHECK(difference(run(reference{}, hush::train::clean_only{}), run(thrust{}, hush::train::clean_only{})) < 2e-3);
  CHECK(difference(run(reference{}, hush::train::noisy_only(noise, rng)),
                   run(thrust{}, hush::train::noisy_only(noise, rng))) < 2e-3);
  CHECK(difference(run(reference{}, hush::train::mixed(noise, rng, 2)),
                   run(thrust{}, hush::train::mixed(noise, rng, 2))) < 2e-3);
  CHECK(difference(run(reference{}, hush::train::pivot(noise, rng, {.perturbed = 2})),
                   run(thrust{}, hush::train::pivot(noise, rng, {.perturbed = 2}))) < 2e-3);
}

TEST_CASE("the device a program runs on: HUSH_DEVICE, and the CPU where there is no GPU") {
  // This test is compiled by g++: the program has no CUDA path, whatever the machine has.
  const auto best = hush::choose_device(nullptr);
  CHECK(best.device == hush::device::cpu);
  CHECK(best.line() == "hush: running on the CPU (compiled without CUDA)");
  CHECK(hush::choose_device("").device == hush::device::cpu);
  CHECK(hush::choose_device("cpu").line() == "hush: running on the CPU (HUSH_DEVICE=cpu)");
  CHECK_THROWS_WITH(
      hush::choose_device("cuda"),
      "HUSH_DEVICE=cuda, but this program cannot use a GPU (compiled without CUDA); unset it or use HUSH_DEVICE=cpu");
  CHECK_THROWS_WITH(hush::choose_device("CUDA"),
                    "HUSH_DEVICE=CUDA is not a device: use cpu or cuda, or leave it unset for the best one found");
  CHECK(hush::with_device(best, [](auto backend) { return std::string(decltype(backend)::name); }) == "cpu");
  CHECK_THROWS_WITH(hush::with_device({hush::device::cuda, "forced"}, [](auto) { return 0; }),
                    "with_device: this program has no CUDA path (compiled without CUDA)");
}
