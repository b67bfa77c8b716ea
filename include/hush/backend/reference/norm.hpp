#pragma once
// Batch and layer normalisation, one channel (or row) at a time, accumulating in double.
#include <cmath>
#include <cstdint>

#include "hush/backend/norm_fold.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

namespace detail {
/// Mean and biased variance of channel ch of x (N, C, HW).
inline void bn_channel_statistics(std::int64_t n, std::int64_t c, std::int64_t hw, std::int64_t ch, const float* x,
                                  float* mean, float* var) {
  double s = 0, s2 = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < hw; ++t) s += x[(i * c + ch) * hw + t];
  const double m = s / double(n * hw);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < hw; ++t) {
      const double d = x[(i * c + ch) * hw + t] - m;
      s2 += d * d;
    }
  mean[ch] = static_cast<float>(m);
  var[ch] = static_cast<float>(s2 / double(n * hw));
}
inline void bn_channel_forward(std::int64_t n, std::int64_t c, std::int64_t hw, std::int64_t ch, const float* x,
                               const float* mean, const float* var, float eps, const float* gamma, const float* beta,
                               float* y) {
  const double rstd = 1.0 / std::sqrt(double(var[ch]) + eps);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < hw; ++t) {
      const auto k = (i * c + ch) * hw + t;
      y[k] = static_cast<float>((x[k] - mean[ch]) * rstd * gamma[ch] + beta[ch]);
    }
}
/// With batch statistics the mean and variance depend on x too (training mode).
inline void bn_channel_backward(std::int64_t n, std::int64_t c, std::int64_t hw, std::int64_t ch, const float* x,
                                const float* dy, const float* mean, const float* var, float eps, const float* gamma,
                                float* dx, float* dgamma, float* dbeta, bool batch_statistics) {
  const double rstd = 1.0 / std::sqrt(double(var[ch]) + eps), m = double(n * hw);
  double sum_dy = 0, sum_dy_xhat = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < hw; ++t) {
      const auto k = (i * c + ch) * hw + t;
      sum_dy += dy[k];
      sum_dy_xhat += dy[k] * (x[k] - mean[ch]) * rstd;
    }
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < hw; ++t) {
      const auto k = (i * c + ch) * hw + t;
      const double xhat = (x[k] - mean[ch]) * rstd;
      const double g = batch_statistics ? (dy[k] - sum_dy / m - xhat * sum_dy_xhat / m) : dy[k];
      dx[k] = static_cast<float>(g * gamma[ch] * rstd);
    }
  dgamma[ch] += static_cast<float>(sum_dy_xhat);
  dbeta[ch] += static_cast<float>(sum_dy);
}
}  // namespace detail

/// Per-channel mean and biased variance of x (N, C, HW).
inline void batch_norm_statistics(reference, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                                  float* mean, float* var) {
  for (std::int64_t ch = 0; ch < c; ++ch) detail::bn_channel_statistics(n, c, hw, ch, x, mean, var);
}
/// y = (x - mean) / sqrt(var + eps) · gamma + beta, per channel.
inline void batch_norm_forward(reference, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                               const float* mean, const float* var, float eps, const float* gamma, const float* beta,
                               float* y) {
  for (std::int64_t ch = 0; ch < c; ++ch) detail::bn_channel_forward(n, c, hw, ch, x, mean, var, eps, gamma, beta, y);
}
/// dx; dgamma and dbeta accumulate. batch_statistics: mean and var were computed from x.
inline void batch_norm_backward(reference, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                                const float* dy, const float* mean, const float* var, float eps, const float* gamma,
                                float* dx, float* dgamma, float* dbeta, bool batch_statistics) {
  for (std::int64_t ch = 0; ch < c; ++ch)
    detail::bn_channel_backward(n, c, hw, ch, x, dy, mean, var, eps, gamma, dx, dgamma, dbeta, batch_statistics);
}
/// running ← (1 - momentum)·running + momentum·batch, with the unbiased variance (count/(count-1)).
inline void batch_norm_update_running(reference, std::int64_t c, std::int64_t count, float momentum, const float* mean,
                                      const float* var, float* running_mean, float* running_var) {
  const double unbias = count > 1 ? double(count) / double(count - 1) : 1.0;
  for (std::int64_t ch = 0; ch < c; ++ch) {
    running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + double(momentum) * mean[ch]);
    running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + double(momentum) * var[ch] * unbias);
  }
}

/// Layer norm over the last d values of each row: y = (x - μ)/sqrt(σ² + eps)·gamma + beta;
/// keeps μ and 1/σ per row for backward.
inline void layer_norm_forward(reference, std::int64_t rows, std::int64_t d, const float* x, const float* gamma,
                               const float* beta, float eps, float* y, float* mean, float* rstd) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    double s = 0, s2 = 0;
    for (std::int64_t j = 0; j < d; ++j) s += xr[j];
    const double m = s / double(d);
    for (std::int64_t j = 0; j < d; ++j) s2 += (xr[j] - m) * (xr[j] - m);
    const double rs = 1.0 / std::sqrt(s2 / double(d) + eps);
    for (std::int64_t j = 0; j < d; ++j) y[r * d + j] = static_cast<float>((xr[j] - m) * rs * gamma[j] + beta[j]);
    mean[r] = static_cast<float>(m);
    rstd[r] = static_cast<float>(rs);
  }
}
namespace detail {
/// Row r of the layer-norm input gradient.
inline void ln_row_backward(std::int64_t r, std::int64_t d, const float* x, const float* dy, const float* gamma,
                            const float* mean, const float* rstd, float* dx) {
  double a = 0, b = 0;  // Σ g and Σ g·x̂ with g = dy·gamma
  for (std::int64_t j = 0; j < d; ++j) {
    const double g = double(dy[r * d + j]) * gamma[j], xhat = (x[r * d + j] - mean[r]) * double(rstd[r]);
    a += g, b += g * xhat;
  }
  for (std::int64_t j = 0; j < d; ++j) {
    const double g = double(dy[r * d + j]) * gamma[j], xhat = (x[r * d + j] - mean[r]) * double(rstd[r]);
    dx[r * d + j] = static_cast<float>(rstd[r] * (g - a / double(d) - xhat * b / double(d)));
  }
}
/// Column j of the layer-norm parameter gradients (accumulated).
inline void ln_column_grads(std::int64_t rows, std::int64_t d, std::int64_t j, const float* x, const float* dy,
                            const float* mean, const float* rstd, float* dgamma, float* dbeta) {
  double sg = 0, sb = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    sg += double(dy[r * d + j]) * (x[r * d + j] - mean[r]) * rstd[r];
    sb += dy[r * d + j];
  }
  dgamma[j] += static_cast<float>(sg);
  dbeta[j] += static_cast<float>(sb);
}
}  // namespace detail

inline void layer_norm_backward(reference, std::int64_t rows, std::int64_t d, const float* x, const float* dy,
                                const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                                float* dbeta) {
  for (std::int64_t r = 0; r < rows; ++r) detail::ln_row_backward(r, d, x, dy, gamma, mean, rstd, dx);
  for (std::int64_t j = 0; j < d; ++j) detail::ln_column_grads(rows, d, j, x, dy, mean, rstd, dgamma, dbeta);
}

/// The batch norm after a convolution folded into its weights (backend/norm_fold.hpp).
inline void batch_norm_fold(reference, const fold_operands& f) {
  for (std::int64_t i = 0; i < f.channels * f.per_channel; ++i) fold_weight(f, i);
  for (std::int64_t o = 0; o < f.channels; ++o) fold_bias(f, o);
}

}  // namespace hush::backend
