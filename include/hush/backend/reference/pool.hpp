#pragma once
// Max and average pooling. Max-pool backward finds each window's arg-max again instead of
// storing indices: no index buffer, and ties go to the first maximum, as in PyTorch.
#include <cstdint>
#include <limits>

#include "hush/backend/geometry.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

namespace detail {
/// Calls f(plane, p, q, y_index) with the window's bounds clipped to the input.
template <class F>
void for_each_pool_window(const pool_geometry& g, F&& f) {
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane)
    for (std::int64_t p = 0; p < g.p; ++p)
      for (std::int64_t q = 0; q < g.q; ++q) {
        const auto h0 = p * g.stride_h - g.pad_h, w0 = q * g.stride_w - g.pad_w;
        f(plane, h0, w0, (plane * g.p + p) * g.q + q);
      }
}
inline std::int64_t argmax_in_window(const pool_geometry& g, const float* xp, std::int64_t h0, std::int64_t w0) {
  std::int64_t best = -1;
  float m = -std::numeric_limits<float>::infinity();
  for (auto i = h0; i < h0 + g.r; ++i)
    for (auto j = w0; j < w0 + g.s; ++j)
      if (i >= 0 && i < g.h && j >= 0 && j < g.w && (best < 0 || xp[i * g.w + j] > m)) {
        m = xp[i * g.w + j];
        best = i * g.w + j;
      }
  return best;
}
}  // namespace detail

inline void max_pool2d_forward(reference, const pool_geometry& g, const float* x, float* y) {
  detail::for_each_pool_window(g, [&](auto plane, auto h0, auto w0, auto yi) {
    const float* xp = x + plane * g.h * g.w;
    y[yi] = xp[detail::argmax_in_window(g, xp, h0, w0)];
  });
}
inline void max_pool2d_backward(reference, const pool_geometry& g, const float* x, const float* dy, float* dx) {
  for (std::int64_t i = 0; i < g.n * g.c * g.h * g.w; ++i) dx[i] = 0.0f;
  detail::for_each_pool_window(g, [&](auto plane, auto h0, auto w0, auto yi) {
    const auto off = plane * g.h * g.w;
    dx[off + detail::argmax_in_window(g, x + off, h0, w0)] += dy[yi];
  });
}
/// Average over the window's taps inside the input (count_include_pad=False).
inline void avg_pool2d_forward(reference, const pool_geometry& g, const float* x, float* y) {
  detail::for_each_pool_window(g, [&](auto plane, auto h0, auto w0, auto yi) {
    double s = 0;
    int count = 0;
    for (auto i = h0; i < h0 + g.r; ++i)
      for (auto j = w0; j < w0 + g.s; ++j)
        if (i >= 0 && i < g.h && j >= 0 && j < g.w) s += x[(plane * g.h + i) * g.w + j], ++count;
    y[yi] = static_cast<float>(s / count);
  });
}
inline void avg_pool2d_backward(reference, const pool_geometry& g, const float* dy, float* dx) {
  for (std::int64_t i = 0; i < g.n * g.c * g.h * g.w; ++i) dx[i] = 0.0f;
  detail::for_each_pool_window(g, [&](auto plane, auto h0, auto w0, auto yi) {
    int count = 0;
    for (auto i = h0; i < h0 + g.r; ++i)
      for (auto j = w0; j < w0 + g.s; ++j) count += (i >= 0 && i < g.h && j >= 0 && j < g.w);
    for (auto i = h0; i < h0 + g.r; ++i)
      for (auto j = w0; j < w0 + g.s; ++j)
        if (i >= 0 && i < g.h && j >= 0 && j < g.w) dx[(plane * g.h + i) * g.w + j] += dy[yi] / float(count);
  });
}

/// The mean of each adaptive window (backend/geometry.hpp).
inline void adaptive_avg_pool2d_forward(reference, const adaptive_pool_geometry& g, const float* x, float* y) {
  using G = adaptive_pool_geometry;
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane)
    for (std::int64_t p = 0; p < g.p; ++p)
      for (std::int64_t q = 0; q < g.q; ++q) {
        const auto h0 = G::begin(p, g.h, g.p), h1 = G::end(p, g.h, g.p), w0 = G::begin(q, g.w, g.q), w1 = G::end(q, g.w, g.q);
        double s = 0;
        for (auto i = h0; i < h1; ++i)
          for (auto j = w0; j < w1; ++j) s += x[(plane * g.h + i) * g.w + j];
        y[(plane * g.p + p) * g.q + q] = static_cast<float>(s / double((h1 - h0) * (w1 - w0)));
      }
}
inline void adaptive_avg_pool2d_backward(reference, const adaptive_pool_geometry& g, const float* dy, float* dx) {
  using G = adaptive_pool_geometry;
  for (std::int64_t i = 0; i < g.n * g.c * g.h * g.w; ++i) dx[i] = 0.0f;
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane)
    for (std::int64_t p = 0; p < g.p; ++p)
      for (std::int64_t q = 0; q < g.q; ++q) {
        const auto h0 = G::begin(p, g.h, g.p), h1 = G::end(p, g.h, g.p), w0 = G::begin(q, g.w, g.q), w1 = G::end(q, g.w, g.q);
        const float share = dy[(plane * g.p + p) * g.q + q] / float((h1 - h0) * (w1 - w0));
        for (auto i = h0; i < h1; ++i)
          for (auto j = w0; j < w1; ++j) dx[(plane * g.h + i) * g.w + j] += share;
      }
}

}  // namespace hush::backend
