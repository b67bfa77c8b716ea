// The alternating update of train/adversarial.hpp against committed PyTorch traces
// (tests/reference/gan.py: seed 001's recipe, a WGAN, a conditional GAN, a classifier in the
// discriminator), three updates each on every backend. A numeric test: the sanitizer build leaves
// it to the Release one (tests/CMakeLists.txt); tests/gan.cpp runs the trainer under both.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/train/adversarial.hpp"
#include "support.hpp"

namespace m = hush::models;
using hush::test::on;

namespace {

const std::filesystem::path trace = std::filesystem::path(HUSH_REFERENCE_DATA) / "gan.safetensors";

/// tests/reference/gan.py's batch k of a case: formula images in [0, 1) and their noisy copies.
std::pair<hush::tensor, hush::tensor> traced_batch(const std::string& name, int k) {
  hush::tensor real({4, 1, 32, 32}), noise({4, 1, 32, 32});
  hush::test::formula(name + ".real." + std::to_string(k), real);
  hush::test::formula(name + ".noise." + std::to_string(k), noise);
  hush::tensor input(real.shape());
  for (std::int64_t i = 0; i < real.numel(); ++i) {
    real[i] = real[i] * 16.0f + 0.5f;
    input[i] = std::clamp(real[i] + 0.4f * (noise[i] * 16.0f), 0.0f, 1.0f);
  }
  return {input, real};
}

/// How far `net`'s parameters and buffers are from PyTorch's "<prefix><name>": the largest
/// difference, where it is, and how many values differ by more than `tight`.
struct difference {
  double worst = 0;
  std::string where;
  std::int64_t over = 0, count = 0;
};
template <class Net>
difference compare(Net& net, const hush::io::safetensors_file& file, const std::string& prefix, double tight) {
  difference d;
  const auto one = [&](std::string_view name, const hush::kept& k) {
    const auto it = file.arrays.find(prefix + std::string(name));
    REQUIRE_MESSAGE(it != file.arrays.end(), prefix << name);
    const hush::tensor mine = hush::to_host(k);
    REQUIRE(std::int64_t(it->second.values.size()) == mine.numel());
    for (std::int64_t i = 0; i < mine.numel(); ++i) {
      const double e = std::abs(mine[i] - it->second.values[std::size_t(i)]);
      d.over += e > tight, ++d.count;
      if (e > d.worst) d.worst = e, d.where = std::string(name) + "[" + std::to_string(i) + "]";
    }
  };
  hush::for_each_parameter(net, [&](std::string_view n, hush::parameter& p) { one(n, p.value); });
  hush::for_each_buffer(net, [&](std::string_view n, hush::kept& t) { one(n, t); });
  return d;
}

/// tests/reference/gan.py's conditional case: image j of batch k has class (4k + j) mod K.
hush::tensor traced_condition(int k, std::int64_t classes) {
  hush::tensor c({4, classes});
  c.fill(0.0f);
  for (std::int64_t j = 0; j < 4; ++j) c[j * classes + (4 * k + j) % classes] = 1.0f;
  return c;
}
/// (N, C, H, W) images and an (N, K) condition as (N, C + K, H, W): the generator's input.
hush::tensor joined(const hush::tensor& images, const hush::tensor& condition) {
  hush::tensor out;
  hush::train::detail::join_condition(hush::backend::cpu{}, images, condition, out);
  return out;
}

/// `classes`: a conditional GAN's (one-hot classes joined to both networks' inputs); o.classes: a
/// classifier in the discriminator.
template <class Backend, class Content, class GNet = m::residual_unet>
void check_trace(const std::string& name, const hush::train::adversarial_options& o, GNet gnet = m::residual_unet({.channels = 1, .width = 2}),
                 std::int64_t classes = 0) {
  INFO(name);
  const auto file = hush::io::read_safetensors(trace);
  hush::model<GNet, Backend> g({}, std::move(gnet));
  hush::model<m::dcgan_discriminator, Backend> d(
      {}, m::dcgan_discriminator({.channels = 1 + classes, .size = 32, .width = 2, .outputs = 1 + o.classes}));
  g.setup({4, 1 + classes, 32, 32}), d.setup({4, 1 + classes, 32, 32});
  hush::test::fill_by_formula(g.net), hush::test::fill_by_formula(d.net);
  hush::train::adversarial_training<GNet, m::dcgan_discriminator, Backend, Content> pair(g, d, o);
  const auto& losses = file.arrays.at(name + ".losses").values;
  using T = hush::tensor_of<hush::context<Backend>>;
  std::vector<T> inputs, reals, conditions;
  std::vector<hush::basic_index_tensor<typename T::memory>> labels;
  const std::size_t columns = o.classes ? 6 : 4;
  for (int step = 0; step < 3; ++step) {
    inputs.clear(), reals.clear(), conditions.clear(), labels.clear();
    for (int i = 0; i < o.critic_steps; ++i) {
      const int k = step * o.critic_steps + i;
      auto [x, y] = traced_batch(name, k);
      if (classes) {
        const auto c = traced_condition(k, classes);
        x = joined(x, c);
        conditions.push_back(on(g.ctx, c));
      }
      if (o.classes) {
        hush::index_tensor ks({4});
        for (std::int64_t n = 0; n < 4; ++n) ks[n] = std::int32_t((4 * k + n) % o.classes);
        labels.push_back(hush::to(g.ctx.backend, ks));
      }
      inputs.push_back(on(g.ctx, x)), reals.push_back(on(g.ctx, y));
    }
    const auto l = pair.step(
        [&](int i) {
          const auto at = std::size_t(i);
          return hush::train::gan_batch<T>{inputs[at], reals[at], classes ? &conditions[at] : nullptr,
                                           o.classes ? &labels[at] : nullptr};
        },
        3);
    const auto want = [&](std::size_t column) { return double(losses[std::size_t(step) * columns + column]); };
    CHECK(l.d_real == doctest::Approx(want(0)).epsilon(1e-4));
    CHECK(l.d_fake == doctest::Approx(want(1)).epsilon(1e-4));
    CHECK(l.g_content == doctest::Approx(want(2)).epsilon(1e-4));
    CHECK(l.g_adversarial == doctest::Approx(want(3)).epsilon(1e-4));
    if (o.classes) {
      CHECK(l.d_class == doctest::Approx(want(4)).epsilon(1e-4));
      CHECK(l.g_class == doctest::Approx(want(5)).epsilon(1e-4));
    }
  }
  // Three updates of Adam from the same start: weights and running statistics agree far below
  // a step (the learning rate). Except where a gradient cancels to rounding: the WGAN critic's
  // score gradient is -1/N on the real batch and +1/N on the generated one, so a channel on
  // the same side of its leaky ReLU in both gets a sum of zero give or take 1e-9 in each
  // program, which Adam (dividing by sqrt(v) + 1e-8) turns into a move of up to a few tenths
  // of a step either way. Those few are allowed a fifth of a step.
  const double tight = 5e-5;
  for (const auto& [who, diff, lr] : {std::tuple{"generator", compare(g.net, file, name + ".g.", tight), o.generator.lr},
                                   std::tuple{"discriminator", compare(d.net, file, name + ".d.", tight), o.discriminator.lr}}) {
    MESSAGE(name << " " << std::string(who) << ": largest difference from PyTorch " << diff.worst << " (" << diff.where << "), " << diff.over
                 << " of " << diff.count << " values beyond " << tight);
    CHECK(diff.over <= diff.count / 1000);
    CHECK(diff.worst < 0.2 * lr);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("the alternating update equals PyTorch's, step by step (tests/reference/gan.py)", Backend,
                   hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  hush::train::adversarial_options separate;  // seed 001's recipe, λd raised so that D's path into G counts
  separate.generator = {.lr = 0.005f, .beta1 = 0.5f};
  separate.discriminator = {.lr = 0.009f, .beta1 = 0.9f};
  separate.content_weight = 0.1f, separate.adversarial_weight = 0.5f;
  check_trace<Backend, hush::mse_loss>("separate", separate);

  hush::train::adversarial_options wgan;
  wgan.generator = {.lr = 0.001f, .beta1 = 0.5f, .cosine = true};
  wgan.discriminator = {.lr = 0.002f, .beta1 = 0.5f, .cosine = true};
  wgan.adversarial = hush::train::adversarial_kind::wasserstein;
  wgan.update = hush::train::critic_update::joint;
  wgan.critic_steps = 2, wgan.clip = 0.05f;
  wgan.content_weight = 1.0f, wgan.adversarial_weight = 0.1f;
  check_trace<Backend, hush::l1_loss>("wgan", wgan);

  // A conditional GAN: three classes, one-hot, joined to G's input and to every image D scores.
  hush::train::adversarial_options conditional;
  conditional.generator = {.lr = 0.002f, .beta1 = 0.5f};
  conditional.discriminator = {.lr = 0.002f, .beta1 = 0.5f};
  conditional.content_weight = 1.0f, conditional.adversarial_weight = 0.5f;
  using small_generator = hush::seq<hush::conv2d, hush::leaky_relu, hush::conv2d>;
  check_trace<Backend, hush::mse_loss>("conditional", conditional,
                                       small_generator(hush::conv2d({.in = 4, .out = 8, .kernel = 3, .padding = 1}),
                                                       hush::leaky_relu(0.2f),
                                                       hush::conv2d({.in = 8, .out = 1, .kernel = 3, .padding = 1})),
                                       3);

  // A classifier in the discriminator (AC-GAN; seed 002's ResGAN): 1 + 3 scores per image.
  auto embedded = conditional;
  embedded.classes = 3;
  check_trace<Backend, hush::mse_loss>("classifier", embedded);
}

