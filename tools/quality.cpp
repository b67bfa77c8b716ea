// hush-quality: PSNR and SSIM of a test image against a reference of the same size.
//   hush-quality clean.png denoised.png   ->   psnr=27.31 ssim=0.8123
#include <CLI/CLI.hpp>

#include <cstdio>

#include "hush/io/opencv.hpp"
#include "hush/metrics/quality.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Print 'psnr=<dB> ssim=<value>' for two images of the same size (both colour or both grey), each scaled "
               "by its depth (8-bit by 1/255, 16-bit by 1/65535, float as it is)"};
  std::string ref, test;
  app.add_option("REF", ref, "reference image")->required();
  app.add_option("TEST", test, "image to compare with it")->required();
  std::int64_t max_pixels = hush::io::default_max_pixels;
  app.add_option("--max-pixels", max_pixels, "refuse images above this many pixels, read from the header before decoding")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    const auto a = hush::io::to_tensor(hush::io::read_image(ref, cv::IMREAD_UNCHANGED, max_pixels));
    const auto b = hush::io::to_tensor(hush::io::read_image(test, cv::IMREAD_UNCHANGED, max_pixels));
    if (a.shape() != b.shape())
      throw hush::error("images differ: " + ref + " is " + a.shape().str() + ", " + test + " is " + b.shape().str() +
                        " (channels, height, width)");
    std::printf("psnr=%.4f ssim=%.6f\n", hush::metrics::psnr(a, b), hush::metrics::ssim(a, b));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-quality: %s\n", hush::explain(e).c_str());
    return 1;
  }
}
