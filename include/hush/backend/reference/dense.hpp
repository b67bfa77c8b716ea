#pragma once
// Matrix products and the bias sums around them. Row-major throughout.
#include <cstdint>

#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

/// C (M×N) = alpha · op(A) · op(B) + beta · C, with op(A) M×K and op(B) K×N.
inline void gemm(reference, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                 float alpha, const float* a, const float* b, float beta, float* c) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t l = 0; l < k; ++l)
        s += double(trans_a ? a[l * m + i] : a[i * k + l]) * double(trans_b ? b[j * k + l] : b[l * n + j]);
      c[i * n + j] = static_cast<float>(alpha * s + (beta == 0.0f ? 0.0 : double(beta) * c[i * n + j]));
    }
}

/// y[i, j] += bias[j] for a rows×cols matrix, each row then each `inner` block: the layout of
/// linear (inner = 1) and of NCHW convolutions (rows = N, cols = C, inner = H·W).
inline void add_bias(reference, std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* bias,
                     float* y) {
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      for (std::int64_t t = 0; t < inner; ++t) y[(i * cols + j) * inner + t] += bias[j];
}

/// db[j] += Σ_i Σ_t dy[i, j, t]: the gradient of add_bias.
inline void sum_into_bias(reference, std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* dy,
                          float* db) {
  for (std::int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t t = 0; t < inner; ++t) s += dy[(i * cols + j) * inner + t];
    db[j] += static_cast<float>(s);
  }
}

}  // namespace hush::backend
