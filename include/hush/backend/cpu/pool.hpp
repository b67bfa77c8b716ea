#pragma once
// Pooling is memory-bound and simple: the cpu backend runs the reference loops, one (sample,
// channel) plane per thread, so a single image still uses every core.
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/pool.hpp"

namespace hush::backend {

namespace detail {
template <class F>
void per_plane(const pool_geometry& g, F&& f) {
  pool_geometry one = g;
  one.n = 1, one.c = 1;
  const std::int64_t planes = g.n * g.c;
#pragma omp parallel for if (planes > 1 && planes * g.h * g.w > 16384)
  for (std::int64_t i = 0; i < planes; ++i) f(one, i * g.h * g.w, i * g.p * g.q);
}
}  // namespace detail

inline void max_pool2d_forward(cpu, const pool_geometry& g, const float* x, float* y) {
  detail::per_plane(g, [&](auto& one, auto xo, auto yo) { max_pool2d_forward(reference{}, one, x + xo, y + yo); });
}
inline void max_pool2d_backward(cpu, const pool_geometry& g, const float* x, const float* dy, float* dx) {
  detail::per_plane(g, [&](auto& one, auto xo, auto yo) {
    max_pool2d_backward(reference{}, one, x + xo, dy + yo, dx + xo);
  });
}
inline void avg_pool2d_forward(cpu, const pool_geometry& g, const float* x, float* y) {
  detail::per_plane(g, [&](auto& one, auto xo, auto yo) { avg_pool2d_forward(reference{}, one, x + xo, y + yo); });
}
inline void avg_pool2d_backward(cpu, const pool_geometry& g, const float* dy, float* dx) {
  detail::per_plane(g, [&](auto& one, auto xo, auto yo) { avg_pool2d_backward(reference{}, one, dy + yo, dx + xo); });
}

}  // namespace hush::backend
