#pragma once
// Normalisation and softmax on the cpu backend: one channel or row per OpenMP iteration (each owns
// its outputs, so no two threads write the same value); layer norm and softmax reuse the
// reference's loops, batch norm has float inner loops of its own (it is on every ResNet path).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/unary_ops.hpp"
#include "hush/backend/reference/norm.hpp"
#include "hush/backend/reference/softmax.hpp"

namespace hush::backend {

// Batch norm works plane by plane: each (sample, channel) plane of H·W floats is a contiguous run
// that the compiler vectorises in float, and the planes' partial sums are added in double. One
// channel per OpenMP iteration, so each thread owns its channels' outputs.
namespace detail {
inline float plane_sum(const float* x, std::int64_t hw) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (std::int64_t t = 0; t < hw; ++t) s += x[t];
  return s;
}
}  // namespace detail

inline void batch_norm_statistics(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, float* mean,
                                  float* var) {
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double s = 0, s2 = 0;
    for (std::int64_t i = 0; i < n; ++i) s += detail::plane_sum(x + (i * c + ch) * hw, hw);
    const double m = s / double(n * hw);
    const float mf = static_cast<float>(m);
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * c + ch) * hw;
      float part = 0.0f;
#pragma omp simd reduction(+ : part)
      for (std::int64_t t = 0; t < hw; ++t) part += (p[t] - mf) * (p[t] - mf);
      s2 += part;
    }
    mean[ch] = mf;
    var[ch] = static_cast<float>(s2 / double(n * hw));
  }
}
/// y = γ(x − μ)/√(σ² + ε) + β, then (when `act` is given) a (leaky) ReLU in the same pass.
inline void batch_norm_forward_relu(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                                    const float* mean, const float* var, float eps, const float* gamma,
                                    const float* beta, const hush::ops::fused_relu* act, float* y) {
  const float slope = act ? act->slope : 1.0f;  // slope 1: the identity
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const double scale = double(gamma[ch]) / std::sqrt(double(var[ch]) + eps);
    const float a = static_cast<float>(scale), b = static_cast<float>(beta[ch] - mean[ch] * scale);
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * c + ch) * hw;
      float* q = y + (i * c + ch) * hw;
#pragma omp simd
      for (std::int64_t t = 0; t < hw; ++t) {  // max + slope·min: no select, so GCC vectorises it
        const float v = p[t] * a + b;
        q[t] = std::max(v, 0.0f) + slope * std::min(v, 0.0f);
      }
    }
  }
}
inline void batch_norm_forward(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, const float* mean,
                               const float* var, float eps, const float* gamma, const float* beta, float* y) {
  batch_norm_forward_relu(cpu{}, n, c, hw, x, mean, var, eps, gamma, beta, nullptr, y);
}
/// dx = γ·rstd·(dy - mean(dy) - x̂·mean(dy·x̂)) with batch statistics, γ·rstd·dy without.
inline void batch_norm_backward(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, const float* dy,
                                const float* mean, const float* var, float eps, const float* gamma, float* dx,
                                float* dgamma, float* dbeta, bool batch_statistics) {
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const double rstd = 1.0 / std::sqrt(double(var[ch]) + eps), count = double(n * hw);
    const float mf = mean[ch];
    double sum_dy = 0, sum_dy_xc = 0;  // Σ dy, Σ dy·(x - mean)
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * c + ch) * hw;
      const float* d = dy + (i * c + ch) * hw;
      float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
      for (std::int64_t t = 0; t < hw; ++t) a += d[t], b += d[t] * (p[t] - mf);
      sum_dy += a, sum_dy_xc += b;
    }
    const double g = double(gamma[ch]) * rstd;
    const float k_dy = static_cast<float>(g);
    const float k_x = batch_statistics ? static_cast<float>(-g * rstd * rstd * sum_dy_xc / count) : 0.0f;
    const float k_0 = batch_statistics ? static_cast<float>(-g * sum_dy / count) : 0.0f;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * c + ch) * hw;
      const float* d = dy + (i * c + ch) * hw;
      float* q = dx + (i * c + ch) * hw;
#pragma omp simd
      for (std::int64_t t = 0; t < hw; ++t) q[t] = d[t] * k_dy + (p[t] - mf) * k_x + k_0;
    }
    dgamma[ch] += static_cast<float>(sum_dy_xc * rstd);
    dbeta[ch] += static_cast<float>(sum_dy);
  }
}
inline void batch_norm_update_running(cpu, std::int64_t c, std::int64_t count, float momentum, const float* mean,
                                      const float* var, float* running_mean, float* running_var) {
  batch_norm_update_running(reference{}, c, count, momentum, mean, var, running_mean, running_var);
}

inline void layer_norm_forward(cpu, std::int64_t rows, std::int64_t d, const float* x, const float* gamma,
                               const float* beta, float eps, float* y, float* mean, float* rstd) {
#pragma omp parallel for if (rows * d > 16384)
  for (std::int64_t r = 0; r < rows; ++r)
    layer_norm_forward(reference{}, 1, d, x + r * d, gamma, beta, eps, y + r * d, mean + r, rstd + r);
}
inline void layer_norm_backward(cpu, std::int64_t rows, std::int64_t d, const float* x, const float* dy,
                                const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                                float* dbeta) {
#pragma omp parallel for if (rows * d > 16384)
  for (std::int64_t r = 0; r < rows; ++r) detail::ln_row_backward(r, d, x, dy, gamma, mean, rstd, dx);
#pragma omp parallel for if (rows * d > 16384)
  for (std::int64_t j = 0; j < d; ++j) detail::ln_column_grads(rows, d, j, x, dy, mean, rstd, dgamma, dbeta);
}

inline void softmax_forward(cpu, std::int64_t rows, std::int64_t k, const float* x, float* y) {
#pragma omp parallel for if (rows * k > 16384)
  for (std::int64_t r = 0; r < rows; ++r) softmax_forward(reference{}, 1, k, x + r * k, y + r * k);
}
inline void softmax_backward(cpu, std::int64_t rows, std::int64_t k, const float* y, const float* dy, float* dx) {
#pragma omp parallel for if (rows * k > 16384)
  for (std::int64_t r = 0; r < rows; ++r) softmax_backward(reference{}, 1, k, y + r * k, dy + r * k, dx + r * k);
}

}  // namespace hush::backend
