#pragma once
// Normalisation and softmax as Thrust loops: one channel (batch norm), row or column (layer
// norm, softmax) per index, so every output has one writer and no atomics are needed.
#include <cmath>
#include <cstdint>

#include "hush/backend/norm_fold.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

inline void batch_norm_statistics(thrust, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, float* mean,
                                  float* var) {
  detail::for_each_index(c, [=] HUSH_HD(std::int64_t ch) {
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
  });
}
inline void batch_norm_forward(thrust, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                               const float* mean, const float* var, float eps, const float* gamma, const float* beta,
                               float* y) {
  detail::for_each_index(n * c * hw, [=] HUSH_HD(std::int64_t k) {
    const auto ch = (k / hw) % c;
    y[k] = (x[k] - mean[ch]) / sqrtf(var[ch] + eps) * gamma[ch] + beta[ch];
  });
}
inline void batch_norm_backward(thrust, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x,
                                const float* dy, const float* mean, const float* var, float eps, const float* gamma,
                                float* dx, float* dgamma, float* dbeta, bool batch_statistics) {
  detail::for_each_index(c, [=] HUSH_HD(std::int64_t ch) {
    const double rstd = 1.0 / sqrt(double(var[ch]) + eps), m = double(n * hw);
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
        const double g = batch_statistics ? dy[k] - sum_dy / m - xhat * sum_dy_xhat / m : double(dy[k]);
        dx[k] = static_cast<float>(g * gamma[ch] * rstd);
      }
    dgamma[ch] += static_cast<float>(sum_dy_xhat);
    dbeta[ch] += static_cast<float>(sum_dy);
  });
}
inline void batch_norm_update_running(thrust, std::int64_t c, std::int64_t count, float momentum, const float* mean,
                                      const float* var, float* running_mean, float* running_var) {
  const double unbias = count > 1 ? double(count) / double(count - 1) : 1.0;
  detail::for_each_index(c, [=] HUSH_HD(std::int64_t ch) {
    running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + double(momentum) * mean[ch]);
    running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + double(momentum) * var[ch] * unbias);
  });
}

inline void layer_norm_forward(thrust, std::int64_t rows, std::int64_t d, const float* x, const float* gamma,
                               const float* beta, float eps, float* y, float* mean, float* rstd) {
  detail::for_each_index(rows, [=] HUSH_HD(std::int64_t r) {
    const float* xr = x + r * d;
    double s = 0, s2 = 0;
    for (std::int64_t j = 0; j < d; ++j) s += xr[j];
    const double m = s / double(d);
    for (std::int64_t j = 0; j < d; ++j) s2 += (xr[j] - m) * (xr[j] - m);
    const double rs = 1.0 / sqrt(s2 / double(d) + eps);
    for (std::int64_t j = 0; j < d; ++j) y[r * d + j] = static_cast<float>((xr[j] - m) * rs * gamma[j] + beta[j]);
    mean[r] = static_cast<float>(m);
    rstd[r] = static_cast<float>(rs);
  });
}
inline void layer_norm_backward(thrust, std::int64_t rows, std::int64_t d, const float* x, const float* dy,
                                const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                                float* dbeta) {
  detail::for_each_index(rows, [=] HUSH_HD(std::int64_t r) {
    double a = 0, b = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double g = double(dy[r * d + j]) * gamma[j], xhat = (x[r * d + j] - mean[r]) * double(rstd[r]);
      a += g, b += g * xhat;
    }
    for (std::int64_t j = 0; j < d; ++j) {
      const double g = double(dy[r * d + j]) * gamma[j], xhat = (x[r * d + j] - mean[r]) * double(rstd[r]);
      dx[r * d + j] = static_cast<float>(rstd[r] * (g - a / double(d) - xhat * b / double(d)));
    }
  });
  detail::for_each_index(d, [=] HUSH_HD(std::int64_t j) {
    double sg = 0, sb = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      sg += double(dy[r * d + j]) * (x[r * d + j] - mean[r]) * rstd[r];
      sb += dy[r * d + j];
    }
    dgamma[j] += static_cast<float>(sg);
    dbeta[j] += static_cast<float>(sb);
  });
}

inline void softmax_forward(thrust, std::int64_t rows, std::int64_t k, const float* x, float* y) {
  detail::for_each_index(rows, [=] HUSH_HD(std::int64_t r) {
    const float* z = x + r * k;
    float m = z[0];
    for (std::int64_t j = 1; j < k; ++j) m = z[j] > m ? z[j] : m;
    double s = 0;
    for (std::int64_t j = 0; j < k; ++j) s += exp(double(z[j]) - m);
    for (std::int64_t j = 0; j < k; ++j) y[r * k + j] = static_cast<float>(exp(double(z[j]) - m) / s);
  });
}
inline void softmax_backward(thrust, std::int64_t rows, std::int64_t k, const float* y, const float* dy, float* dx) {
  detail::for_each_index(rows, [=] HUSH_HD(std::int64_t r) {
    double dot = 0;
    for (std::int64_t j = 0; j < k; ++j) dot += double(dy[r * k + j]) * y[r * k + j];
    for (std::int64_t j = 0; j < k; ++j) dx[r * k + j] = static_cast<float>(y[r * k + j] * (dy[r * k + j] - dot));
  });
}

/// The batch norm after a convolution folded into its weights (backend/norm_fold.hpp).
inline void batch_norm_fold(thrust, const fold_operands& f) {
  detail::for_each_index(f.channels * f.per_channel, [=] HUSH_HD(std::int64_t i) { fold_weight(f, i); });
  detail::for_each_index(f.channels, [=] HUSH_HD(std::int64_t o) { fold_bias(f, o); });
}

}  // namespace hush::backend
