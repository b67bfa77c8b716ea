#pragma once
// Image quality against a reference, for images (C, H, W) or batches (N, C, H, W) in [0, 1]:
//   mse    mean squared error
//   psnr   10·log10(1 / mse) dB (data range 1; infinite for identical images)
//   ssim   Wang, Bovik, Sheikh & Simoncelli (2004): Gaussian window σ = 1.5 truncated at 3.5σ
//          (11×11), K1 = 0.01, K2 = 0.03, population (not sample) covariances, 'reflect'
//          borders, the mean over the valid interior, averaged over channels — the definition of
//          skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
//          use_sample_covariance=False, data_range=1).
// Each is a backend kernel (the images may live on the device): one index per image row sums
// in double into a memory_array, and the host adds the row sums in order, so every backend and
// thread count gives the same value. Host tensors use the cpu backend.
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "hush/backend/cpu/elementwise.hpp"
#include "hush/core/error.hpp"
#include "hush/core/memory.hpp"
#include "hush/core/memory_array.hpp"
#include "hush/core/tensor.hpp"

namespace hush::metrics {

namespace detail {
template <class Memory>
void same_shape(const basic_tensor<Memory>& a, const basic_tensor<Memory>& b, const char* what) {
  if (a.shape() != b.shape())
    throw shape_error(std::string(what) + ": images differ in shape, " + a.shape().str() + " and " + b.shape().str());
}
/// The row sums added on the host, in order.
inline double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
/// SSIM's Gaussian window: σ = 1.5, radius 5 (3.5σ rounded), normalised to sum 1.
struct ssim_window {
  static constexpr std::int64_t radius = 5;
  double k[2 * radius + 1];
};
inline ssim_window make_ssim_window() {
  constexpr double sigma = 1.5;
  ssim_window win{};
  double total = 0;
  for (std::int64_t t = -ssim_window::radius; t <= ssim_window::radius; ++t)
    total += win.k[t + ssim_window::radius] = std::exp(-0.5 * double(t * t) / (sigma * sigma));
  for (auto& v : win.k) v /= total;
  return win;
}
}  // namespace detail

/// Mean squared error, on `backend`, where both images live.
template <class B>
double mse(B backend, const basic_tensor<memory_of<B>>& a, const basic_tensor<memory_of<B>>& b) {
  detail::same_shape(a, b, "mse");
  const auto& s = a.shape();
  const std::int64_t w = s.rank > 0 ? s[s.rank - 1] : 1, rows = w > 0 ? a.numel() / w : 0;
  memory_array<memory_of<B>, double> row_sums(rows);
  const float *pa = a.data(), *pb = b.data();
  double* out = row_sums.data();
  for_each_index(backend, rows, [=] HUSH_HD(std::int64_t r) {
    double acc = 0;
    for (std::int64_t j = r * w; j < (r + 1) * w; ++j) acc += (double(pa[j]) - double(pb[j])) * (double(pa[j]) - double(pb[j]));
    out[r] = acc;
  });
  return detail::sum(row_sums.to_host()) / double(a.numel());
}

/// Peak signal-to-noise ratio in dB, 10·log10(1 / mse), on `backend`: data range 1, infinite for
/// identical images.
template <class B>
double psnr(B backend, const basic_tensor<memory_of<B>>& reference, const basic_tensor<memory_of<B>>& test) {
  const double m = mse(backend, reference, test);
  return m == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(1.0 / m);
}

/// Mean SSIM over channels (and images, for a batch), on `backend`. Only the interior counts
/// (skimage's mean over the valid region), where the 11×11 window never meets the border: one
/// index per interior row slides it along the row, keeping the window's column sums in a ring.
template <class B>
double ssim(B backend, const basic_tensor<memory_of<B>>& reference, const basic_tensor<memory_of<B>>& test) {
  detail::same_shape(reference, test, "ssim");
  const auto& s = reference.shape();
  if (s.rank < 2) throw shape_error("ssim: expected (C, H, W) or (N, C, H, W), got " + s.str());
  constexpr std::int64_t r = detail::ssim_window::radius, span = 2 * r + 1;
  const auto h = s[s.rank - 2], w = s[s.rank - 1];
  if (h < span || w < span) throw shape_error("ssim: images of " + s.str() + " are smaller than the 11x11 window");
  const auto planes = reference.numel() / (h * w), rows = h - 2 * r;
  const auto win = detail::make_ssim_window();
  memory_array<memory_of<B>, double> row_sums(planes * rows);
  const float *pa = reference.data(), *pb = test.data();
  double* out = row_sums.data();
  for_each_index(backend, planes * rows, [=] HUSH_HD(std::int64_t index) {
    constexpr double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    const auto i = r + index % rows;
    const float* x = pa + (index / rows) * h * w;
    const float* y = pb + (index / rows) * h * w;
    double ring[span][5];  // per column: the window's weighted sums of x, y, x², y², xy down rows i-r..i+r
    const auto column = [&](std::int64_t c) {
      double* v = ring[c % span];
      for (int q = 0; q < 5; ++q) v[q] = 0;
      for (std::int64_t u = -r; u <= r; ++u) {
        const double xv = x[(i + u) * w + c], yv = y[(i + u) * w + c], k = win.k[u + r];
        v[0] += k * xv, v[1] += k * yv, v[2] += k * xv * xv, v[3] += k * yv * yv, v[4] += k * xv * yv;
      }
    };
    for (std::int64_t c = 0; c < 2 * r; ++c) column(c);
    double total = 0;
    for (std::int64_t j = r; j < w - r; ++j) {
      column(j + r);
      double m[5] = {0, 0, 0, 0, 0};
      for (std::int64_t t = -r; t <= r; ++t)
        for (int q = 0; q < 5; ++q) m[q] += win.k[t + r] * ring[(j + t) % span][q];
      const double vx = m[2] - m[0] * m[0], vy = m[3] - m[1] * m[1], vxy = m[4] - m[0] * m[1];
      total += ((2 * m[0] * m[1] + c1) * (2 * vxy + c2)) / ((m[0] * m[0] + m[1] * m[1] + c1) * (vx + vy + c2));
    }
    out[index] = total;
  });
  return detail::sum(row_sums.to_host()) / double(planes * rows * (w - 2 * r));
}

/// Host images: on the cpu backend.
inline double mse(const tensor& a, const tensor& b) { return mse(backend::cpu{}, a, b); }
/// The same PSNR for host images, on the cpu backend.
inline double psnr(const tensor& reference, const tensor& test) { return psnr(backend::cpu{}, reference, test); }
/// The same SSIM for host images, on the cpu backend.
inline double ssim(const tensor& reference, const tensor& test) { return ssim(backend::cpu{}, reference, test); }

}  // namespace hush::metrics
