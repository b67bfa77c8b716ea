// Seed 001 (and seed 000's first front end) in one page: a GAN denoiser. The generator is seed
// 001's residual U-Net, the discriminator a DCGAN one; the generator minimises its L2 distance to
// the clean crop plus a small adversarial term (weight 0.001, seed 001's Table 8), on seed 001's
// noise mixture (Gaussian, salt-and-pepper or speckle, one per image, each with a random strength).
//
//   scripts/photos results/photos      # opencv-doc's photos in train/ val/ test/ (any folders work)
//   build/bin/hush-example-gan [--photos results/photos] [--epochs 10] [--out results/example_gan]
//
// It prints each epoch's discriminator and generator losses and validation PSNR/SSIM, and writes
// OUT/curves.png, OUT/grids/epoch_NNN.png (noisy / generated / clean) and both networks' weights
// (hush-denoise --weights OUT/generator.safetensors cleans a photo with it; hush-denoise train
// --gan is the full tool).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "hush/backend/cpu.hpp"
#include "hush/data/photos.hpp"
#include "hush/losses/pointwise.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/noise/spec.hpp"
#include "hush/train/gan_denoiser.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) try {
  CLI::App app{"Train seed 001's GAN denoiser (residual U-Net against a DCGAN discriminator) on photos"};
  fs::path photos = "results/photos", out = "results/example_gan";
  int epochs = 10;
  app.add_option("--photos", photos, "folder with train/ and val/ photo folders (scripts/photos)")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs of 100 steps of 8 crops")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--out", out, "folder for the log, curves, image grids and weights")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto train = hush::data::photos::from_folder(photos / "train", {.max_side = 512, .min_side = 64});
  const auto val = hush::data::photos::from_folder(photos / "val", {.max_side = 256});

  // Two networks, two models. The discriminator sees 64-pixel crops (it halves them five times).
  using generator = hush::models::residual_unet;
  using discriminator = hush::models::dcgan_discriminator;
  hush::model<generator, hush::backend::cpu> g({.seed = 1}, generator({.channels = 3, .width = 16}));
  hush::model<discriminator, hush::backend::cpu> d({.seed = 2}, discriminator({.channels = 3, .size = 64, .width = 16}));

  // The data and the run are the denoiser trainer's (supervised pairs: the clean crops are what
  // the discriminator learns to call real); the adversarial recipe: Adam for both networks (G:
  // 1e-3, beta1 0.9; D: 2e-4, beta1 0.5), BCE, content weight 1 and adversarial weight 0.001.
  hush::train::denoiser_options run;  // set member by member: g++ 12 misreads a designated initializer here
  run.epochs = epochs, run.steps = 100, run.batch = 8, run.crop = 64, run.out = out;
  run.noise = hush::noise::parse_spec("seed001");
  hush::train::adversarial_options recipe;
  recipe.generator = {.lr = 1e-3f, .beta1 = 0.9f};  // the denoiser trainer's Adam: seed 001's 2e-4 needs thousands of steps
  recipe.adversarial_weight = 0.001f;  // seed 001's Table 8 value: at 0.01 the validation PSNR swings 10-20 dB here
  const auto history = hush::train::fit_gan_denoiser(g, d, train, val, run, recipe, hush::mse_loss{});

  const auto& last = history.epochs.back();
  std::printf("after %d epochs: D's loss %.3f on clean crops, %.3f on denoised ones; G's L2 %.5f; validation "
              "PSNR %.2f dB, SSIM %.3f\nweights, curves and grids in %s/\n",
              epochs, last.d_real, last.d_fake, last.g_content, last.val_psnr, last.val_ssim, out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-example-gan: %s\n", hush::explain(e).c_str());
  return 1;
}
