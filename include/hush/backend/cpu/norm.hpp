#pragma once
// Normalisation and softmax on the cpu backend: one channel or row per OpenMP iteration (each owns
// its outputs, so no two threads write the same value); layer norm and softmax reuse the
// reference's loops, batch norm has float inner loops of its own (it is on every ResNet path).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/backend/cpu/tag.hpp"
#include "hush/core/error.hpp"
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
namespace detail {
/// What batch norm's backward reads as dy: the gradient itself, or the gradient of the (leaky)
/// ReLU that forward_then applied after the norm, taken through it on the fly (its output y has
/// its input's sign), which saves the activation's own backward pass and buffer. Products, not a
/// select, so the loops stay vectorised.
struct given_dy {
  const float* dy;
  float operator()(std::int64_t i) const { return dy[i]; }
};
struct dy_through_relu {
  const float* dy;
  const float* y;
  float slope;
  float operator()(std::int64_t i) const {  // exactly dy or slope·dy: one of the two terms is 0
    const float positive = static_cast<float>(y[i] > 0.0f);
    return dy[i] * positive + slope * dy[i] * (1.0f - positive);
  }
};

/// dx = γ·rstd·(dy - mean(dy) - x̂·mean(dy·x̂)) with batch statistics, γ·rstd·dy without.
template <class Dy>
void bn_backward(std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, Dy dy, const float* mean,
                 const float* var, float eps, const float* gamma, float* dx, float* dgamma, float* dbeta,
                 bool batch_statistics) {
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const double rstd = 1.0 / std::sqrt(double(var[ch]) + eps), count = double(n * hw);
    const float mf = mean[ch];
    double sum_dy = 0, sum_dy_xc = 0;  // Σ dy, Σ dy·(x - mean)
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * c + ch) * hw;
      const auto at = (i * c + ch) * hw;
      float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
      for (std::int64_t t = 0; t < hw; ++t) a += dy(at + t), b += dy(at + t) * (p[t] - mf);
      sum_dy += a, sum_dy_xc += b;
    }
    const double g = double(gamma[ch]) * rstd;
    const float k_dy = static_cast<float>(g);
    const float k_x = batch_statistics ? static_cast<float>(-g * rstd * rstd * sum_dy_xc / count) : 0.0f;
    const float k_0 = batch_statistics ? static_cast<float>(-g * sum_dy / count) : 0.0f;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * c + ch) * hw;
      const auto at = (i * c + ch) * hw;
      float* q = dx + at;
#pragma omp simd
      for (std::int64_t t = 0; t < hw; ++t) q[t] = dy(at + t) * k_dy + (p[t] - mf) * k_x + k_0;
    }
    dgamma[ch] += static_cast<float>(sum_dy_xc * rstd);
    dbeta[ch] += static_cast<float>(sum_dy);
  }
}
}  // namespace detail

inline void batch_norm_backward(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, const float* dy,
                                const float* mean, const float* var, float eps, const float* gamma, float* dx,
                                float* dgamma, float* dbeta, bool batch_statistics) {
  detail::bn_backward(n, c, hw, x, detail::given_dy{dy}, mean, var, eps, gamma, dx, dgamma, dbeta, batch_statistics);
}
/// The same with dy the gradient of the (leaky) ReLU of slope `slope` applied after the norm, whose
/// output is y: the ReLU's backward in the same pass.
inline void batch_norm_backward_relu(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                                     const float* dy, const float* y, float slope, const float* mean, const float* var,
                                     float eps, const float* gamma, float* dx, float* dgamma, float* dbeta,
                                     bool batch_statistics) {
  detail::bn_backward(n, c, hw, x, detail::dy_through_relu{dy, y, slope}, mean, var, eps, gamma, dx, dgamma, dbeta,
                      batch_statistics);
}

// Batch norm on the blocked layout (core/tensor.hpp): sample i's channel block cb is hw pixels of
// B channels each, so the inner loop runs over the B lanes of one pixel (one AVX-512 register at
// B = 16). One channel block per OpenMP iteration.
namespace detail {
template <int B>
void bn_blocked_statistics(std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, float* mean, float* var) {
  const auto blocks = c / B;
#pragma omp parallel for
  for (std::int64_t cb = 0; cb < blocks; ++cb) {
    double s[B] = {}, s2[B] = {};
    float m[B];
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * blocks + cb) * hw * B;
      float part[B] = {};
      for (std::int64_t t = 0; t < hw; ++t)
#pragma omp simd
        for (int l = 0; l < B; ++l) part[l] += p[t * B + l];
      for (int l = 0; l < B; ++l) s[l] += part[l];
    }
    for (int l = 0; l < B; ++l) m[l] = static_cast<float>(s[l] / double(n * hw));
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * blocks + cb) * hw * B;
      float part[B] = {};
      for (std::int64_t t = 0; t < hw; ++t)
