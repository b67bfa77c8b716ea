#pragma once
// Upsampling on the cpu backend, one plane per OpenMP iteration. Nearest neighbour (the U-Net's)
// has loops of its own, row by row with no division per pixel: the reference's took 8% of a
// Noise2Noise U-Net training step (docs/performance.md). Bilinear runs the reference per plane.
#include <algorithm>
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/upsample.hpp"

namespace hush::backend {

inline void upsample_forward(cpu, const upsample_geometry& g, const float* x, float* y) {
  const auto s = g.scale, ow = g.out_w();
  upsample_geometry one = g;
  one.n = 1, one.c = 1;
#pragma omp parallel for if (g.n * g.c > 1)
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane) {
    const float* xp = x + plane * g.h * g.w;
    float* yp = y + plane * g.out_h() * ow;
    if (g.bilinear) {
      upsample_forward(reference{}, one, xp, yp);
      continue;
    }
    for (std::int64_t i = 0; i < g.h; ++i) {
      float* row = yp + i * s * ow;
      for (std::int64_t j = 0; j < g.w; ++j) std::fill_n(row + j * s, s, xp[i * g.w + j]);
      for (std::int64_t a = 1; a < s; ++a) std::copy_n(row, ow, row + a * ow);
    }
  }
}

/// The adjoint: dx[i][j] is the sum of the scale × scale output gradients made from x[i][j].
inline void upsample_backward(cpu, const upsample_geometry& g, const float* dy, float* dx) {
  const auto s = g.scale, ow = g.out_w();
  upsample_geometry one = g;
  one.n = 1, one.c = 1;
#pragma omp parallel for if (g.n * g.c > 1)
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane) {
    const float* dyp = dy + plane * g.out_h() * ow;
    float* dxp = dx + plane * g.h * g.w;
    if (g.bilinear) {
      upsample_backward(reference{}, one, dyp, dxp);
      continue;
    }
    for (std::int64_t i = 0; i < g.h; ++i) {
      float* out = dxp + i * g.w;
      std::fill_n(out, g.w, 0.0f);
      for (std::int64_t a = 0; a < s; ++a) {
        const float* row = dyp + (i * s + a) * ow;
        for (std::int64_t j = 0; j < g.w; ++j)
          for (std::int64_t b = 0; b < s; ++b) out[j] += row[j * s + b];
      }
    }
  }
}

}  // namespace hush::backend
