#pragma once
// Upsampling on the cpu backend: the reference loops, one plane per OpenMP iteration.
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/upsample.hpp"

namespace hush::backend {

inline void upsample_forward(cpu, const upsample_geometry& g, const float* x, float* y) {
  upsample_geometry one = g;
  one.n = 1, one.c = 1;
#pragma omp parallel for if (g.n * g.c > 1)
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane)
    upsample_forward(reference{}, one, x + plane * g.h * g.w, y + plane * g.out_h() * g.out_w());
}
inline void upsample_backward(cpu, const upsample_geometry& g, const float* dy, float* dx) {
  upsample_geometry one = g;
  one.n = 1, one.c = 1;
#pragma omp parallel for if (g.n * g.c > 1)
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane)
    upsample_backward(reference{}, one, dy + plane * g.out_h() * g.out_w(), dx + plane * g.h * g.w);
}

}  // namespace hush::backend
