// Seed 000's question in one page: does a denoiser in front of a classifier rescue it on noisy
// pictures? A denoiser (seed 002's ResGAN generator, trained here by a plain L2 loop on noisy ->
// clean pairs) is frozen in front of ResNet-20; the classifier is trained on clean images alone
// and behind the frozen denoiser, and both are tested on clean images and on seed 000's
// Gaussian + salt-and-pepper + Poisson mix.
//
//   build/bin/hush-example-front-end [--data DIR] [--images 8192] [--epochs 3]
//
// It prints the denoiser's loss as it trains, one line per classifier epoch, and the table
// (hush-front-ends is the full study: GAN and MAE front ends, frozen and fine-tuned, curves).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "hush/backend/cpu.hpp"
#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/losses/pointwise.hpp"
#include "hush/models/front_end.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/restoration_gans.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/spec.hpp"
#include "hush/optim/adam.hpp"
#include "hush/train/classifier.hpp"
#include "hush/train/regime.hpp"

int main(int argc, char** argv) try {
  CLI::App app{"ResNet-20 alone and behind a frozen denoiser, trained clean, tested clean and noisy"};
  std::string data_dir = hush::data::default_fashion_mnist_dir;
  std::int64_t images = 8192;
  int epochs = 3;
  app.add_option("--data", data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--images", images, "training images (the first N)")->capture_default_str()->check(CLI::Range(256, 60000));
  app.add_option("--epochs", epochs, "classifier epochs")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  const auto train = hush::data::fashion_mnist(data_dir, "train").first(images);
  const auto test = hush::data::fashion_mnist(data_dir, "t10k").first(2000);
  const auto noise = hush::noise::parse_spec("seed000");  // Gaussian + salt-and-pepper + Poisson
  hush::train::test_set noisy{"noisy", test};
  hush::noise::apply_to_batch(hush::backend::cpu{}, noise, hush::counter_rng{99}, test.images, noisy.data.images);
  const std::vector<hush::train::test_set> tests = {{"clean", test}, noisy};

  // 1. The denoiser, by hand: forward, loss, backward, optimizer step. Each step noises a batch
  //    of training images afresh (first_index = the step, so every step draws new noise).
  using denoiser = hush::models::resgan_generator;
  hush::model<denoiser, hush::backend::cpu> d({.seed = 1}, denoiser({.channels = 1, .width = 32}));
  hush::adam adam(d.net, {.lr = 1e-3f});
  hush::mse_loss l2;
  hush::tensor clean, dirty;
  const std::int64_t batch = 64, steps = 300, whole = train.size() / batch * batch;
  d.train();
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto first = step * batch % whole;  // consecutive batches, wrapping around
    hush::data::slice(train.images, first, first + batch, clean);
    hush::noise::apply_to_batch(hush::backend::cpu{}, noise, hush::counter_rng{5}, clean, dirty, std::uint64_t(step * batch));
    d.zero_grad();
    const float loss = l2.forward(d.ctx, d.forward(dirty), clean);
    d.backward(l2.backward(d.ctx));
    adam.step(d.ctx.backend);
    if ((step + 1) % 50 == 0) std::printf("denoiser step %lld: L2 loss %.5f\n", static_cast<long long>(step + 1), loss);
  }

  // 2. The classifier, trained on clean images only, alone and behind the frozen denoiser. The
  //    composite is one network type built from the two values: the trained denoiser is copied
  //    in as it is (frozen: eval mode, no gradients, never updated).
  using resnet20 = hush::models::resnet20;
  const resnet20 fresh({.channels = 1, .classes = 10});
  const hush::train::classifier_options options{.epochs = epochs, .batch = 128};
  hush::train::clean_only regime;
  hush::model<resnet20, hush::backend::cpu> alone({.seed = 2}, fresh);
  const auto a = hush::train::fit(alone, regime, train, tests, options).epochs.back().test_accuracy;
  using composite = hush::models::behind_frozen<denoiser, resnet20>;
  hush::model<composite, hush::backend::cpu> behind({.seed = 2}, composite(hush::frozen(d.net), fresh));
  const auto b = hush::train::fit(behind, regime, train, tests, options).epochs.back().test_accuracy;

  std::printf("\ntest accuracy (%%), classifiers trained on %lld clean images for %d epochs\n",
              static_cast<long long>(train.size()), epochs);
  std::printf("| classifier                | clean  | seed 000's noise |\n| ---                       | ---    | ---    |\n");
  std::printf("| ResNet-20 alone           | %6.2f | %6.2f |\n", a[0], a[1]);
  std::printf("| behind the frozen denoiser | %6.2f | %6.2f |\n", b[0], b[1]);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-example-front-end: %s\n", hush::explain(e).c_str());
  return 1;
}