#pragma omp simd
        for (int l = 0; l < B; ++l) part[l] += (p[t * B + l] - m[l]) * (p[t * B + l] - m[l]);
      for (int l = 0; l < B; ++l) s2[l] += part[l];
    }
    for (int l = 0; l < B; ++l) mean[cb * B + l] = m[l], var[cb * B + l] = static_cast<float>(s2[l] / double(n * hw));
  }
}
template <int B>
void bn_blocked_forward(std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, const float* mean,
                        const float* var, float eps, const float* gamma, const float* beta, float slope, float* y) {
  const auto blocks = c / B;
#pragma omp parallel for
  for (std::int64_t cb = 0; cb < blocks; ++cb) {
    float a[B], b[B];
    for (int l = 0; l < B; ++l) {
      const auto ch = cb * B + l;
      const double scale = double(gamma[ch]) / std::sqrt(double(var[ch]) + eps);
      a[l] = static_cast<float>(scale), b[l] = static_cast<float>(beta[ch] - mean[ch] * scale);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = x + (i * blocks + cb) * hw * B;
      float* q = y + (i * blocks + cb) * hw * B;
      for (std::int64_t t = 0; t < hw; ++t)
#pragma omp simd
        for (int l = 0; l < B; ++l) {
          const float v = p[t * B + l] * a[l] + b[l];
          q[t * B + l] = std::max(v, 0.0f) + slope * std::min(v, 0.0f);
        }
    }
  }
}
template <int B, class Dy>
void bn_blocked_backward(std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, Dy dy,
                         const float* mean, const float* var, float eps, const float* gamma, float* dx, float* dgamma,
                         float* dbeta, bool batch_statistics) {
  const auto blocks = c / B;
#pragma omp parallel for
  for (std::int64_t cb = 0; cb < blocks; ++cb) {
    double sum_dy[B] = {}, sum_dy_xc[B] = {};
    float mf[B], k_dy[B], k_x[B], k_0[B];
    for (int l = 0; l < B; ++l) mf[l] = mean[cb * B + l];
    for (std::int64_t i = 0; i < n; ++i) {
      const auto at = (i * blocks + cb) * hw * B;
      const float* p = x + at;
      float a[B] = {}, b[B] = {};
      for (std::int64_t t = 0; t < hw; ++t)
#pragma omp simd
        for (int l = 0; l < B; ++l) {
          const float d = dy(at + t * B + l);
          a[l] += d, b[l] += d * (p[t * B + l] - mf[l]);
        }
      for (int l = 0; l < B; ++l) sum_dy[l] += a[l], sum_dy_xc[l] += b[l];
    }
    const double count = double(n * hw);
    for (int l = 0; l < B; ++l) {
      const auto ch = cb * B + l;
      const double rstd = 1.0 / std::sqrt(double(var[ch]) + eps), g = double(gamma[ch]) * rstd;
      k_dy[l] = static_cast<float>(g);
      k_x[l] = batch_statistics ? static_cast<float>(-g * rstd * rstd * sum_dy_xc[l] / count) : 0.0f;
      k_0[l] = batch_statistics ? static_cast<float>(-g * sum_dy[l] / count) : 0.0f;
      dgamma[ch] += static_cast<float>(sum_dy_xc[l] * rstd);
      dbeta[ch] += static_cast<float>(sum_dy[l]);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const auto at = (i * blocks + cb) * hw * B;
      const float* p = x + at;
      float* q = dx + at;
      for (std::int64_t t = 0; t < hw; ++t)
#pragma omp simd
        for (int l = 0; l < B; ++l)
          q[t * B + l] = dy(at + t * B + l) * k_dy[l] + (p[t * B + l] - mf[l]) * k_x[l] + k_0[l];
    }
  }
}
/// f.template operator()<B>() for the block size `block` (8 or 16).
template <class F>
void with_block(std::int64_t block, F&& f) {
  if (block == 16) f.template operator()<16>();
  else if (block == 8) f.template operator()<8>();
  else throw error("batch norm: no blocked kernels for blocks of " + std::to_string(block) + " channels");
}
}  // namespace detail

/// The batch-norm kernels above on the blocked layout with `block` channels per block.
inline void batch_norm_statistics_blocked(cpu, std::int64_t block, std::int64_t n, std::int64_t c, std::int64_t hw,
                                          const float* x, float* mean, float* var) {
  detail::with_block(block, [&]<int B>() { detail::bn_blocked_statistics<B>(n, c, hw, x, mean, var); });
}
inline void batch_norm_forward_relu_blocked(cpu, std::int64_t block, std::int64_t n, std::int64_t c, std::int64_t hw,
                                            const float* x, const float* mean, const float* var, float eps,
                                            const float* gamma, const float* beta, const hush::ops::fused_relu* act,
                                            float* y) {
  const float slope = act ? act->slope : 1.0f;
  detail::with_block(block, [&]<int B>() { detail::bn_blocked_forward<B>(n, c, hw, x, mean, var, eps, gamma, beta, slope, y); });
}
/// `y`: as batch_norm_backward_relu, dy taken through the (leaky) ReLU whose output is y; none
/// when null.
inline void batch_norm_backward_blocked(cpu, std::int64_t block, std::int64_t n, std::int64_t c, std::int64_t hw,
                                        const float* x, const float* dy, const float* mean, const float* var, float eps,
                                        const float* gamma, float* dx, float* dgamma, float* dbeta,
                                        bool batch_statistics, const float* y = nullptr, float slope = 1.0f) {
  detail::with_block(block, [&]<int B>() {
    if (y)
      detail::bn_blocked_backward<B>(n, c, hw, x, detail::dy_through_relu{dy, y, slope}, mean, var, eps, gamma, dx,
                                     dgamma, dbeta, batch_statistics);
    else
      detail::bn_blocked_backward<B>(n, c, hw, x, detail::given_dy{dy}, mean, var, eps, gamma, dx, dgamma, dbeta,
                                     batch_statistics);
  });
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

/// Once per infer(): the reference's loop serves.
inline void batch_norm_fold(cpu, const fold_operands& f) { batch_norm_fold(reference{}, f); }

}  // namespace hush::backend
