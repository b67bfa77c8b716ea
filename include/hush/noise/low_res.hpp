#pragma once
// Resolution loss (seed 004): down-sample by 2 or 4 (box average over each block), then
// up-sample back with nearest or bicubic interpolation (Keys' cubic, a = -0.75, as OpenCV's
// INTER_CUBIC and PyTorch's bicubic). `factor = 0` or `upsampling = random` draw per image.
// mixed_res keeps one random rectangle sharp and lowers the resolution of the rest, as a
// region-of-interest encoder would. Host code for now (host_only: a device batch is moved to the
// host and back around it, noise/compose.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hush/noise/noise.hpp"

namespace hush::noise {

enum class upsampling { nearest, bicubic, random };

namespace detail {
inline float cubic_weight(float t) {  // Keys (1981), a = -0.75
  constexpr float a = -0.75f;
  t = std::fabs(t);
  if (t <= 1.0f) return ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
  if (t < 2.0f) return ((a * t - 5.0f * a) * t + 8.0f * a) * t - 4.0f * a;
  return 0.0f;
}
/// One channel plane (h × w) made low-resolution by `f` into `out`.
inline void low_res_plane(const float* x, float* out, std::int64_t h, std::int64_t w, std::int64_t f, bool bicubic) {
  const auto dh = (h + f - 1) / f, dw = (w + f - 1) / f;
  std::vector<float> d(static_cast<std::size_t>(dh * dw));
  for (std::int64_t i = 0; i < dh; ++i)
    for (std::int64_t j = 0; j < dw; ++j) {
      double s = 0;
      int count = 0;
      for (auto a = i * f; a < std::min(h, (i + 1) * f); ++a)
        for (auto b = j * f; b < std::min(w, (j + 1) * f); ++b) s += x[a * w + b], ++count;
      d[static_cast<std::size_t>(i * dw + j)] = static_cast<float>(s / count);
    }
  const auto at = [&](std::int64_t i, std::int64_t j) {
    return d[static_cast<std::size_t>(std::clamp<std::int64_t>(i, 0, dh - 1) * dw + std::clamp<std::int64_t>(j, 0, dw - 1))];
  };
  for (std::int64_t i = 0; i < h; ++i)
    for (std::int64_t j = 0; j < w; ++j) {
      if (!bicubic) {
        out[i * w + j] = at(i / f, j / f);
        continue;
      }
      const float si = (static_cast<float>(i) + 0.5f) / static_cast<float>(f) - 0.5f;
      const float sj = (static_cast<float>(j) + 0.5f) / static_cast<float>(f) - 0.5f;
      const auto i0 = static_cast<std::int64_t>(std::floor(si)), j0 = static_cast<std::int64_t>(std::floor(sj));
      float v = 0.0f;
      for (std::int64_t a = -1; a <= 2; ++a)
        for (std::int64_t b = -1; b <= 2; ++b)
          v += cubic_weight(si - static_cast<float>(i0 + a)) * cubic_weight(sj - static_cast<float>(j0 + b)) * at(i0 + a, j0 + b);
      out[i * w + j] = clip01(v);
    }
}
inline std::int64_t pick_factor(std::int64_t factor, const counter_rng& rng, std::uint64_t stream) {
  return factor > 0 ? factor : (rng.uniform(stream, 2) < 0.5f ? 2 : 4);
}
inline bool pick_bicubic(upsampling u, const counter_rng& rng, std::uint64_t stream) {
  return u == upsampling::random ? rng.uniform(stream, 3) < 0.5f : u == upsampling::bicubic;
}
inline std::string upsampling_name(upsampling u) {
  return u == upsampling::nearest ? "nearest" : u == upsampling::bicubic ? "bicubic" : "random";
}
}  // namespace detail

struct low_res {
  static constexpr const char* kind = "low_res";
  static constexpr bool host_only = true;
  std::int64_t factor = 2;  // 2 or 4; 0: either, per image
  noise::upsampling upsampling = noise::upsampling::nearest;

  template <class B>
  void apply(B, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const auto f = detail::pick_factor(factor, rng, stream);
    const bool cubic = detail::pick_bicubic(upsampling, rng, stream);
    const auto h = img[img.rank - 2], w = img[img.rank - 1], planes = img.numel() / (h * w);
    std::vector<float> tmp(static_cast<std::size_t>(h * w));
    for (std::int64_t c = 0; c < planes; ++c) {
      detail::low_res_plane(x + c * h * w, tmp.data(), h, w, f, cubic);
      std::copy(tmp.begin(), tmp.end(), y + c * h * w);
    }
  }
  std::string describe() const {
    return "low_res(factor=" + (factor ? std::to_string(factor) : std::string("random")) +
           ", upsampling=" + detail::upsampling_name(upsampling) + ")";
  }
};

struct mixed_res {
  static constexpr const char* kind = "mixed_res";
  static constexpr bool host_only = true;
  std::int64_t factor = 4;
  noise::upsampling upsampling = noise::upsampling::nearest;
  range sharp{0.25f, 0.5f};  // fraction of the image's area kept at full resolution

  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const auto h = img[img.rank - 2], w = img[img.rank - 1], planes = img.numel() / (h * w);
    // The sharp rectangle: area fraction drawn from `sharp`, aspect and position uniform.
    const float area = sharp.draw(rng, stream), aspect = 0.5f + rng.uniform(stream, 4);
    const auto rh = std::clamp<std::int64_t>(std::lround(std::sqrt(area / aspect) * float(h)), 1, h);
    const auto rw = std::clamp<std::int64_t>(std::lround(std::sqrt(area * aspect) * float(w)), 1, w);
    const auto top = static_cast<std::int64_t>(rng.uniform(stream, 5) * float(h - rh + 1));
    const auto left = static_cast<std::int64_t>(rng.uniform(stream, 6) * float(w - rw + 1));
    std::vector<float> sharp_copy(x, x + img.numel());
    low_res{factor, upsampling}.apply(b, rng, stream, img, x, y);
    for (std::int64_t c = 0; c < planes; ++c)
      for (auto i = top; i < top + rh; ++i)
        for (auto j = left; j < left + rw; ++j) y[(c * h + i) * w + j] = sharp_copy[static_cast<std::size_t>((c * h + i) * w + j)];
  }
  std::string describe() const {
    return "mixed_res(factor=" + std::to_string(factor) + ", sharp=" + sharp.str() + ")";
  }
};

}  // namespace hush::noise
