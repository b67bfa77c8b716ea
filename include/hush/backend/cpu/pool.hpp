#pragma once
// Pooling is memory-bound and simple: the cpu backend runs the reference loops, one sample per
// thread.
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/pool.hpp"

namespace hush::backend {

namespace detail {
template <class F>
void per_sample(const pool_geometry& g, F&& f) {
  pool_geometry one = g;
  one.n = 1;
#pragma omp parallel for if (g.n > 1)
  for (std::int64_t n = 0; n < g.n; ++n) f(one, n * g.c * g.h * g.w, n * g.c * g.p * g.q);
}
}  // namespace detail

inline void max_pool2d_forward(cpu, const pool_geometry& g, const float* x, float* y) {
  detail::per_sample(g, [&](auto& one, auto xo, auto yo) { max_pool2d_forward(reference{}, one, x + xo, y + yo); });
}
inline void max_pool2d_backward(cpu, const pool_geometry& g, const float* x, const float* dy, float* dx) {
  detail::per_sample(g, [&](auto& one, auto xo, auto yo) {
    max_pool2d_backward(reference{}, one, x + xo, dy + yo, dx + xo);
  });
}
inline void avg_pool2d_forward(cpu, const pool_geometry& g, const float* x, float* y) {
  detail::per_sample(g, [&](auto& one, auto xo, auto yo) { avg_pool2d_forward(reference{}, one, x + xo, y + yo); });
}
inline void avg_pool2d_backward(cpu, const pool_geometry& g, const float* dy, float* dx) {
  detail::per_sample(g, [&](auto& one, auto xo, auto yo) { avg_pool2d_backward(reference{}, one, dy + yo, dx + xo); });
}

}  // namespace hush::backend
