#pragma once
#include <cmath>
#include <cstdint>

#include <algorithm>

#include "hush/backend/cpu/tag.hpp"
#include "hush/core/random.hpp"

namespace hush::backend {

template <class Op>
void unary_forward(cpu, Op op, std::int64_t n, const float* x, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = op(x[i]);
}
template <class Op>
void unary_backward(cpu, Op op, std::int64_t n, const float* x, const float* y, const float* dy, float* dx) {
  if constexpr (requires { op.backward(x[0], dy[0]); }) {
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) dx[i] = op.backward(x[i], dy[i]);
  } else {
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * op.grad(x[i], y[i]);
  }
}
inline void add(cpu, std::int64_t n, const float* a, const float* b, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
inline void multiply(cpu, std::int64_t n, const float* a, const float* b, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}
inline void axpy(cpu, std::int64_t n, float alpha, const float* x, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}
inline void fill(cpu, std::int64_t n, float value, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = value;
}

}  // namespace hush::backend

namespace hush::backend {

inline void copy_blocks(cpu, std::int64_t rows, std::int64_t len, const float* src, std::int64_t src_stride, float* dst,
                        std::int64_t dst_stride) {
#pragma omp parallel for if (rows * len > 65536)
  for (std::int64_t r = 0; r < rows; ++r) std::copy_n(src + r * src_stride, len, dst + r * dst_stride);
}

inline void dropout_forward(cpu, std::int64_t n, float p, counter_rng rng, std::uint64_t key, const float* x, float* y) {
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = rng.uniform(key, static_cast<std::uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
}
inline void dropout_backward(cpu, std::int64_t n, float p, counter_rng rng, std::uint64_t key, const float* dy,
                             float* dx) {
  dropout_forward(cpu{}, n, p, rng, key, dy, dx);
}

}  // namespace hush::backend

namespace hush::backend {

template <class Op>
void random_map(cpu, Op op, std::int64_t n, counter_rng rng, std::uint64_t key, const float* x, float* y) {
#pragma omp parallel for if (n > 16384)
  for (std::int64_t i = 0; i < n; ++i) y[i] = op(x[i], rng, key, static_cast<std::uint64_t>(i));
}

/// max |x_i| over n values (0 for none).
inline float max_abs(cpu, std::int64_t n, const float* x) {
  float m = 0.0f;
#pragma omp parallel for reduction(max : m) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

/// f(i) for i in [0, n) on the OpenMP threads (see the reference backend's for_each_index).
template <class F>
void for_each_index(cpu, std::int64_t n, F f) {
#pragma omp parallel for if (n > 16384)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace hush::backend

// GELU through oneDNN's vectorised kernel where hush has oneDNN: included here, beside the generic
// unary_forward it overrides, so no translation unit sees one without the other.
#if HUSH_WITH_DNNL
#include "hush/backend/cpu/dnnl_gelu.hpp"
#endif
