#pragma once
// Pooling, one output element per index; backward in gather form (each input element collects
// the windows that chose it), so no atomics.
#include <cstdint>

#include "hush/backend/geometry.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

namespace detail {
/// Index (within its plane) of the first maximum of window (p, q).
HUSH_HD inline std::int64_t window_argmax(const pool_geometry& g, const float* plane, std::int64_t p, std::int64_t q) {
  std::int64_t best = -1;
  float m = 0.0f;
  for (auto i = p * g.stride_h - g.pad_h; i < p * g.stride_h - g.pad_h + g.r; ++i)
    for (auto j = q * g.stride_w - g.pad_w; j < q * g.stride_w - g.pad_w + g.s; ++j)
      if (i >= 0 && i < g.h && j >= 0 && j < g.w && (best < 0 || plane[i * g.w + j] > m)) {
        m = plane[i * g.w + j];
        best = i * g.w + j;
      }
  return best;
}
HUSH_HD inline int window_count(const pool_geometry& g, std::int64_t p, std::int64_t q) {
  int count = 0;
  for (auto i = p * g.stride_h - g.pad_h; i < p * g.stride_h - g.pad_h + g.r; ++i)
    for (auto j = q * g.stride_w - g.pad_w; j < q * g.stride_w - g.pad_w + g.s; ++j)
      count += (i >= 0 && i < g.h && j >= 0 && j < g.w);
  return count;
}
/// Calls f(p, q) for every window of output plane that covers input (ih, iw).
template <class F>
HUSH_HD void for_each_covering_window(const pool_geometry& g, std::int64_t ih, std::int64_t iw, F&& f) {
  for (std::int64_t p = 0; p < g.p; ++p) {
    const auto h0 = p * g.stride_h - g.pad_h;
    if (ih < h0 || ih >= h0 + g.r) continue;
    for (std::int64_t q = 0; q < g.q; ++q) {
      const auto w0 = q * g.stride_w - g.pad_w;
      if (iw >= w0 && iw < w0 + g.s) f(p, q);
    }
  }
}
}  // namespace detail

inline void max_pool2d_forward(thrust, const pool_geometry& g, const float* x, float* y) {
  detail::for_each_index(g.n * g.c * g.p * g.q, [=] HUSH_HD(std::int64_t i) {
    const auto plane = i / (g.p * g.q), p = (i / g.q) % g.p, q = i % g.q;
    const float* xp = x + plane * g.h * g.w;
    y[i] = xp[detail::window_argmax(g, xp, p, q)];
  });
}
inline void max_pool2d_backward(thrust, const pool_geometry& g, const float* x, const float* dy, float* dx) {
  detail::for_each_index(g.n * g.c * g.h * g.w, [=] HUSH_HD(std::int64_t i) {
    const auto plane = i / (g.h * g.w), pos = i % (g.h * g.w);
    const float* xp = x + plane * g.h * g.w;
    float s = 0.0f;
    detail::for_each_covering_window(g, pos / g.w, pos % g.w, [&](std::int64_t p, std::int64_t q) {
      if (detail::window_argmax(g, xp, p, q) == pos) s += dy[(plane * g.p + p) * g.q + q];
    });
    dx[i] = s;
  });
}
inline void avg_pool2d_forward(thrust, const pool_geometry& g, const float* x, float* y) {
  detail::for_each_index(g.n * g.c * g.p * g.q, [=] HUSH_HD(std::int64_t i) {
    const auto plane = i / (g.p * g.q), p = (i / g.q) % g.p, q = i % g.q;
    float s = 0.0f;
    for (auto a = p * g.stride_h - g.pad_h; a < p * g.stride_h - g.pad_h + g.r; ++a)
      for (auto b = q * g.stride_w - g.pad_w; b < q * g.stride_w - g.pad_w + g.s; ++b)
        if (a >= 0 && a < g.h && b >= 0 && b < g.w) s += x[(plane * g.h + a) * g.w + b];
    y[i] = s / static_cast<float>(detail::window_count(g, p, q));
  });
}
inline void avg_pool2d_backward(thrust, const pool_geometry& g, const float* dy, float* dx) {
  detail::for_each_index(g.n * g.c * g.h * g.w, [=] HUSH_HD(std::int64_t i) {
    const auto plane = i / (g.h * g.w), pos = i % (g.h * g.w);
    float s = 0.0f;
    detail::for_each_covering_window(g, pos / g.w, pos % g.w, [&](std::int64_t p, std::int64_t q) {
      s += dy[(plane * g.p + p) * g.q + q] / static_cast<float>(detail::window_count(g, p, q));
    });
    dx[i] = s;
  });
}

inline void adaptive_avg_pool2d_forward(thrust, const adaptive_pool_geometry& g, const float* x, float* y) {
  detail::for_each_index(g.n * g.c * g.p * g.q, [=] HUSH_HD(std::int64_t i) {
    using G = adaptive_pool_geometry;
    const auto plane = i / (g.p * g.q), p = (i / g.q) % g.p, q = i % g.q;
    const auto h0 = G::begin(p, g.h, g.p), h1 = G::end(p, g.h, g.p), w0 = G::begin(q, g.w, g.q), w1 = G::end(q, g.w, g.q);
    float s = 0.0f;
    for (auto a = h0; a < h1; ++a)
      for (auto b = w0; b < w1; ++b) s += x[(plane * g.h + a) * g.w + b];
    y[i] = s / static_cast<float>((h1 - h0) * (w1 - w0));
  });
}
/// Gather form: each input element sums the shares of the windows that cover it.
inline void adaptive_avg_pool2d_backward(thrust, const adaptive_pool_geometry& g, const float* dy, float* dx) {
  detail::for_each_index(g.n * g.c * g.h * g.w, [=] HUSH_HD(std::int64_t i) {
    using G = adaptive_pool_geometry;
    const auto plane = i / (g.h * g.w), ih = (i / g.w) % g.h, iw = i % g.w;
    float s = 0.0f;
    for (std::int64_t p = 0; p < g.p; ++p) {
      const auto h0 = G::begin(p, g.h, g.p), h1 = G::end(p, g.h, g.p);
      if (ih < h0 || ih >= h1) continue;
      for (std::int64_t q = 0; q < g.q; ++q) {
        const auto w0 = G::begin(q, g.w, g.q), w1 = G::end(q, g.w, g.q);
        if (iw >= w0 && iw < w1) s += dy[(plane * g.p + p) * g.q + q] / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
    dx[i] = s;
  });
}

}  // namespace hush::backend
