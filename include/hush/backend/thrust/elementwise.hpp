#pragma once
#include <cstdint>

#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

template <class Op>
void unary_forward(thrust, Op op, std::int64_t n, const float* x, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] = op(x[i]); });
}
template <class Op>
void unary_backward(thrust, Op op, std::int64_t n, const float* x, const float* y, const float* dy, float* dx) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { dx[i] = dy[i] * op.grad(x[i], y[i]); });
}
inline void add(thrust, std::int64_t n, const float* a, const float* b, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] = a[i] + b[i]; });
}
inline void axpy(thrust, std::int64_t n, float alpha, const float* x, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] += alpha * x[i]; });
}
inline void fill(thrust, std::int64_t n, float value, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] = value; });
}

}  // namespace hush::backend
