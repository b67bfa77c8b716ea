#pragma once
// Upsampling as Thrust loops: forward one output per index; backward one input per index,
// gathering the outputs that read it (no atomics).
#include <cstdint>

#include "hush/backend/geometry.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

namespace detail {
/// How much output index o (along an axis) reads from input index i.
HUSH_HD inline float upsample_weight(const upsample_geometry& g, std::int64_t o, std::int64_t i, std::int64_t in) {
  if (!g.bilinear) return o / g.scale == i ? 1.0f : 0.0f;
  const auto t = bilinear_taps::at(o, in, g.scale);
  return (t.i0 == i ? t.w0 : 0.0f) + (t.i1 == i ? t.w1 : 0.0f);
}
}  // namespace detail

inline void upsample_forward(thrust, const upsample_geometry& g, const float* x, float* y) {
  const auto oh = g.out_h(), ow = g.out_w();
  detail::for_each_index(g.n * g.c * oh * ow, [=] HUSH_HD(std::int64_t k) {
    const auto plane = k / (oh * ow), i = (k / ow) % oh, j = k % ow;
    const float* xp = x + plane * g.h * g.w;
    if (!g.bilinear) {
      y[k] = xp[(i / g.scale) * g.w + j / g.scale];
      return;
    }
    const auto a = bilinear_taps::at(i, g.h, g.scale), b = bilinear_taps::at(j, g.w, g.scale);
    y[k] = a.w0 * (b.w0 * xp[a.i0 * g.w + b.i0] + b.w1 * xp[a.i0 * g.w + b.i1]) +
           a.w1 * (b.w0 * xp[a.i1 * g.w + b.i0] + b.w1 * xp[a.i1 * g.w + b.i1]);
  });
}

inline void upsample_backward(thrust, const upsample_geometry& g, const float* dy, float* dx) {
  const auto oh = g.out_h(), ow = g.out_w();
  detail::for_each_index(g.n * g.c * g.h * g.w, [=] HUSH_HD(std::int64_t k) {
    const auto plane = k / (g.h * g.w), i = (k / g.w) % g.h, j = k % g.w;
    // Outputs that can read input i lie within one scale of it on either side.
    const auto o0 = (i - 1) * g.scale > 0 ? (i - 1) * g.scale : 0, o1 = (i + 2) * g.scale < oh ? (i + 2) * g.scale : oh;
    const auto p0 = (j - 1) * g.scale > 0 ? (j - 1) * g.scale : 0, p1 = (j + 2) * g.scale < ow ? (j + 2) * g.scale : ow;
    double s = 0;
    for (auto o = o0; o < o1; ++o) {
      const float wo = detail::upsample_weight(g, o, i, g.h);
      if (wo == 0.0f) continue;
      for (auto p = p0; p < p1; ++p) s += double(dy[(plane * oh + o) * ow + p]) * wo * detail::upsample_weight(g, p, j, g.w);
    }
    dx[k] = static_cast<float>(s);
  });
}

}  // namespace hush::backend
