#pragma once
// Multi-head scaled dot-product attention, fused per (sample, head): the scores Q·Kᵀ, their
// softmax and the product with V run back to back on one thread while that head's T×T block is
// in cache, with OpenBLAS's sgemm on strided views of the qkv rows (no copy into per-head
// arrays). Samples × heads are spread over the OpenMP threads; each writes only its own head's
// columns, so there are no races and no atomics.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hush/backend/cpu/dense.hpp"
#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/geometry.hpp"

namespace hush::backend {

namespace detail {
/// Softmax of each of `rows` rows of t values, in place.
inline void softmax_rows_in_place(std::int64_t rows, std::int64_t t, float* p) {
  for (std::int64_t i = 0; i < rows; ++i) {
    float* r = p + i * t;
    float m = r[0];
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < t; ++j) m = std::max(m, r[j]);
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (std::int64_t j = 0; j < t; ++j) {
      r[j] = std::exp(r[j] - m);
      s += r[j];
    }
    const float inv = 1.0f / s;
#pragma omp simd
    for (std::int64_t j = 0; j < t; ++j) r[j] *= inv;
  }
}
}  // namespace detail

inline void attention_forward(cpu, const attention_geometry& g, const float* qkv, float* probs, float* out) {
  const std::int64_t t = g.tokens, d = g.head_dim, row = g.qkv_row(), c = g.width(), items = g.n * g.heads;
#pragma omp parallel for schedule(static) if (items > 1)
  for (std::int64_t it = 0; it < items; ++it) {
    const std::int64_t n = it / g.heads, h = it % g.heads;
    const float* q = qkv + n * t * row + h * d;
    float* p = probs + it * t * t;
    gemm_strided(cpu{}, false, true, t, t, d, g.scale, q, row, q + c, row, 0.0f, p, t);
    detail::softmax_rows_in_place(t, t, p);
    gemm_strided(cpu{}, false, false, t, d, t, 1.0f, p, t, q + 2 * c, row, 0.0f, out + n * t * c + h * d, c);
  }
}

/// `scratch` holds probs_count() values: each head's dP, then dS, in its own T×T block.
inline void attention_backward(cpu, const attention_geometry& g, const float* qkv, const float* probs,
                               const float* dout, float* scratch, float* dqkv) {
  const std::int64_t t = g.tokens, d = g.head_dim, row = g.qkv_row(), c = g.width(), items = g.n * g.heads;
#pragma omp parallel for schedule(static) if (items > 1)
  for (std::int64_t it = 0; it < items; ++it) {
    const std::int64_t n = it / g.heads, h = it % g.heads;
    const float* q = qkv + n * t * row + h * d;
    const float* k = q + c;
    const float* v = q + 2 * c;
    const float* p = probs + it * t * t;
    const float* d_out = dout + n * t * c + h * d;
    float* dq = dqkv + n * t * row + h * d;
    float* ds = scratch + it * t * t;
    gemm_strided(cpu{}, true, false, t, d, t, 1.0f, p, t, d_out, c, 0.0f, dq + 2 * c, row);  // dV = Pᵀ·dO
    gemm_strided(cpu{}, false, true, t, t, d, 1.0f, d_out, c, v, row, 0.0f, ds, t);          // dP = dO·Vᵀ
    for (std::int64_t i = 0; i < t; ++i) {  // dS = P ⊙ (dP − Σⱼ P·dP)
      const float* pr = p + i * t;
      float* r = ds + i * t;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (std::int64_t j = 0; j < t; ++j) dot += pr[j] * r[j];
#pragma omp simd
      for (std::int64_t j = 0; j < t; ++j) r[j] = pr[j] * (r[j] - dot);
    }
    gemm_strided(cpu{}, false, false, t, d, t, g.scale, ds, t, k, row, 0.0f, dq, row);     // dQ = dS·K·scale
    gemm_strided(cpu{}, true, false, t, d, t, g.scale, ds, t, q, row, 0.0f, dq + c, row);  // dK = dSᵀ·Q·scale
  }
}

}  // namespace hush::backend
