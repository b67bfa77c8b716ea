#pragma once
// Text overlay (Noise2Noise's text removal, seed 003): random strings of letters and digits drawn
// over the image with OpenCV, at random places, sizes and colours. Every choice is a draw of the
// counter-based generator, and OpenCV's rasteriser is deterministic, so a seed reproduces the
// image. Needs hush::opencv; runs on the host (host_only: a device batch is moved to the host and
// back around it, noise/compose.hpp).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hush/io/opencv.hpp"
#include "hush/noise/noise.hpp"

namespace hush::noise {

/// Text overlay (Noise2Noise's text removal): `count` random strings of letters and digits (default
/// 5 to 15) in random colours, glyphs a `size` fraction of the image height, drawn with OpenCV on the host.
struct text {
  static constexpr const char* kind = "text";
  static constexpr bool host_only = true;
  range count{5.0f, 15.0f};   // strings per image
  range size{0.04f, 0.12f};   // glyph height as a fraction of the image height

  template <class B>
  void apply(B, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const int c = static_cast<int>(img[0]), h = static_cast<int>(img[1]), w = static_cast<int>(img[2]);
    if (x != y) std::copy(x, x + img.numel(), y);
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const auto strings = static_cast<int>(count.draw(rng, stream) + 0.5f);
    const auto key = pixel_key(stream);
    std::uint64_t draw = 0;
    auto u = [&] { return rng.uniform(key, draw++); };
    for (int s = 0; s < strings; ++s) {
      std::string str(static_cast<std::size_t>(3 + static_cast<int>(u() * 8)), ' ');
      for (auto& ch : str) ch = alphabet[static_cast<int>(u() * 62) % 62];
      const double glyph = (size.lo + (size.hi - size.lo) * u()) * h;
      const double scale = glyph / 22.0;  // HERSHEY_SIMPLEX capitals are ~22 px at scale 1
      const int thickness = 1 + static_cast<int>(u() * 2);
      const cv::Point at(static_cast<int>(u() * w * 0.9), static_cast<int>(glyph + u() * (h - glyph)));
      float colour[3] = {static_cast<float>(u()), static_cast<float>(u()), static_cast<float>(u())};
      cv::Mat mask = cv::Mat::zeros(h, w, CV_8UC1);
      cv::putText(mask, str, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255), thickness, cv::LINE_8);
      for (int i = 0; i < h; ++i) {
        const auto* m = mask.ptr<unsigned char>(i);
        for (int j = 0; j < w; ++j)
          if (m[j])
            for (int k = 0; k < c; ++k) y[(std::int64_t(k) * h + i) * w + j] = colour[k % 3];
      }
    }
  }
  std::string describe() const { return "text(count=" + count.str() + ", size=" + size.str() + ")"; }
};

}  // namespace hush::noise
