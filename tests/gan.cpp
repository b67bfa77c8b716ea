// Adversarial training (train/gan.hpp): the alternating update against a committed PyTorch trace
// (tests/reference/gan.py) on every backend; a small run whose losses move as a GAN's should;
// exact resume; a checkpoint of two networks that loads all or nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <tuple>
#include <filesystem>
#include <string>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/train/gan.hpp"
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
void check_trace(const std::string& name, const hush::train::gan_options& o, GNet gnet = m::residual_unet({.channels = 1, .width = 2}),
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
  std::vector<T> inputs, reals, conditions, labels;
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
        hush::tensor ks({4});
        for (std::int64_t n = 0; n < 4; ++n) ks[n] = float((4 * k + n) % o.classes);
        labels.push_back(on(g.ctx, ks));
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

/// A small restoration task: smooth waves, and the same with Gaussian noise of sigma 0.2.
void waves(std::uint64_t k, hush::tensor& input, hush::tensor& real) {
  const hush::counter_rng rng{11};
  real.resize({4, 1, 32, 32}), input.resize(real.shape());
  for (std::int64_t n = 0; n < 4; ++n) {
    const auto key = k * 4 + std::uint64_t(n);
    const float a = 0.1f + 0.3f * rng.uniform(key, 0), b = 0.1f + 0.3f * rng.uniform(key, 1), c = 6.3f * rng.uniform(key, 2);
    for (std::int64_t y = 0; y < 32; ++y)
      for (std::int64_t x = 0; x < 32; ++x) {
        const auto i = (n * 32 + y) * 32 + x;
        real[i] = 0.5f + 0.4f * std::sin(a * float(x) + b * float(y) + c);
        input[i] = std::clamp(real[i] + 0.2f * rng.normal(key, 16 + std::uint64_t(y * 32 + x)), 0.0f, 1.0f);
      }
  }
}

using generator = hush::model<m::residual_unet, hush::backend::cpu>;
using discriminator = hush::model<m::dcgan_discriminator, hush::backend::cpu>;

/// A discriminator without batch norm. Seed 001's (dcgan_discriminator) normalises each batch,
/// and it sees the real and the generated images as batches of their own: its batch norm takes
/// away what the two batches differ in, and on this task its loss stays at chance (2 ln 2)
/// through 240 steps (tried at learning rates 2e-3 and 1e-2, either critic update).
using plain_critic = hush::seq<hush::conv2d, hush::leaky_relu, hush::conv2d, hush::leaky_relu, hush::flatten, hush::linear>;
struct small_critic : plain_critic {
  static constexpr const char* kind = "small_critic";
  small_critic()
      : plain_critic(hush::conv2d({.in = 1, .out = 8, .kernel = 4, .stride = 2, .padding = 1}), hush::leaky_relu(0.2f),
                     hush::conv2d({.in = 8, .out = 16, .kernel = 4, .stride = 2, .padding = 1}), hush::leaky_relu(0.2f),
                     hush::flatten{}, hush::linear({.in = 16 * 8 * 8, .out = 1})) {}
};
using critic = hush::model<small_critic, hush::backend::cpu>;

hush::train::gan_data<m::residual_unet, hush::backend::cpu> wave_data() {
  hush::train::gan_data<m::residual_unet, hush::backend::cpu> data;
  data.batch = waves;
  waves(1u << 30, data.grid_input, data.grid_real);
  data.validate = [](generator& g) {
    hush::tensor x, y;
    waves(1u << 31, x, y);
    g.eval();
    const hush::tensor out = hush::to_host(g.forward(x));
    return std::array<double, 2>{hush::metrics::psnr(y, out), hush::metrics::ssim(y, out)};
  };
  return data;
}

hush::train::gan_options wave_options() {
  hush::train::gan_options o;
  o.generator = {.lr = 2e-3f, .beta1 = 0.5f};
  o.discriminator = {.lr = 2e-3f, .beta1 = 0.5f};
  o.content_weight = 1.0f, o.adversarial_weight = 0.01f;
  o.epochs = 3, o.steps = 20;
  return o;
}

}  // namespace

