#pragma once
// The cpu convolution: im2col + sgemm (backend/im2col_conv.hpp), with im2col and its adjoint
// parallelised over rows and channels by OpenMP.
#include <cstdint>
#include <cstring>

#include "hush/backend/cpu/dense.hpp"
#include "hush/backend/geometry.hpp"
#include "hush/backend/im2col_conv.hpp"

namespace hush::backend {

/// col[(c·R + r)·S + s][p·Q + q] = x[c][p·sh - ph + r·dh][q·sw - pw + s·dw] (0 outside).
inline void im2col(cpu, const conv_geometry& g, const float* x, float* col) {
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
inline void col2im(cpu, const conv_geometry& g, const float* col, float* dx) {
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

inline std::int64_t conv2d_scratch(cpu, const conv_geometry& g) { return im2col_scratch(g); }

inline void conv2d_forward(cpu, const conv_geometry& g, const float* x, const float* w, const float* bias, float* y,
                           float* scratch) {
  detail::im2col_conv_forward(cpu{}, g, x, w, bias, y, scratch);
}

inline void conv2d_backward_data(cpu, const conv_geometry& g, const float* w, const float* dy, float* dx,
                                 float* scratch) {
  detail::im2col_conv_backward_data(cpu{}, g, w, dy, dx, scratch);
}

inline void conv2d_backward_weight(cpu, const conv_geometry& g, const float* x, const float* dy, float* dw,
                                   float* scratch) {
  detail::im2col_conv_backward_weight(cpu{}, g, x, dy, dw, scratch);
}

}  // namespace hush::backend
