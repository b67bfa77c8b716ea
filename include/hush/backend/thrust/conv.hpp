#pragma once
// Convolution as im2col + GEMM per sample and group, with im2col and its adjoint (in gather form:
// each input element sums the column entries that read it, so no atomics) as Thrust loops.
#include <cstdint>

#include "hush/backend/geometry.hpp"
#include "hush/backend/thrust/dense.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

namespace detail {
inline void im2col(thrust, const conv_geometry& g, const float* x, float* col) {
  const auto pq = g.p * g.q;
  for_each_index(g.col_rows() * pq, [=] HUSH_HD(std::int64_t i) {
    const auto row = i / pq, pos = i % pq, p = pos / g.q, q = pos % g.q;
    const auto c = row / (g.r * g.s), rr = (row / g.s) % g.r, ss = row % g.s;
    const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h, iw = q * g.stride_w - g.pad_w + ss * g.dil_w;
    col[i] = (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) ? x[(c * g.h + ih) * g.w + iw] : 0.0f;
  });
}
inline void col2im(thrust, const conv_geometry& g, const float* col, float* dx) {
  const auto pq = g.p * g.q;
  for_each_index(g.c_per_group() * g.h * g.w, [=] HUSH_HD(std::int64_t i) {
    const auto c = i / (g.h * g.w), ih = (i / g.w) % g.h, iw = i % g.w;
    float s = 0.0f;
    for (std::int64_t rr = 0; rr < g.r; ++rr) {
      const auto ph = ih + g.pad_h - rr * g.dil_h;  // = p·stride_h when tap rr of row p reads ih
      if (ph < 0 || ph % g.stride_h) continue;
      const auto p = ph / g.stride_h;
      if (p >= g.p) continue;
      for (std::int64_t ss = 0; ss < g.s; ++ss) {
        const auto qw = iw + g.pad_w - ss * g.dil_w;
        if (qw < 0 || qw % g.stride_w) continue;
        const auto q = qw / g.stride_w;
        if (q < g.q) s += col[((c * g.r + rr) * g.s + ss) * pq + p * g.q + q];
      }
    }
    dx[i] = s;
  });
}
}  // namespace detail

inline std::int64_t conv2d_scratch(thrust, const conv_geometry& g) { return g.col_rows() * g.p * g.q; }

inline void conv2d_forward(thrust, const conv_geometry& g, const float* x, const float* w, const float* bias, float* y,
                           float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group();
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      detail::im2col(thrust{}, g, x + (n * g.c + grp * cg) * g.h * g.w, scratch);
      gemm(thrust{}, false, false, kg, pq, g.col_rows(), 1.0f, w + grp * kg * g.col_rows(), scratch, 0.0f,
           y + (n * g.k + grp * kg) * pq);
    }
  if (bias) add_bias(thrust{}, g.n, g.k, pq, bias, y);
}

inline void conv2d_backward(thrust, const conv_geometry& g, const float* x, const float* w, const float* dy, float* dx,
                            float* dw, float* db, float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group(), rows = g.col_rows();
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const float* dyg = dy + (n * g.k + grp * kg) * pq;
      detail::im2col(thrust{}, g, x + (n * g.c + grp * cg) * g.h * g.w, scratch);
      gemm(thrust{}, false, true, kg, rows, pq, 1.0f, dyg, scratch, 1.0f, dw + grp * kg * rows);
      if (!dx) continue;
      gemm(thrust{}, true, false, rows, pq, kg, 1.0f, w + grp * kg * rows, dyg, 0.0f, scratch);
      detail::col2im(thrust{}, g, scratch, dx + (n * g.c + grp * cg) * g.h * g.w);
    }
  if (db) sum_into_bias(thrust{}, g.n, g.k, pq, dy, db);
}

}  // namespace hush::backend
