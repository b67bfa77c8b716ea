// Adversarial training (train/gan.hpp): a small run whose losses move as a GAN's should; exact
// resume; a checkpoint of two networks that loads all or nothing; conditional runs and a
// classifier in the discriminator; seed 002's networks. (The step against PyTorch's traces is
// tests/gan_reference.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "hush/hush.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/restoration_gans.hpp"
#include "hush/testing/gradcheck.hpp"
#include "hush/train/gan.hpp"
#include "support.hpp"

namespace m = hush::models;

namespace {

/// (N, C, H, W) images and an (N, K) condition as (N, C + K, H, W): the generator's input.
hush::tensor joined(const hush::tensor& images, const hush::tensor& condition) {
  hush::tensor out;
  hush::train::detail::join_condition(hush::backend::cpu{}, images, condition, out);
  return out;
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
  waves_by_class.labels = [](std::uint64_t k, hush::index_tensor& labels) {
    labels.resize({4});
    for (std::int64_t n = 0; n < 4; ++n) labels[n] = std::int32_t((k + std::uint64_t(n)) % 2);
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

TEST_CASE("seed 002's networks: sizes, shapes and gradients") {
  CHECK(m::conv_generator{}.parameter_count() == 329'857);
  CHECK(m::resgan_generator{}.parameter_count() == 329'866);  // f sees X_r's channel and g's 64
  CHECK(m::mlp_generator{}.parameter_count() == 804'112);
  CHECK(m::small_discriminator{}.parameter_count() == 138'689);
  CHECK(m::mlp_discriminator{}.parameter_count() == 402'433);
  const hush::shape in{2, 1, 28, 28};
  CHECK(m::resgan_generator{}.output_shape(in) == in);
  CHECK(m::conv_generator({.in_channels = 11}).output_shape({2, 11, 28, 28}) == in);  // CGAN: 10 class planes
  CHECK(m::mlp_generator{}.output_shape(in) == in);
  CHECK(m::small_discriminator({.outputs = 11}).output_shape(in) == hush::shape{2, 11});  // ResGAN's classifier
  CHECK(m::mlp_discriminator{}.output_shape(in) == hush::shape{2, 1});
  CHECK_THROWS_WITH(hush::unflatten({.channels = 1, .height = 28, .width = 28}).output_shape({2, 700}),
                    doctest::Contains("unflatten: expected (N, 784)"));
  // Gradients against finite differences, at small widths. The convolutional generators are
  // checked against PyTorch instead (tests/torch_reference.cpp): their four batch norms before
  // (leaky) ReLUs put a kink within any useful step of some activation, so that a difference
  // measures neither side's derivative (worst errors of 0.6% to 64% at width 3 on 8 x 8 images,
  // steps 1e-2 to 1e-4, train or eval mode, shrinking with the step).
  const auto check = [](const char* name, auto net, hush::shape s) {
    const auto r = hush::testing::gradcheck(net, s, {.eps = 1e-3, .tolerance = 5e-2});
    CHECK_MESSAGE(r.ok(), std::string(name) << ": " << r.report());
  };
  check("mlp_generator", m::mlp_generator({.size = 4, .hidden = 5}), {2, 1, 4, 4});
  check("small_discriminator", m::small_discriminator({.channels = 1, .size = 8, .width = 2, .outputs = 3}), {2, 1, 8, 8});
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
