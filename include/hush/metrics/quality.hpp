#pragma once
// Image quality against a reference, for images (C, H, W) or batches (N, C, H, W) in [0, 1]:
//   mse    mean squared error
//   psnr   10·log10(1 / mse) dB (data range 1; infinite for identical images)
//   ssim   Wang, Bovik, Sheikh & Simoncelli (2004): Gaussian window σ = 1.5 truncated at 3.5σ
//          (11×11), K1 = 0.01, K2 = 0.03, population (not sample) covariances, 'reflect'
//          borders, the mean over the valid interior, averaged over channels — the definition of
//          skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
//          use_sample_covariance=False, data_range=1).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush::metrics {

namespace detail {
inline void same_shape(const tensor& a, const tensor& b, const char* what) {
  if (a.shape() != b.shape())
    throw shape_error(std::string(what) + ": images differ in shape, " + a.shape().str() + " and " + b.shape().str());
}
/// scipy.ndimage's 'reflect' border: ... c b a | a b c ... d c b.
inline std::int64_t reflect(std::int64_t i, std::int64_t n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}
/// Separable Gaussian filter of one plane (h × w), as scipy.ndimage.gaussian_filter.
inline std::vector<double> gaussian_filter(const std::vector<double>& x, std::int64_t h, std::int64_t w,
                                           const std::vector<double>& k) {
  const auto r = static_cast<std::int64_t>(k.size() / 2);
  std::vector<double> tmp(x.size()), out(x.size());
  for (std::int64_t i = 0; i < h; ++i)
    for (std::int64_t j = 0; j < w; ++j) {
      double s = 0;
      for (std::int64_t t = -r; t <= r; ++t) s += k[static_cast<std::size_t>(t + r)] * x[static_cast<std::size_t>(i * w + reflect(j + t, w))];
      tmp[static_cast<std::size_t>(i * w + j)] = s;
    }
  for (std::int64_t i = 0; i < h; ++i)
    for (std::int64_t j = 0; j < w; ++j) {
      double s = 0;
      for (std::int64_t t = -r; t <= r; ++t) s += k[static_cast<std::size_t>(t + r)] * tmp[static_cast<std::size_t>(reflect(i + t, h) * w + j)];
      out[static_cast<std::size_t>(i * w + j)] = s;
    }
  return out;
}
/// SSIM of one plane pair.
inline double ssim_plane(const float* a, const float* b, std::int64_t h, std::int64_t w) {
  const double sigma = 1.5, c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const auto radius = static_cast<std::int64_t>(3.5 * sigma + 0.5);  // 5: an 11×11 window
  std::vector<double> k(static_cast<std::size_t>(2 * radius + 1));
  double total = 0;
  for (std::int64_t t = -radius; t <= radius; ++t) total += k[static_cast<std::size_t>(t + radius)] = std::exp(-0.5 * t * t / (sigma * sigma));
  for (auto& v : k) v /= total;
  const auto n = static_cast<std::size_t>(h * w);
  std::vector<double> x(n), y(n), xx(n), yy(n), xy(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = a[i], y[i] = b[i], xx[i] = x[i] * x[i], yy[i] = y[i] * y[i], xy[i] = x[i] * y[i];
  const auto ux = gaussian_filter(x, h, w, k), uy = gaussian_filter(y, h, w, k);
  const auto uxx = gaussian_filter(xx, h, w, k), uyy = gaussian_filter(yy, h, w, k), uxy = gaussian_filter(xy, h, w, k);
  double sum = 0;
  std::int64_t count = 0;
  for (std::int64_t i = radius; i < h - radius; ++i)
    for (std::int64_t j = radius; j < w - radius; ++j) {
      const auto p = static_cast<std::size_t>(i * w + j);
      const double vx = uxx[p] - ux[p] * ux[p], vy = uyy[p] - uy[p] * uy[p], vxy = uxy[p] - ux[p] * uy[p];
      sum += ((2 * ux[p] * uy[p] + c1) * (2 * vxy + c2)) / ((ux[p] * ux[p] + uy[p] * uy[p] + c1) * (vx + vy + c2));
      ++count;
    }
  return sum / double(count);
}
}  // namespace detail

inline double mse(const tensor& a, const tensor& b) {
  detail::same_shape(a, b, "mse");
  double s = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) s += double(a[i] - b[i]) * double(a[i] - b[i]);
  return s / double(a.numel());
}

inline double psnr(const tensor& reference, const tensor& test) {
  const double m = mse(reference, test);
  return m == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(1.0 / m);
}

/// Mean SSIM over channels (and images, for a batch).
inline double ssim(const tensor& reference, const tensor& test) {
  detail::same_shape(reference, test, "ssim");
  const auto& s = reference.shape();
  if (s.rank < 2) throw shape_error("ssim: expected (C, H, W) or (N, C, H, W), got " + s.str());
  const auto h = s[s.rank - 2], w = s[s.rank - 1];
  if (h < 11 || w < 11) throw shape_error("ssim: images of " + s.str() + " are smaller than the 11x11 window");
  const auto planes = reference.numel() / (h * w);
  double total = 0;
  for (std::int64_t p = 0; p < planes; ++p)
    total += detail::ssim_plane(reference.data() + p * h * w, test.data() + p * h * w, h, w);
  return total / double(planes);
}

}  // namespace hush::metrics
