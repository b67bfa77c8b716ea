// Seed 004 in one page: a classifier that survives noisy pictures. ResNet-20 is trained twice on
// Fashion-MNIST, once on clean images only and once on batches mixing clean images with
// Gaussian-noised copies of them, then both are tested on clean and on noisy test images.
//
//   build/bin/hush-example-classifier [--data DIR] [--images 8192] [--epochs 3]
//
// It prints one line per epoch and regime, then the table: the clean-trained model collapses under
// noise and the mixed one holds up; on clean images the two are within a point or two (a run this
// short cannot resolve the full study's 0.7-point margin: docs/results.md). hush-robustness is the
// full study, with four regimes and eight test conditions.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "hush/backend/cpu.hpp"
#include "hush/data/idx.hpp"
#include "hush/models/resnet.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/pixel.hpp"
#include "hush/train/classifier.hpp"
#include "hush/train/regime.hpp"

int main(int argc, char** argv) try {
  CLI::App app{"Train ResNet-20 clean-only and on clean + noisy batches; test both on clean and noisy images"};
  std::string data_dir = hush::data::default_fashion_mnist_dir;
  std::int64_t images = 8192;
  int epochs = 3;
  app.add_option("--data", data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--images", images, "training images (the first N)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--epochs", epochs, "epochs per model")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  // The data: the first `images` training images, 2,000 test images clean and the same 2,000
  // with Gaussian noise of sigma 0.15 (pixels are in [0, 1]), drawn once from a fixed seed.
  const auto train = hush::data::fashion_mnist(data_dir, "train").first(images);
  const auto test = hush::data::fashion_mnist(data_dir, "t10k").first(2000);
  const hush::noise::gaussian noise{.sigma = 0.15f};
  hush::train::test_set noisy{"noisy", test};
  hush::noise::apply_to_batch(hush::backend::cpu{}, noise, hush::counter_rng{99}, test.images, noisy.data.images);
  const std::vector<hush::train::test_set> tests = {{"clean", test}, noisy};

  // The training recipe: SGD with Nesterov momentum, one-cycle to lr 0.1 (hush::recipe's
  // defaults), batch 128, random flips. Nothing is written to disk (no `out` folder).
  const hush::train::classifier_options options{.epochs = epochs, .batch = 128};

  // One network type, two regimes: what a batch trains on is a value given to fit().
  using resnet20 = hush::models::resnet20;
  auto train_with = [&](auto& regime) {
    hush::model<resnet20, hush::backend::cpu> m({.seed = 1}, resnet20({.channels = 1, .classes = 10}));
    return hush::train::fit(m, regime, train, tests, options).epochs.back().test_accuracy;
  };
  hush::train::clean_only clean_only;
  hush::train::mixed mixed(noise, hush::counter_rng{7});  // half of every batch noised, per image
  const auto clean_trained = train_with(clean_only);
  const auto mixed_trained = train_with(mixed);

  std::printf("\ntest accuracy (%%) after %d epochs on %lld images\n", epochs, static_cast<long long>(train.size()));
  std::printf("| trained on        | clean  | noisy (sigma 0.15) |\n| ---               | ---    | ---    |\n");
  std::printf("| clean only        | %6.2f | %6.2f |\n", clean_trained[0], clean_trained[1]);
  std::printf("| clean + noisy mix | %6.2f | %6.2f |\n", mixed_trained[0], mixed_trained[1]);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-example-classifier: %s\n", hush::explain(e).c_str());
  return 1;
}
