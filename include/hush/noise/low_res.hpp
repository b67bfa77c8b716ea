#pragma once
// Resolution loss (seed 004; seed 002's coarse images): down-sample by a whole factor, 2 and 4
// in seed 004, 7 for seed 002's 28-pixel images (box average over each block), then
// up-sample back with nearest or bicubic interpolation (Keys' cubic, a = -0.75, as OpenCV's
// INTER_CUBIC and PyTorch's bicubic). `factor = 0` or `upsampling = random` draw per image.
// mixed_res keeps one random rectangle sharp and lowers the resolution of the rest, as a
// region-of-interest encoder would. Both are backend kernels (for_each_index): the down-sampled
// planes go to a temporary in the backend's memory, so y may be x.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/core/memory.hpp"
#include "hush/core/tensor.hpp"
#include "hush/noise/noise.hpp"

namespace hush::noise {

/// How low_res and mixed_res bring an image back to its size: nearest, bicubic (Keys, a = -0.75),
/// or either drawn at random per image.
enum class upsampling { nearest, bicubic, random };

namespace detail {
HUSH_HD inline float cubic_weight(float t) {  // Keys (1981), a = -0.75
  constexpr float a = -0.75f;
  t = std::fabs(t);
  if (t <= 1.0f) return ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
  if (t < 2.0f) return ((a * t - 5.0f * a) * t + 8.0f * a) * t - 4.0f * a;
  return 0.0f;
}
HUSH_HD inline std::int64_t clamp_index(std::int64_t i, std::int64_t last) { return i < 0 ? 0 : (i > last ? last : i); }

/// Every plane of `image` (h × w each) made low-resolution by `f` into y: box averages over
/// f × f blocks (the last ones cut by the border) into a temporary, then nearest or bicubic back
/// up. Two kernels on backend b.
template <class B>
void low_res_planes(B b, const shape& image, std::int64_t f, bool bicubic, const float* x, float* y) {
  const auto h = image[image.rank - 2], w = image[image.rank - 1], planes = image.numel() / (h * w);
  const auto dh = (h + f - 1) / f, dw = (w + f - 1) / f;
  basic_tensor<memory_of<B>> low(shape{planes, dh, dw});
  float* d = low.data();
  for_each_index(b, planes * dh * dw, [=] HUSH_HD(std::int64_t k) {
    const auto c = k / (dh * dw), i = (k / dw) % dh, j = k % dw;
    const float* xc = x + c * h * w;
    const auto a_end = (i + 1) * f < h ? (i + 1) * f : h, b_end = (j + 1) * f < w ? (j + 1) * f : w;
    double s = 0;
    int count = 0;
    for (auto a = i * f; a < a_end; ++a)
      for (auto col = j * f; col < b_end; ++col) s += xc[a * w + col], ++count;
    d[k] = static_cast<float>(s / count);
  });
  for_each_index(b, planes * h * w, [=] HUSH_HD(std::int64_t k) {
    const auto c = k / (h * w), i = (k / w) % h, j = k % w;
    const float* dc = d + c * dh * dw;
    const auto at = [=](std::int64_t r, std::int64_t q) { return dc[clamp_index(r, dh - 1) * dw + clamp_index(q, dw - 1)]; };
    if (!bicubic) {
      y[k] = at(i / f, j / f);
      return;
    }
    const float si = (static_cast<float>(i) + 0.5f) / static_cast<float>(f) - 0.5f;
    const float sj = (static_cast<float>(j) + 0.5f) / static_cast<float>(f) - 0.5f;
    const auto i0 = static_cast<std::int64_t>(std::floor(si)), j0 = static_cast<std::int64_t>(std::floor(sj));
    float v = 0.0f;
    for (std::int64_t a = -1; a <= 2; ++a)
      for (std::int64_t q = -1; q <= 2; ++q)
        v += cubic_weight(si - static_cast<float>(i0 + a)) * cubic_weight(sj - static_cast<float>(j0 + q)) * at(i0 + a, j0 + q);
    y[k] = clip01(v);
  });
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

/// Resolution loss: every plane box-averaged over factor × factor blocks, then up-sampled back by
/// nearest or bicubic interpolation (Keys, a = -0.75). factor 0 draws 2 or 4 per image, and
/// upsampling::random draws the method per image.
struct low_res {
  static constexpr const char* kind = "low_res";
  std::int64_t factor = 2;  // any whole factor >= 2 (seed 004: 2 or 4); 0: 2 or 4, per image
  noise::upsampling upsampling = noise::upsampling::nearest;

  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    detail::low_res_planes(b, img, detail::pick_factor(factor, rng, stream), detail::pick_bicubic(upsampling, rng, stream), x, y);
  }
  std::string describe() const {
    return "low_res(factor=" + (factor ? std::to_string(factor) : std::string("random")) +
           ", upsampling=" + detail::upsampling_name(upsampling) + ")";
  }
};

/// Mixed resolution, as a region-of-interest encoder gives: one random rectangle, its area fraction
/// drawn from `sharp` (default 0.25 to 0.5), stays sharp; the rest goes through low_res by `factor` (default 4).
struct mixed_res {
  static constexpr const char* kind = "mixed_res";
  std::int64_t factor = 4;
  noise::upsampling upsampling = noise::upsampling::nearest;
  range sharp{0.25f, 0.5f};  // fraction of the image's area kept at full resolution

  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const auto h = img[img.rank - 2], w = img[img.rank - 1];
    // The sharp rectangle: area fraction drawn from `sharp`, aspect and position uniform.
    const float area = sharp.draw(rng, stream), aspect = 0.5f + rng.uniform(stream, 4);
    const auto rh = std::clamp<std::int64_t>(std::lround(std::sqrt(area / aspect) * float(h)), 1, h);
    const auto rw = std::clamp<std::int64_t>(std::lround(std::sqrt(area * aspect) * float(w)), 1, w);
    const auto top = static_cast<std::int64_t>(rng.uniform(stream, 5) * float(h - rh + 1));
    const auto left = static_cast<std::int64_t>(rng.uniform(stream, 6) * float(w - rw + 1));
    basic_tensor<memory_of<B>> low(img);
    low_res{factor, upsampling}.apply(b, rng, stream, img, x, low.data());
    const float* l = low.data();
    for_each_index(b, img.numel(), [=] HUSH_HD(std::int64_t k) {  // y[k] reads only x[k]: y may be x
      const auto i = (k / w) % h, j = k % w;
      y[k] = i >= top && i < top + rh && j >= left && j < left + rw ? x[k] : l[k];
    });
  }
  std::string describe() const {
    // The upsampling only when it is not the default (nearest), so that text stays as it was.
    return "mixed_res(factor=" + std::to_string(factor) +
           (upsampling != noise::upsampling::nearest ? ", upsampling=" + detail::upsampling_name(upsampling) : "") +
           ", sharp=" + sharp.str() + ")";
  }
};

}  // namespace hush::noise
