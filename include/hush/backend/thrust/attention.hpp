#pragma once
// Multi-head scaled dot-product attention as batched GEMMs (one per sample over its heads:
// cublasSgemmStridedBatched on a GPU) around a softmax kernel, one thread per row of scores.
#include <cstdint>

#include "hush/backend/geometry.hpp"
#include "hush/backend/thrust/dense.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

namespace detail {
/// Softmax of each row of t values in place, in double.
inline void softmax_rows(std::int64_t rows, std::int64_t t, float* p) {
  for_each_index(rows, [=] HUSH_HD(std::int64_t i) {
    float* r = p + i * t;
    float m = r[0];
    for (std::int64_t j = 1; j < t; ++j) m = r[j] > m ? r[j] : m;
    double s = 0;
    for (std::int64_t j = 0; j < t; ++j) s += exp(double(r[j] - m));
    for (std::int64_t j = 0; j < t; ++j) r[j] = static_cast<float>(exp(double(r[j] - m)) / s);
  });
}
}  // namespace detail

inline void attention_forward(thrust, const attention_geometry& g, const float* qkv, float* probs, float* out) {
  const std::int64_t t = g.tokens, d = g.head_dim, row = g.qkv_row(), c = g.width(), h = g.heads;
  for (std::int64_t n = 0; n < g.n; ++n) {
    const float* q = qkv + n * t * row;
    gemm_batched(thrust{}, h, false, true, t, t, d, g.scale, q, row, d, q + c, row, d, 0.0f, probs + n * h * t * t, t,
                 t * t);
  }
  detail::softmax_rows(g.n * h * t, t, probs);
  for (std::int64_t n = 0; n < g.n; ++n)
    gemm_batched(thrust{}, h, false, false, t, d, t, 1.0f, probs + n * h * t * t, t, t * t, qkv + n * t * row + 2 * c,
                 row, d, 0.0f, out + n * t * c, c, d);
}

/// `scratch` holds probs_count() values: dP, then dS.
inline void attention_backward(thrust, const attention_geometry& g, const float* qkv, const float* probs,
                               const float* dout, float* scratch, float* dqkv) {
  const std::int64_t t = g.tokens, d = g.head_dim, row = g.qkv_row(), c = g.width(), h = g.heads;
  for (std::int64_t n = 0; n < g.n; ++n) {
    const float* q = qkv + n * t * row;
    const float* p = probs + n * h * t * t;
    const float* d_out = dout + n * t * c;
    float* dq = dqkv + n * t * row;
    float* ds = scratch + n * h * t * t;
    gemm_batched(thrust{}, h, true, false, t, d, t, 1.0f, p, t, t * t, d_out, c, d, 0.0f, dq + 2 * c, row, d);  // dV
    gemm_batched(thrust{}, h, false, true, t, t, d, 1.0f, d_out, c, d, q + 2 * c, row, d, 0.0f, ds, t, t * t);  // dP
  }
  detail::for_each_index(g.n * h * t, [=] HUSH_HD(std::int64_t i) {  // dS = P ⊙ (dP − Σⱼ P·dP), a row each
    const float* pr = probs + i * t;
    float* r = scratch + i * t;
    double dot = 0;
    for (std::int64_t j = 0; j < t; ++j) dot += double(pr[j]) * r[j];
    for (std::int64_t j = 0; j < t; ++j) r[j] = static_cast<float>(pr[j] * (r[j] - dot));
  });
  for (std::int64_t n = 0; n < g.n; ++n) {
    const float* q = qkv + n * t * row;
    const float* ds = scratch + n * h * t * t;
    float* dq = dqkv + n * t * row;
    gemm_batched(thrust{}, h, false, false, t, d, t, g.scale, ds, t, t * t, q + c, row, d, 0.0f, dq, row, d);     // dQ
    gemm_batched(thrust{}, h, true, false, t, d, t, g.scale, ds, t, t * t, q, row, d, 0.0f, dq + c, row, d);      // dK
  }
}

}  // namespace hush::backend
