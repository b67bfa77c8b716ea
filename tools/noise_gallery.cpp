// hush-noise-gallery: every noise at low, middle and high intensity on one image, labelled with
// its PSNR and SSIM against the clean image, as one PNG.
//   hush-noise-gallery photo.png gallery.png
#include <CLI/CLI.hpp>

#include <cstdio>

#include "hush/backend/cpu.hpp"
#include "hush/io/opencv.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/noise/spec.hpp"

namespace nz = hush::noise;

int main(int argc, char** argv) {
  CLI::App app{"Draw a labelled grid of every noise at three intensities"};
  std::string in, out;
  std::uint64_t seed = 1;
  int tile = 256;
  app.add_option("IN", in, "input image")->required();
  app.add_option("OUT", out, "output PNG")->required();
  app.add_option("--seed", seed, "seed of the noise")->capture_default_str();
  app.add_option("--tile", tile, "width of each tile in pixels")->capture_default_str()->check(CLI::Range(64, 1024));
  std::int64_t max_pixels = hush::io::default_max_pixels;
  app.add_option("--max-pixels", max_pixels, "refuse images above this many pixels, read from the header before decoding")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  // Rows: a noise and three intensities (the seeds' ranges where they give one).
  const std::vector<std::pair<std::string, std::array<std::string, 3>>> rows = {
      {"gaussian", {"gaussian(var=0.005)", "gaussian(var=0.03)", "gaussian(var=0.08)"}},
      {"salt & pepper", {"salt_pepper(amount=0.02)", "salt_pepper(amount=0.045)", "salt_pepper(amount=0.07)"}},
      {"speckle", {"speckle(var=0.005)", "speckle(var=0.05)", "speckle(var=0.2)"}},
      {"poisson", {"poisson(peak=100)", "poisson(peak=30)", "poisson(peak=5)"}},
      {"bernoulli", {"bernoulli(p=0.1)", "bernoulli(p=0.5)", "bernoulli(p=0.9)"}},
      {"impulse", {"impulse(amount=0.05)", "impulse(amount=0.25)", "impulse(amount=0.5)"}},
      {"text", {"text(count=3)", "text(count=10)", "text(count=25)"}},
      {"low res", {"low_res(factor=2, upsampling=bicubic)", "low_res(factor=4, upsampling=bicubic)",
                   "low_res(factor=4, upsampling=nearest)"}},
      {"mixed res", {"mixed_res(factor=2, sharp=0.4)", "mixed_res(factor=4, sharp=0.4)", "mixed_res(factor=4, sharp=0.2)"}},
      {"seed 000 mix", {"gaussian(sigma=0.05)+salt_pepper(amount=0.03)+poisson(peak=60)", "seed000",
                        "gaussian(sigma=0.2)+salt_pepper(amount=0.1)+poisson(peak=10)"}},
  };
  try {
    hush::io::check_output_path(out);  // before any work, and never over the input
    hush::io::check_not_input(out, in);
    cv::Mat image = hush::io::read_image(in, cv::IMREAD_UNCHANGED, max_pixels);
    if (image.rows > 4 * image.cols || image.cols > 16 * image.rows)
      throw hush::io_error(in + ": " + std::to_string(image.cols) + " x " + std::to_string(image.rows) +
                           " pixels: too narrow or too flat for a gallery of tiles (at most 1:4 or 16:1); crop it first");
    const int th = std::max(1, tile * image.rows / image.cols);
    cv::resize(image, image, cv::Size(tile, th), 0, 0, cv::INTER_AREA);
    const auto clean = hush::io::to_tensor(image);
    const int label_h = 34, head_h = 28, left = 120;
    cv::Mat grid(head_h + static_cast<int>(rows.size()) * (th + label_h), left + 4 * tile, CV_8UC3, cv::Scalar(255, 255, 255));
    const auto font = cv::FONT_HERSHEY_SIMPLEX;
    const char* heads[] = {"clean", "low", "middle", "high"};
    for (int c = 0; c < 4; ++c)
      cv::putText(grid, heads[c], {left + c * tile + 6, 20}, font, 0.55, {0, 0, 0}, 1, cv::LINE_AA);
    auto place = [&](const hush::tensor& t, int r, int c, const std::string& caption) {
      cv::Mat tileimg = hush::io::to_image(t);
      if (tileimg.channels() == 1) cv::cvtColor(tileimg, tileimg, cv::COLOR_GRAY2BGR);
      const int y = head_h + r * (th + label_h);
      tileimg.copyTo(grid(cv::Rect(left + c * tile, y, tile, th)));
      cv::putText(grid, caption, {left + c * tile + 4, y + th + 14}, font, 0.38, {40, 40, 40}, 1, cv::LINE_AA);
    };
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const int y = head_h + static_cast<int>(r) * (th + label_h);
      cv::putText(grid, rows[r].first, {6, y + th / 2}, font, 0.5, {0, 0, 0}, 1, cv::LINE_AA);
      place(clean, static_cast<int>(r), 0, "");
      for (int k = 0; k < 3; ++k) {
        const auto noise = nz::parse_spec(rows[r].second[static_cast<std::size_t>(k)]);
        hush::tensor noisy(clean.shape());
        noise.apply(hush::backend::cpu{}, hush::counter_rng{seed}, nz::image_stream(r), clean.shape(), clean.data(),
                    noisy.data());
        char caption[96];
        std::snprintf(caption, sizeof caption, "PSNR %.1f dB  SSIM %.3f", hush::metrics::psnr(clean, noisy),
                      hush::metrics::ssim(clean, noisy));
        place(noisy, static_cast<int>(r), k + 1, caption);
      }
    }
    hush::io::write_image(out, grid);
    std::printf("%s: %zu noises x 3 intensities on %s\n", out.c_str(), rows.size(), in.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-noise-gallery: %s\n", hush::explain(e).c_str());
    return 1;
  }
}
