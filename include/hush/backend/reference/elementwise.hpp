#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hush/backend/reference/tag.hpp"
#include "hush/core/random.hpp"

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
/// y = a · b, element by element (y may be a or b).
inline void multiply(reference, std::int64_t n, const float* a, const float* b, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}
/// y += alpha · x.
inline void axpy(reference, std::int64_t n, float alpha, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}
inline void fill(reference, std::int64_t n, float value, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = value;
}

}  // namespace hush::backend

namespace hush::backend {

/// Copies `rows` blocks of `len` floats: block r from src + r·src_stride to dst + r·dst_stride.
/// Channel concatenation and its split are this with rows = N.
inline void copy_blocks(reference, std::int64_t rows, std::int64_t len, const float* src, std::int64_t src_stride,
                        float* dst, std::int64_t dst_stride) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < len; ++i) dst[r * dst_stride + i] = src[r * src_stride + i];
}

/// Inverted dropout: element i is kept when rng.uniform(key, i) >= p, and scaled by 1/(1-p).
/// The mask is a function of (seed, key, i), recomputed in backward instead of stored.
inline void dropout_forward(reference, std::int64_t n, float p, counter_rng rng, std::uint64_t key, const float* x,
                            float* y) {
  const float scale = 1.0f / (1.0f - p);
  for (std::int64_t i = 0; i < n; ++i) y[i] = rng.uniform(key, static_cast<std::uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
}
inline void dropout_backward(reference, std::int64_t n, float p, counter_rng rng, std::uint64_t key, const float* dy,
                             float* dx) {
  dropout_forward(reference{}, n, p, rng, key, dy, dx);  // the same mask and scale: the map is linear
}

}  // namespace hush::backend

namespace hush::backend {

/// y[i] = op(x[i], rng, key, i): element-wise randomness (noise), a pure function of the index.
template <class Op>
void random_map(reference, Op op, std::int64_t n, counter_rng rng, std::uint64_t key, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = op(x[i], rng, key, static_cast<std::uint64_t>(i));
}

/// max |x_i| over n values (0 for none).
inline float max_abs(reference, std::int64_t n, const float* x) {
  float m = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

/// f(i) for i in [0, n): the kernel a user's own layer writes, with a HUSH_HD lambda that
/// captures raw pointers (ctx[buffer].data()), and runs on every backend.
template <class F>
void for_each_index(reference, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace hush::backend
