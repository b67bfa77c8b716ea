// hush-noise: writes a noisy copy of an image.
//   hush-noise --spec "gaussian(sigma=0.1)+salt_pepper(amount=0.05)" --seed 3 in.png out.png
#include <CLI/CLI.hpp>

#include <cstdio>

#include "hush/backend/devices.hpp"
#include "hush/noise/compose.hpp"
#include "hush/io/opencv.hpp"
#include "hush/noise/spec.hpp"

namespace nz = hush::noise;

int main(int argc, char** argv) {
  CLI::App app{"Write a noisy copy of an image (any format OpenCV reads)"};
  std::string spec_text, in, out;
  std::uint64_t seed = 0, index = 0;
  app.add_option("--spec", spec_text, "the noise, e.g. gaussian(sigma=0.1)+poisson(peak=30), or a preset")->required();
  app.add_option("--seed", seed, "seed of the noise")->capture_default_str();
  app.add_option("--index", index, "image index within the seed (another index, another draw)")->capture_default_str();
  app.add_option("IN", in, "input image")->required();
  app.add_option("OUT", out,
                 "output image; its extension picks the format. 16-bit input stays 16-bit in PNG and TIFF, float input "
                 "stays float in TIFF; other formats get 8 bits")
      ->required();
  std::int64_t max_pixels = hush::io::default_max_pixels;
  app.add_option("--max-pixels", max_pixels, "refuse images above this many pixels, read from the header before decoding")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  std::string presets = "\nNoise models:\n" + nz::models_help() + "\nPresets (the seeds' settings):\n";
  for (const auto& [name, p] : nz::presets()) presets += "  " + name + "  = " + p.first + "\n      " + p.second + "\n";
  app.footer(presets);
  CLI11_PARSE(app, argc, argv);
  try {
    const auto device = hush::choose_device();  // HUSH_DEVICE, or the best device found
    std::printf("%s\n", device.line().c_str());
    hush::io::check_output_path(out);  // before any work, and never over the input
    hush::io::check_not_input(out, in);
    const auto noise = nz::parse_spec(spec_text);
    const auto image = hush::io::read_image(in, cv::IMREAD_UNCHANGED, max_pixels);
    hush::tensor batch = hush::io::to_tensor(image);  // one image: (1, C, H, W), keyed by --index
    const auto image_shape = batch.shape();
    batch.reshape({1, image_shape[0], image_shape[1], image_shape[2]});
    hush::tensor noisy = hush::with_device(device, [&](auto backend) {
      hush::basic_tensor<hush::memory_of<decltype(backend)>> y;
      nz::apply_to_batch(backend, noise, hush::counter_rng{seed}, hush::to(backend, batch), y, index);
      return hush::tensor(hush::to_host(y));
    });
    noisy.reshape(image_shape);
    const int depth = hush::io::depth_for(image, out);
    hush::io::write_image(out, hush::io::to_image(noisy, depth));
    std::printf("%s: %s (seed %llu)%s\n", out.c_str(), noise.describe().c_str(), static_cast<unsigned long long>(seed),
                depth == CV_8U && image.depth() != CV_8U ? "; written at 8 bits, all this format holds" : "");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-noise: %s\n", hush::explain(e).c_str());
    return 1;
  }
}
