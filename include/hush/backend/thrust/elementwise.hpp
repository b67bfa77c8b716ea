#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <thrust/functional.h>
#include <thrust/transform_reduce.h>

#include "hush/backend/thrust/launch.hpp"
#include "hush/core/random.hpp"

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
inline void multiply(thrust, std::int64_t n, const float* a, const float* b, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] = a[i] * b[i]; });
}
inline void axpy(thrust, std::int64_t n, float alpha, const float* x, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] += alpha * x[i]; });
}
inline void fill(thrust, std::int64_t n, float value, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] = value; });
}

}  // namespace hush::backend

namespace hush::backend {

inline void copy_blocks(thrust, std::int64_t rows, std::int64_t len, const float* src, std::int64_t src_stride,
                        float* dst, std::int64_t dst_stride) {
  detail::for_each_index(rows * len, [=] HUSH_HD(std::int64_t i) {
    dst[(i / len) * dst_stride + i % len] = src[(i / len) * src_stride + i % len];
  });
}

inline void dropout_forward(thrust, std::int64_t n, float p, counter_rng rng, std::uint64_t key, const float* x,
                            float* y) {
  const float scale = 1.0f / (1.0f - p);
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) {
    y[i] = rng.uniform(key, static_cast<std::uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
  });
}
inline void dropout_backward(thrust, std::int64_t n, float p, counter_rng rng, std::uint64_t key, const float* dy,
                             float* dx) {
  dropout_forward(thrust{}, n, p, rng, key, dy, dx);
}

}  // namespace hush::backend

namespace hush::backend {

template <class Op>
void random_map(thrust, Op op, std::int64_t n, counter_rng rng, std::uint64_t key, const float* x, float* y) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { y[i] = op(x[i], rng, key, static_cast<std::uint64_t>(i)); });
}

/// max |x_i| over n values (0 for none): a Thrust reduction.
inline float max_abs(thrust, std::int64_t n, const float* x) {
  return ::thrust::transform_reduce(
      ::thrust::device, ::thrust::counting_iterator<std::int64_t>(0), ::thrust::counting_iterator<std::int64_t>(n),
      [=] HUSH_HD(std::int64_t i) { return x[i] < 0.0f ? -x[i] : x[i]; }, 0.0f, ::thrust::maximum<float>());
}

/// f(i) for i in [0, n) on the device (see the reference backend's for_each_index); with nvcc,
/// f must be a __host__ __device__ lambda (HUSH_HD), which --extended-lambda allows.
template <class F>
void for_each_index(thrust, std::int64_t n, F f) {
  detail::for_each_index(n, f);
}

}  // namespace hush::backend
