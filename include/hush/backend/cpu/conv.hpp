#pragma once
// Convolution as im2col + sgemm, one sample and one group at a time (the column buffer stays
// small and in cache). A 1×1, stride-1, unpadded convolution needs no im2col at all.
#include <cstdint>
#include <cstring>

#include "hush/backend/cpu/dense.hpp"
#include "hush/backend/geometry.hpp"

namespace hush::backend {

namespace detail {
inline bool is_pointwise(const conv_geometry& g) {
  return g.r == 1 && g.s == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}
/// col[(c·R + r)·S + s][p·Q + q] = x[c][p·sh - ph + r·dh][q·sw - pw + s·dw] (0 outside).
inline void im2col(const conv_geometry& g, const float* x, float* col) {
  const auto rows = g.col_rows(), pq = g.p * g.q;
#pragma omp parallel for if (rows * pq > 16384)
  for (std::int64_t row = 0; row < rows; ++row) {
    const auto c = row / (g.r * g.s), rr = (row / g.s) % g.r, ss = row % g.s;
    float* out = col + row * pq;
    for (std::int64_t p = 0; p < g.p; ++p) {
      const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h;
      if (ih < 0 || ih >= g.h) {
        std::memset(out + p * g.q, 0, sizeof(float) * static_cast<std::size_t>(g.q));
        continue;
      }
      const float* xr = x + (c * g.h + ih) * g.w;
      for (std::int64_t q = 0; q < g.q; ++q) {
        const auto iw = q * g.stride_w - g.pad_w + ss * g.dil_w;
        out[p * g.q + q] = (iw >= 0 && iw < g.w) ? xr[iw] : 0.0f;
      }
    }
  }
}
/// The adjoint of im2col: dx[c][ih][iw] = Σ of the column entries that read it.
inline void col2im(const conv_geometry& g, const float* col, float* dx) {
  const auto pq = g.p * g.q;
#pragma omp parallel for if (g.c_per_group() * g.h * g.w > 16384)
  for (std::int64_t c = 0; c < g.c_per_group(); ++c) {
    float* plane = dx + c * g.h * g.w;
    std::memset(plane, 0, sizeof(float) * static_cast<std::size_t>(g.h * g.w));
    for (std::int64_t rr = 0; rr < g.r; ++rr)
      for (std::int64_t ss = 0; ss < g.s; ++ss) {
        const float* in = col + ((c * g.r + rr) * g.s + ss) * pq;
        for (std::int64_t p = 0; p < g.p; ++p) {
          const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h;
          if (ih < 0 || ih >= g.h) continue;
          for (std::int64_t q = 0; q < g.q; ++q) {
            const auto iw = q * g.stride_w - g.pad_w + ss * g.dil_w;
            if (iw >= 0 && iw < g.w) plane[ih * g.w + iw] += in[p * g.q + q];
          }
        }
      }
  }
}
}  // namespace detail

/// Scratch floats the cpu convolution needs: one group's column matrix.
inline std::int64_t conv2d_scratch(cpu, const conv_geometry& g) { return g.col_rows() * g.p * g.q; }

inline void conv2d_forward(cpu, const conv_geometry& g, const float* x, const float* w, const float* bias, float* y,
                           float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group();
  const bool direct = detail::is_pointwise(g);
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const float* xg = x + (n * g.c + grp * cg) * g.h * g.w;
      const float* col = xg;
      if (!direct) detail::im2col(g, xg, scratch), col = scratch;
      gemm(cpu{}, false, false, kg, pq, g.col_rows(), 1.0f, w + grp * kg * g.col_rows(), col, 0.0f,
           y + (n * g.k + grp * kg) * pq);
    }
  if (bias) add_bias(cpu{}, g.n, g.k, pq, bias, y);
}

inline void conv2d_backward(cpu, const conv_geometry& g, const float* x, const float* w, const float* dy, float* dx,
                            float* dw, float* db, float* scratch) {
  const auto pq = g.p * g.q, kg = g.k_per_group(), cg = g.c_per_group(), rows = g.col_rows();
  const bool direct = detail::is_pointwise(g);
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const float* dyg = dy + (n * g.k + grp * kg) * pq;
      const float* wg = w + grp * kg * rows;
      const float* xg = x + (n * g.c + grp * cg) * g.h * g.w;
      const float* col = xg;
      if (!direct) detail::im2col(g, xg, scratch), col = scratch;
      gemm(cpu{}, false, true, kg, rows, pq, 1.0f, dyg, col, 1.0f, dw + grp * kg * rows);  // dW += dY·colᵀ
      if (!dx) continue;
      float* dxg = dx + (n * g.c + grp * cg) * g.h * g.w;
      if (direct) {
        gemm(cpu{}, true, false, rows, pq, kg, 1.0f, wg, dyg, 0.0f, dxg);  // dX = Wᵀ·dY
      } else {
        gemm(cpu{}, true, false, rows, pq, kg, 1.0f, wg, dyg, 0.0f, scratch);  // dcol = Wᵀ·dY
        detail::col2im(g, scratch, dxg);
      }
    }
  if (db) sum_into_bias(cpu{}, g.n, g.k, pq, dy, db);
}

}  // namespace hush::backend
