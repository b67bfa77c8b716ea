#pragma once
// Convolution as im2col + GEMM, for any backend B that provides im2col(B, g, x, col),
// col2im(B, g, col, dx), gemm and add_bias (found by argument-dependent lookup
// on the tag). One sample and one group at a time, so the column buffer stays small; a 1×1,
// stride-1, unpadded convolution needs no im2col at all.
#include <cstdint>

#include "hush/backend/geometry.hpp"

namespace hush::backend {

/// Scratch floats im2col convolution needs: one group's column matrix.
constexpr std::int64_t im2col_scratch(const conv_geometry& g) { return g.col_rows() * g.p * g.q; }

namespace detail {
constexpr bool is_pointwise(const conv_geometry& g) {
  return g.r == 1 && g.s == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

template <class B>
void im2col_conv_forward(B b, const conv_geometry& g, const float* x, const float* w, const float* bias, float* y,
                         float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group();
  const bool direct = is_pointwise(g);
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const float* xg = x + (n * g.c + grp * cg) * g.h * g.w;
      const float* col = xg;
      if (!direct) im2col(b, g, xg, scratch), col = scratch;
      gemm(b, false, false, kg, pq, g.col_rows(), 1.0f, w + grp * kg * g.col_rows(), col, 0.0f,
           y + (n * g.k + grp * kg) * pq);  // Y = W·col
    }
  if (bias) add_bias(b, g.n, g.k, pq, bias, y);
}

template <class B>
void im2col_conv_backward_weight(B b, const conv_geometry& g, const float* x, const float* dy, float* dw,
                                 float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group(), rows = g.col_rows();
  const bool direct = is_pointwise(g);
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const float* xg = x + (n * g.c + grp * cg) * g.h * g.w;
      const float* col = xg;
      if (!direct) im2col(b, g, xg, scratch), col = scratch;
      gemm(b, false, true, kg, rows, pq, 1.0f, dy + (n * g.k + grp * kg) * pq, col, 1.0f,
           dw + grp * kg * rows);  // dW += dY·colᵀ
    }
}

template <class B>
void im2col_conv_backward_data(B b, const conv_geometry& g, const float* w, const float* dy, float* dx,
                               float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group(), rows = g.col_rows();
  const bool direct = is_pointwise(g);
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const float* dyg = dy + (n * g.k + grp * kg) * pq;
      const float* wg = w + grp * kg * rows;
      float* dxg = dx + (n * g.c + grp * cg) * g.h * g.w;
      if (direct) {
        gemm(b, true, false, rows, pq, kg, 1.0f, wg, dyg, 0.0f, dxg);  // dX = Wᵀ·dY
      } else {
        gemm(b, true, false, rows, pq, kg, 1.0f, wg, dyg, 0.0f, scratch);  // dcol = Wᵀ·dY
        col2im(b, g, scratch, dxg);
      }
    }
}
}  // namespace detail

}  // namespace hush::backend
