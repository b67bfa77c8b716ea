#pragma once
// `hush-denoise table`: seed 001's Tables 4-6, measured. For each noise (seed 001's three at
// their ranges' mean intensity, or any given), each set of photos and each method (the noisy
// photo itself, OpenCV's non-local means with its strength tuned per noise on the validation
// photos, and each trained denoiser given), the average and maximum PSNR and SSIM, and the
// method's speed. Every method sees the same noisy photos: noised with keys fixed by (set, noise,
// photo) and saved at 8 bits, as a noisy photo on disk is. Writes a Markdown file.
#include <opencv2/photo.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hush/data/photos.hpp"
#include "hush/denoise/apply.hpp"
#include "hush/denoise/models.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/opencv.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/spec.hpp"

namespace hush::tools {

struct table_args {
  std::vector<std::pair<std::string, std::string>> sets;    // name, folder
  std::vector<std::pair<std::string, std::string>> noises;  // name, spec
  std::vector<std::pair<std::string, std::string>> models;  // name, weights file
  std::string val, out;
  std::vector<float> nlm_strengths = {4, 6, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50};
  std::uint64_t seed = 1;
};

/// What one method scored on one set under one noise.
struct scores {
  std::vector<double> psnr, ssim;
  double seconds = 0, pixels = 0;
  void add(const tensor& clean, const tensor& y) {
    psnr.push_back(metrics::psnr(clean, y)), ssim.push_back(metrics::ssim(clean, y));
  }
  static double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / double(v.size());
  }
  static double max(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
};

namespace detail {
/// The noisy photo a method sees: noised (key: photo `index`, `salt`) and rounded to 8 bits.
inline tensor noisy_photo(const tensor& clean, const noise::spec& noise, const counter_rng& rng, std::uint64_t index,
                          std::uint64_t salt) {
  const auto& s = clean.shape();
  tensor batch({1, s[0], s[1], s[2]}, clean.values()), noisy;
  noise::apply_to_batch(backend::cpu{}, noise, rng, batch, noisy, index, salt);
  tensor y({s[0], s[1], s[2]});
  for (std::int64_t i = 0; i < y.numel(); ++i) y[i] = std::round(std::clamp(noisy[i], 0.0f, 1.0f) * 255.0f) / 255.0f;
  return y;
}
inline tensor nlm(const tensor& noisy, float h) {
  const cv::Mat in = io::to_image(noisy, CV_8U);
  cv::Mat out;
  if (in.channels() == 3) cv::fastNlMeansDenoisingColored(in, out, h, h, 7, 21);
  else cv::fastNlMeansDenoising(in, out, h, 7, 21);
  return io::to_tensor(out);
}
inline std::string cell(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}
}  // namespace detail

/// A denoiser as a function of a photo, loaded from its weights file once.
using denoiser_fn = std::function<tensor(const tensor&)>;

inline int run_table(const table_args& a, const std::function<denoiser_fn(const std::string&)>& load) {
  io::check_output_path(a.out);
  const counter_rng rng{a.seed};
  const auto val = data::photos::from_folder(a.val);
  std::vector<std::pair<std::string, data::photos>> sets;
  for (const auto& [name, dir] : a.sets) sets.emplace_back(name, data::photos::from_folder(dir));
  std::vector<std::pair<std::string, noise::spec>> noises;
  for (const auto& [name, text] : a.noises) noises.emplace_back(name, noise::parse_spec(text));
  std::vector<std::pair<std::string, denoiser_fn>> models;
  for (const auto& [name, file] : a.models) models.emplace_back(name, load(file));

  std::string md = "Command: see docs/results.md. PSNR in dB, SSIM in [0, 1]; MP/s: megapixels per second on this machine.\n";
  for (std::size_t ni = 0; ni < noises.size(); ++ni) {
    const auto& [noise_name, noise] = noises[ni];
    // Non-local means' strength: the best mean PSNR on the validation photos.
    float best_h = a.nlm_strengths.front();
    double best = -1;
    for (float h : a.nlm_strengths) {
      double total = 0;
      for (std::int64_t i = 0; i < val.size(); ++i) {
        const auto clean = val.image(i);
        total += metrics::psnr(clean, detail::nlm(detail::noisy_photo(clean, noise, rng, std::uint64_t(i), 900 + ni), h));
      }
      if (total > best) best = total, best_h = h;
    }
    std::printf("table: %s: non-local means h = %g (best of %zu on the validation photos)\n", noise_name.c_str(),
                double(best_h), a.nlm_strengths.size());
    md += "\n### " + noise_name + ": `" + noise.describe() + "`\n\nNon-local means: h = hColor = " +
          detail::cell(best_h, 0) + " (tuned on the validation photos), template 7, search 21.\n\n" +
          "| set | method | PSNR avg | PSNR max | SSIM avg | SSIM max | MP/s |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
    for (std::size_t si = 0; si < sets.size(); ++si) {
      const auto& [set_name, photos] = sets[si];
      std::vector<std::pair<std::string, scores>> rows = {{"noisy", {}}, {"non-local means", {}}};
      for (const auto& [name, fn] : models) rows.emplace_back(name, scores{});
      for (std::int64_t i = 0; i < photos.size(); ++i) {
        const auto clean = photos.image(i);
        const auto noisy = detail::noisy_photo(clean, noise, rng, std::uint64_t(i), 1000 + 10 * si + ni);
        const double px = double(clean.shape()[1] * clean.shape()[2]);
        rows[0].second.add(clean, noisy);
        const auto timed = [&](scores& s, auto&& f) {
          const auto t0 = std::chrono::steady_clock::now();
          tensor y = f();
          s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), s.pixels += px;
          for (auto& v : y.values()) v = std::clamp(v, 0.0f, 1.0f);
          s.add(clean, y);
        };
        timed(rows[1].second, [&] { return detail::nlm(noisy, best_h); });
        for (std::size_t k = 0; k < models.size(); ++k) timed(rows[2 + k].second, [&] { return models[k].second(noisy); });
      }
      for (const auto& [method, s] : rows) {
        md += "| " + set_name + " (" + std::to_string(photos.size()) + ") | " + method + " | " + detail::cell(scores::mean(s.psnr), 2) +
              " | " + detail::cell(scores::max(s.psnr), 2) + " | " + detail::cell(scores::mean(s.ssim), 3) + " | " +
              detail::cell(scores::max(s.ssim), 3) + " | " + (s.seconds > 0 ? detail::cell(s.pixels / s.seconds / 1e6, 2) : "") + " |\n";
        std::printf("table: %s, %s, %s: PSNR %.2f dB, SSIM %.3f\n", noise_name.c_str(), set_name.c_str(), method.c_str(),
                    scores::mean(s.psnr), scores::mean(s.ssim));
      }
      std::fflush(stdout);
    }
  }
  io::write_file_atomically(a.out, md);
  std::printf("table: %s\n", a.out.c_str());
  return 0;
}

}  // namespace hush::tools
