#pragma once
// Multi-head scaled dot-product attention (backend/geometry.hpp's attention_geometry for the
// layouts), as plain loops in double: the oracle the fused kernels of the other backends match.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "hush/backend/geometry.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

/// out = softmax(Q·Kᵀ·scale)·V per sample and head; probs keeps the softmax for backward.
inline void attention_forward(reference, const attention_geometry& g, const float* qkv, float* probs, float* out) {
  const std::int64_t t = g.tokens, d = g.head_dim, row = g.qkv_row(), c = g.width();
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t h = 0; h < g.heads; ++h) {
      const float* q = qkv + n * t * row + h * d;
      const float* k = q + c;
      const float* v = q + 2 * c;
      float* p = probs + (n * g.heads + h) * t * t;
      for (std::int64_t i = 0; i < t; ++i) {
        double m = -INFINITY, s = 0;
        for (std::int64_t j = 0; j < t; ++j) {
          double dot = 0;
          for (std::int64_t e = 0; e < d; ++e) dot += double(q[i * row + e]) * k[j * row + e];
          p[i * t + j] = static_cast<float>(dot * g.scale);
          m = std::max(m, double(p[i * t + j]));
        }
        for (std::int64_t j = 0; j < t; ++j) s += std::exp(p[i * t + j] - m);
        for (std::int64_t j = 0; j < t; ++j) p[i * t + j] = static_cast<float>(std::exp(p[i * t + j] - m) / s);
        for (std::int64_t e = 0; e < d; ++e) {
          double o = 0;
          for (std::int64_t j = 0; j < t; ++j) o += double(p[i * t + j]) * v[j * row + e];
          out[(n * t + i) * c + h * d + e] = static_cast<float>(o);
        }
      }
    }
}

/// dqkv from dout: dV = Pᵀ·dO, dS = P ⊙ (dO·Vᵀ − rowsum(P ⊙ dO·Vᵀ)), dQ = dS·K·scale,
/// dK = dSᵀ·Q·scale. Overwrites dqkv; `scratch` (probs_count values) is unused here.
inline void attention_backward(reference, const attention_geometry& g, const float* qkv, const float* probs,
                               const float* dout, float* /*scratch*/, float* dqkv) {
  const std::int64_t t = g.tokens, d = g.head_dim, row = g.qkv_row(), c = g.width();
  std::vector<double> ds(static_cast<std::size_t>(t * t));
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t h = 0; h < g.heads; ++h) {
      const float* q = qkv + n * t * row + h * d;
      const float* k = q + c;
      const float* v = q + 2 * c;
      const float* p = probs + (n * g.heads + h) * t * t;
      const float* dout_h = dout + n * t * c + h * d;
      float* dq = dqkv + n * t * row + h * d;
      float* dk = dq + c;
      float* dv = dq + 2 * c;
      for (std::int64_t i = 0; i < t; ++i) {
        double rowdot = 0;
        for (std::int64_t j = 0; j < t; ++j) {
          double dp = 0;
          for (std::int64_t e = 0; e < d; ++e) dp += double(dout_h[i * c + e]) * v[j * row + e];
          ds[static_cast<std::size_t>(i * t + j)] = dp;
          rowdot += dp * p[i * t + j];
        }
        for (std::int64_t j = 0; j < t; ++j) {
          auto& x = ds[static_cast<std::size_t>(i * t + j)];
          x = double(p[i * t + j]) * (x - rowdot) * g.scale;
        }
      }
      for (std::int64_t a = 0; a < t; ++a)
        for (std::int64_t e = 0; e < d; ++e) {
          double sq = 0, sk = 0, sv = 0;
          for (std::int64_t b = 0; b < t; ++b) {
            sq += ds[static_cast<std::size_t>(a * t + b)] * k[b * row + e];
            sk += ds[static_cast<std::size_t>(b * t + a)] * q[b * row + e];
            sv += double(p[b * t + a]) * dout_h[b * c + e];
          }
          dq[a * row + e] = static_cast<float>(sq);
          dk[a * row + e] = static_cast<float>(sk);
          dv[a * row + e] = static_cast<float>(sv);
        }
    }
}

}  // namespace hush::backend
