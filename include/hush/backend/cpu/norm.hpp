#pragma once
// Normalisation and softmax on the cpu backend: the reference loops, one channel or row per
// OpenMP iteration (each owns its outputs, so no two threads write the same value).
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/norm.hpp"
#include "hush/backend/reference/softmax.hpp"

namespace hush::backend {

inline void batch_norm_statistics(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, float* mean,
                                  float* var) {
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch) detail::bn_channel_statistics(n, c, hw, ch, x, mean, var);
}
inline void batch_norm_forward(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, const float* mean,
                               const float* var, float eps, const float* gamma, const float* beta, float* y) {
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch) detail::bn_channel_forward(n, c, hw, ch, x, mean, var, eps, gamma, beta, y);
}
inline void batch_norm_backward(cpu, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, const float* dy,
                                const float* mean, const float* var, float eps, const float* gamma, float* dx,
                                float* dgamma, float* dbeta, bool batch_statistics) {
#pragma omp parallel for
  for (std::int64_t ch = 0; ch < c; ++ch)
    detail::bn_channel_backward(n, c, hw, ch, x, dy, mean, var, eps, gamma, dx, dgamma, dbeta, batch_statistics);
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
