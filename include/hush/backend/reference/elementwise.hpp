#pragma once
#include <cstdint>

#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

/// y = op(x), element by element (x and y may alias).
template <class Op>
void unary_forward(reference, Op op, std::int64_t n, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = op(x[i]);
}
/// dx = dy · op'(x) (given y = op(x)).
template <class Op>
void unary_backward(reference, Op op, std::int64_t n, const float* x, const float* y, const float* dy, float* dx) {
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * op.grad(x[i], y[i]);
}
/// y = a + b.
inline void add(reference, std::int64_t n, const float* a, const float* b, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
/// y += alpha · x.
inline void axpy(reference, std::int64_t n, float alpha, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}
inline void fill(reference, std::int64_t n, float value, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = value;
}

}  // namespace hush::backend
