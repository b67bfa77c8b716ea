// Seed 000's second front end in one page: a Masked Autoencoder (He et al. 2022). The encoder sees
// a random quarter of an image's 4x4 patches, the decoder predicts all of them, and the loss counts
// only the three quarters it did not see. Pre-trained here on Fashion-MNIST's 28x28 images.
//
//   build/bin/hush-example-mae [--data DIR] [--epochs 3] [--out results/example_mae.png]
//
// It prints each epoch's loss and the validation PSNR over the hidden patches, then the test
// images' scores, and writes the MAE paper's figure: original / masked / reconstruction /
// reconstruction with the visible patches pasted back (hush-mae is the full tool: photos,
// norm_pix, mask ratios, denoising with a trained MAE).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "hush/backend/cpu.hpp"
#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/io/image_grid.hpp"
#include "hush/io/paths.hpp"
#include "hush/models/mae.hpp"
#include "hush/train/mae.hpp"

int main(int argc, char** argv) try {
  CLI::App app{"Pre-train a Masked Autoencoder on Fashion-MNIST and show what it fills in"};
  std::string data_dir = hush::data::default_fashion_mnist_dir;
  std::filesystem::path out = "results/example_mae.png";
  int epochs = 3;
  app.add_option("--data", data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs of 200 steps of 64 images")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--out", out, "the figure (PNG)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  hush::io::check_output_path(out);

  const auto train = hush::data::fashion_mnist(data_dir, "train").images;
  const auto test = hush::data::fashion_mnist(data_dir, "t10k").images;
  hush::tensor validation, held_out;
  hush::data::slice(test, 0, 256, validation);  // scored after each epoch
  hush::data::slice(test, 256, 1280, held_out);   // scored once at the end

  // mae_small's encoder (6 blocks, 192 wide) and decoder (2 blocks, 96 wide) on 28x28 grey images
  // in 4x4 patches: 49 tokens, 12 of them seen by the encoder.
  const hush::models::mae_options shape{.image = 28, .patch = 4, .channels = 1, .mask_ratio = 0.75f};
  hush::model<hush::models::mae_small, hush::backend::cpu> m({.seed = 1}, hush::models::mae_small(shape));

  // Batches are asked for by (epoch, step): here each epoch walks one seeded shuffle of the images.
  const std::int64_t batch = 64;
  std::vector<std::int64_t> order;
  int order_epoch = 0;
  const auto batches = [&](hush::tensor& x, int epoch, std::int64_t step) {
    if (epoch != order_epoch) order = hush::data::shuffled_order(train.shape()[0], 1, std::uint64_t(epoch)), order_epoch = epoch;
    hush::data::gather(train, order, step * batch, (step + 1) * batch, x);
  };
  hush::train::fit_mae(m, batches, validation, {.epochs = epochs, .steps = 200, .batch = batch});

  const auto score = hush::train::evaluate_mae(m, held_out, 0.75f);
  std::printf("%lld test images, 75%% of patches hidden: PSNR %.2f dB over the hidden patches, %.2f dB for the whole "
              "image with the visible ones pasted back\n",
              static_cast<long long>(score.images), score.psnr, score.pasted_psnr);
  hush::io::save_image_grid(out, hush::train::reconstruct(m, held_out, 8, 0.75f));
  std::printf("wrote %s\n", out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-example-mae: %s\n", hush::explain(e).c_str());
  return 1;
}