TEST_CASE_TEMPLATE("the alternating update equals PyTorch's, step by step (tests/reference/gan.py)", Backend,
                   hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  hush::train::gan_options separate;  // seed 001's recipe, λd raised so that D's path into G counts
  separate.generator = {.lr = 0.005f, .beta1 = 0.5f};
  separate.discriminator = {.lr = 0.009f, .beta1 = 0.9f};
  separate.content_weight = 0.1f, separate.adversarial_weight = 0.5f;
  check_trace<Backend, hush::mse_loss>("separate", separate);

  hush::train::gan_options wgan;
  wgan.generator = {.lr = 0.001f, .beta1 = 0.5f, .cosine = true};
  wgan.discriminator = {.lr = 0.002f, .beta1 = 0.5f, .cosine = true};
  wgan.adversarial = hush::train::adversarial_kind::wasserstein;
  wgan.update = hush::train::critic_update::joint;
  wgan.critic_steps = 2, wgan.clip = 0.05f;
  wgan.content_weight = 1.0f, wgan.adversarial_weight = 0.1f;
  check_trace<Backend, hush::l1_loss>("wgan", wgan);

  // A conditional GAN: three classes, one-hot, joined to G's input and to every image D scores.
  hush::train::gan_options conditional;
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

TEST_CASE("a small GAN: the content loss falls, the discriminator learns, validation PSNR rises; resume is exact") {
  hush::test::temp_dir dir("gan");
  const auto data = wave_data();
  auto o = wave_options();
  o.out = dir.path / "whole";
  generator g({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  critic d({.seed = 4});
  const auto h = hush::train::fit_gan(g, d, data, o, hush::mse_loss{});
  REQUIRE(h.epochs.size() == 3);
  const auto& first = h.epochs.front();
  const auto& last = h.epochs.back();
  const auto show = [](const char* when, const hush::train::gan_history::epoch_row& e) {
    MESSAGE(std::string(when) << ": D " << e.d_real << " + " << e.d_fake << ", G content " << e.g_content << " adversarial "
                 << e.g_adversarial << ", validation PSNR " << e.val_psnr);
  };
  show("epoch 1", first), show("epoch 3", last);
  CHECK(last.g_content < 0.7 * first.g_content);
  CHECK(last.val_psnr > first.val_psnr + 0.3);
  // D learns to tell them apart (its loss below chance's 2 ln 2, and falling); G's adversarial
  // term, -log D(G(x)), rises above chance's ln 2 as it does.
  CHECK(last.d_real + last.d_fake < first.d_real + first.d_fake - 0.05);
  CHECK(last.d_real + last.d_fake < 2 * std::log(2.0));
  CHECK(last.g_adversarial > first.g_adversarial + 0.05);
  CHECK(last.g_adversarial > std::log(2.0));
  for (const char* f : {"log.csv", "curves.png", "checkpoint.safetensors", "generator.safetensors",
                        "discriminator.safetensors", "grids/epoch_001.png", "grids/epoch_003.png"})
    CHECK_MESSAGE(std::filesystem::exists(o.out / f), f);

  // Ten times the adversarial weight: G works against D, whose loss stays higher.
  auto strong = o;
  strong.out.clear(), strong.adversarial_weight = 0.1f;
  generator gs({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  critic ds({.seed = 4});
  const auto hs = hush::train::fit_gan(gs, ds, data, strong, hush::mse_loss{});
  show("epoch 3, adversarial weight 0.1", hs.epochs.back());
  CHECK(hs.epochs.back().d_real + hs.epochs.back().d_fake > last.d_real + last.d_fake + 0.05);
  CHECK(hs.epochs.back().g_adversarial < last.g_adversarial - 0.05);

  // Stopped after epoch 1 and resumed: the same weights, bit for bit.
  auto o2 = o;
  o2.out = dir.path / "resumed", o2.stop_after = 1;
  generator g2({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  critic d2({.seed = 4});
  hush::train::fit_gan(g2, d2, data, o2, hush::mse_loss{});
  o2.stop_after = 0, o2.resume = true;
  generator g3({.seed = 99}, m::residual_unet({.channels = 1, .width = 4}));
  critic d3({.seed = 98});
  const auto h3 = hush::train::fit_gan(g3, d3, data, o2, hush::mse_loss{});
  REQUIRE(h3.epochs.size() == 3);
  CHECK(h3.epochs.back().g_content == last.g_content);
  CHECK(h3.epochs.back().d_fake == last.d_fake);
  for (const char* file : {"generator.safetensors", "discriminator.safetensors"}) {
    const auto a = hush::io::read_safetensors(o.out / file);
    const auto b = hush::io::read_safetensors(o2.out / file);
    CHECK(a.arrays.size() == b.arrays.size());
    for (const auto& [name, arr] : a.arrays) CHECK_MESSAGE(b.arrays.at(name).values == arr.values, file << " " << name);
  }
}

TEST_CASE("a GAN checkpoint holds both networks and optimizers, and loads all or nothing") {
  hush::test::temp_dir dir("gan-checkpoint");
  const auto data = wave_data();
  auto o = wave_options();
  o.out = dir.path, o.epochs = 1, o.steps = 2;
  generator g({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  discriminator d({.seed = 4}, m::dcgan_discriminator({.channels = 1, .size = 32, .width = 4}));
  hush::train::fit_gan(g, d, data, o, hush::mse_loss{});
  const auto file = hush::io::read_safetensors(dir.path / "checkpoint.safetensors");
  CHECK(file.arrays.count("generator.enc1.conv.weight") == 1);
  CHECK(file.arrays.count("generator.optimizer.enc1.conv.weight.exp_avg") == 1);
  CHECK(file.arrays.count("discriminator.0.0.weight") == 1);
  CHECK(file.arrays.count("discriminator.optimizer.steps") == 1);
  CHECK(file.metadata.at("hush.architecture.generator") == "residual_unet");
  CHECK(file.metadata.at("hush.architecture.discriminator") == "dcgan_discriminator");

  // A discriminator of another width: nothing loads, and the error names the part.
  generator g2({.seed = 5}, m::residual_unet({.channels = 1, .width = 4}));
  discriminator d2({.seed = 6}, m::dcgan_discriminator({.channels = 1, .size = 32, .width = 8}));
  g2.setup({4, 1, 32, 32}), d2.setup({4, 1, 32, 32});
  const auto first_weights = [&] {
    std::vector<float> v;
    hush::for_each_parameter(g2.net, [&](std::string_view, hush::parameter& p) {
      if (v.empty()) {
        const hush::tensor t = hush::to_host(p.value);
        v.assign(t.values().begin(), t.values().end());
      }
    });
    return v;
  };
  const auto before = first_weights();
  hush::adam og(g2.net, {}), od(d2.net, {});
  CHECK_THROWS_WITH_AS(hush::load_checkpoint(dir.path / "checkpoint.safetensors", hush::trained{"generator.", g2.net, og},
                                             hush::trained{"discriminator.", d2.net, od}),
                       doctest::Contains("'discriminator.' saved from a different structure"), hush::io_error);
  CHECK(first_weights() == before);  // the generator, which matched, was not loaded either

  // A run with other settings refuses to resume from it.
  auto other = o;
  other.resume = true, other.adversarial_weight = 0.02f;
  generator g3({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  discriminator d3({.seed = 4}, m::dcgan_discriminator({.channels = 1, .size = 32, .width = 4}));
  CHECK_THROWS_WITH(hush::train::fit_gan(g3, d3, data, other, hush::mse_loss{}), doctest::Contains("written by another run"));
}

TEST_CASE("a conditional run: the condition joins G's input and every image D scores") {
  // Two classes, one-hot: the class turns the waves' direction.
  hush::train::gan_data<hush::seq<hush::conv2d, hush::leaky_relu, hush::conv2d>, hush::backend::cpu> data;
  const auto condition_of = [](std::uint64_t k, hush::tensor& c) {
    c.resize({4, 2});
    for (std::int64_t n = 0; n < 4; ++n) c[n * 2] = float((k + std::uint64_t(n)) % 2), c[n * 2 + 1] = 1.0f - c[n * 2];
  };
  data.condition = condition_of;
  data.batch = [&](std::uint64_t k, hush::tensor& input, hush::tensor& real) {
    hush::tensor noisy, c;
    waves(k, noisy, real);
    condition_of(k, c);
    for (std::int64_t n = 0; n < 4; ++n)
      if (c[n * 2] > 0.5f)  // class 0: the waves transposed
        for (std::int64_t y = 0; y < 32; ++y)
          for (std::int64_t x = y + 1; x < 32; ++x) std::swap(real[(n * 32 + y) * 32 + x], real[(n * 32 + x) * 32 + y]);
    input = joined(noisy, c);
  };
  data.validate = [](auto&) { return std::array<double, 2>{0.0, 0.0}; };
  auto o = wave_options();
  o.epochs = 1, o.steps = 3;
  using small = hush::seq<hush::conv2d, hush::leaky_relu, hush::conv2d>;
  hush::model<small, hush::backend::cpu> g({.seed = 1}, small(hush::conv2d({.in = 3, .out = 8, .kernel = 3, .padding = 1}),
                                                              hush::leaky_relu(0.2f),
                                                              hush::conv2d({.in = 8, .out = 1, .kernel = 3, .padding = 1})));
  discriminator d({.seed = 2}, m::dcgan_discriminator({.channels = 3, .size = 32, .width = 4}));
  const auto h = hush::train::fit_gan(g, d, data, o, hush::mse_loss{});
  REQUIRE(h.epochs.size() == 1);
  CHECK(std::isfinite(h.epochs[0].d_real + h.epochs[0].d_fake + h.epochs[0].g_adversarial));
  CHECK(d.input_shape() == hush::shape{4, 3, 32, 32});  // one image channel and two condition planes

  // A classifier in D instead: two classes, 1 + 2 scores; its accuracy on the real images is logged.
  auto classified = o;
  classified.classes = 2;
  classified.out = std::filesystem::temp_directory_path() / ("hush-gan-classes-" + std::to_string(::getpid()));
  auto waves_by_class = wave_data();
  waves_by_class.labels = [](std::uint64_t k, hush::tensor& labels) {
    labels.resize({4});
    for (std::int64_t n = 0; n < 4; ++n) labels[n] = float((k + std::uint64_t(n)) % 2);
  };
  generator gc({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  discriminator dc({.seed = 4}, m::dcgan_discriminator({.channels = 1, .size = 32, .width = 4, .outputs = 3}));
  const auto hc = hush::train::fit_gan(gc, dc, waves_by_class, classified, hush::mse_loss{});
  CHECK(hc.epochs[0].d_class > 0);
  CHECK(hc.epochs[0].class_accuracy >= 0);
  CHECK(hush::io::read_safetensors(classified.out / "checkpoint.safetensors").metadata.at("log").find("class_accuracy") !=
        std::string::npos);
  std::filesystem::remove_all(classified.out);
  generator gn({.seed = 3}, m::residual_unet({.channels = 1, .width = 4}));
  discriminator dn({.seed = 4}, m::dcgan_discriminator({.channels = 1, .size = 32, .width = 4, .outputs = 3}));
  waves_by_class.labels = {};
  CHECK_THROWS_WITH(hush::train::fit_gan(gn, dn, waves_by_class, classified, hush::mse_loss{}),
                    doctest::Contains("needs the data's labels"));

  // A condition for other images than the batch's is named.
  data.condition = [](std::uint64_t, hush::tensor& c) { c.resize({3, 2}); };
  hush::model<small, hush::backend::cpu> g2({.seed = 1}, small(hush::conv2d({.in = 3, .out = 8, .kernel = 3, .padding = 1}),
                                                               hush::leaky_relu(0.2f),
                                                               hush::conv2d({.in = 8, .out = 1, .kernel = 3, .padding = 1})));
  discriminator d2({.seed = 2}, m::dcgan_discriminator({.channels = 3, .size = 32, .width = 4}));
  CHECK_THROWS_WITH(hush::train::fit_gan(g2, d2, data, o, hush::mse_loss{}), doctest::Contains("the condition must be (N, K)"));
}

TEST_CASE("GAN options: a setting that cannot work is named") {
  hush::train::gan_options o;
  o.critic_steps = 0;
  CHECK_THROWS_WITH(o.validate(), "GAN training: critic steps must be at least 1, not 0");
  o = {};
  o.discriminator.beta1 = 1.0f;
  CHECK_THROWS_WITH(o.validate(), "GAN training: the discriminator's betas must be in [0, 1)");
  o = {};
  o.clip = -1;
  CHECK_THROWS_WITH(o.validate(), "GAN training: the clip bound must be >= 0 (0: no clipping)");
}
