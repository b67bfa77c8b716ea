#pragma once
// Nearest and bilinear upsampling by an integer factor (torch.nn.Upsample, align_corners=False).
#include <cstdint>
#include <vector>

#include "hush/backend/geometry.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

inline void upsample_forward(reference, const upsample_geometry& g, const float* x, float* y) {
  const auto oh = g.out_h(), ow = g.out_w();
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane) {
    const float* xp = x + plane * g.h * g.w;
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        float v;
        if (!g.bilinear) {
          v = xp[(i / g.scale) * g.w + j / g.scale];
        } else {
          const auto a = bilinear_taps::at(i, g.h, g.scale), b = bilinear_taps::at(j, g.w, g.scale);
          v = a.w0 * (b.w0 * xp[a.i0 * g.w + b.i0] + b.w1 * xp[a.i0 * g.w + b.i1]) +
              a.w1 * (b.w0 * xp[a.i1 * g.w + b.i0] + b.w1 * xp[a.i1 * g.w + b.i1]);
        }
        y[(plane * oh + i) * ow + j] = v;
      }
  }
}

/// The adjoint: each output gradient goes back to the input pixels it was made from.
inline void upsample_backward(reference, const upsample_geometry& g, const float* dy, float* dx) {
  const auto oh = g.out_h(), ow = g.out_w();
  std::vector<double> acc(static_cast<std::size_t>(g.n * g.c * g.h * g.w));
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane) {
    double* ap = acc.data() + plane * g.h * g.w;
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        const double d = dy[(plane * oh + i) * ow + j];
        if (!g.bilinear) {
          ap[(i / g.scale) * g.w + j / g.scale] += d;
        } else {
          const auto a = bilinear_taps::at(i, g.h, g.scale), b = bilinear_taps::at(j, g.w, g.scale);
          ap[a.i0 * g.w + b.i0] += d * a.w0 * b.w0;
          ap[a.i0 * g.w + b.i1] += d * a.w0 * b.w1;
          ap[a.i1 * g.w + b.i0] += d * a.w1 * b.w0;
          ap[a.i1 * g.w + b.i1] += d * a.w1 * b.w1;
        }
      }
  }
  for (std::size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

}  // namespace hush::backend
