#pragma once
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"

namespace hush::backend {

template <class Op>
void unary_forward(cpu, Op op, std::int64_t n, const float* x, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = op(x[i]);
}
template <class Op>
void unary_backward(cpu, Op op, std::int64_t n, const float* x, const float* y, const float* dy, float* dx) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * op.grad(x[i], y[i]);
}
inline void add(cpu, std::int64_t n, const float* a, const float* b, float* y) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
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
