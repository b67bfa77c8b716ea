// Seeds 001 and 003 in one page: a denoiser trained from noisy photos alone. Seed 001's residual
// U-Net learns Gaussian noise (sigma 25/255) by Noise2Noise (each crop's target is a second,
// independently noised copy: no clean image is ever shown), then cleans a photo it never saw.
//
//   scripts/photos results/photos      # opencv-doc's photos in train/ val/ test/ (any folders work)
//   build/bin/hush-example-denoiser [--photos results/photos] [--epochs 20] [--out results/example_denoiser.png]
//
// It prints each epoch's loss and validation PSNR/SSIM, then the test photo's PSNR and SSIM,
// noisy and denoised, and writes noisy / denoised / clean one above the other (hush-denoise is the full
// tool: more models, losses and noises, tiles for large photos, shipped weights).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "hush/backend/cpu.hpp"
#include "hush/data/image_folder.hpp"
#include "hush/data/photos.hpp"
#include "hush/denoise/apply.hpp"
#include "hush/io/image_grid.hpp"
#include "hush/io/opencv.hpp"
#include "hush/io/paths.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/noise/spec.hpp"
#include "hush/train/denoiser.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) try {
  CLI::App app{"Train seed 001's residual U-Net by Noise2Noise on photos, then denoise a test photo"};
  fs::path photos = "results/photos", out = "results/example_denoiser.png";
  int epochs = 20;
  app.add_option("--photos", photos, "folder with train/, val/ and test/ photo folders (scripts/photos)")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs of 100 steps of 8 crops")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--out", out, "the side-by-side PNG")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  hush::io::check_output_path(out);  // refuse an unwritable path now, not after training

  // Photos are decoded once; training draws random 64-pixel crops, validation runs whole photos.
  const auto train = hush::data::photos::from_folder(photos / "train", {.max_side = 512, .min_side = 64});
  const auto val = hush::data::photos::from_folder(photos / "val", {.max_side = 256});
  const auto noise = hush::noise::parse_spec("gaussian(sigma=0.098)");  // 25/255

  // The network is a type; its width (16 here, 64 in seed 001) is a value.
  using net = hush::models::residual_unet;
  hush::model<net, hush::backend::cpu> m({.seed = 1}, net({.channels = 3, .width = 16}));
  hush::train::denoiser_options run;  // set member by member: g++ 12 misreads a designated initializer here
  run.epochs = epochs, run.steps = 100, run.batch = 8, run.crop = 64, run.noise = noise;
  run.pairs = hush::train::pairing::noise2noise;
  const auto history = hush::train::fit_denoiser(m, train, val, run);
  std::printf("validation PSNR %.2f dB noisy, %.2f dB after %d epochs\n", history.noisy_psnr,
              history.epochs.back().val_psnr, epochs);

  // A photo it never saw: noised with a fixed seed, cleaned by the trained network (any size:
  // padded to a multiple of 32 and cropped back), scored against the clean original.
  const auto test_files = hush::data::image_files(photos / "test");
  if (test_files.empty()) throw hush::io_error((photos / "test").string() + ": no photos");
  const auto& photo = test_files.front();
  hush::tensor clean = hush::io::to_tensor(hush::io::read_image(photo, cv::IMREAD_COLOR)), noisy;  // (C, H, W)
  const auto image = clean.shape();
  clean.reshape({1, image[0], image[1], image[2]});  // a batch of one, as noise is drawn per image of a batch
  hush::noise::apply_to_batch(hush::backend::cpu{}, noise, hush::counter_rng{2024}, clean, noisy);
  clean.reshape(image), noisy.reshape(image);
  m.infer();
  hush::tensor denoised = hush::denoise::apply(m, noisy);
  std::printf("%s: noisy psnr=%.2f ssim=%.3f, denoised psnr=%.2f ssim=%.3f\n", photo.filename().c_str(),
              hush::metrics::psnr(clean, noisy), hush::metrics::ssim(clean, noisy), hush::metrics::psnr(clean, denoised),
              hush::metrics::ssim(clean, denoised));
  const hush::shape one{1, image[0], image[1], image[2]};
  noisy.reshape(one), denoised.reshape(one), clean.reshape(one);
  hush::io::save_image_grid(out, {{"noisy", noisy}, {"denoised", denoised}, {"clean", clean}});
  std::printf("wrote %s\n", out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-example-denoiser: %s\n", hush::explain(e).c_str());
  return 1;
}
