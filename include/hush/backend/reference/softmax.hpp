#pragma once
// Softmax over the last k values of each row.
#include <cmath>
#include <cstdint>

#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

inline void softmax_forward(reference, std::int64_t rows, std::int64_t k, const float* x, float* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* z = x + r * k;
    double m = z[0], s = 0;
    for (std::int64_t j = 1; j < k; ++j) m = z[j] > m ? z[j] : m;
    for (std::int64_t j = 0; j < k; ++j) s += std::exp(z[j] - m);
    for (std::int64_t j = 0; j < k; ++j) y[r * k + j] = static_cast<float>(std::exp(z[j] - m) / s);
  }
}
/// dx = y ⊙ (dy - Σ dy·y), per row.
inline void softmax_backward(reference, std::int64_t rows, std::int64_t k, const float* y, const float* dy, float* dx) {
  for (std::int64_t r = 0; r < rows; ++r) {
    double dot = 0;
    for (std::int64_t j = 0; j < k; ++j) dot += double(dy[r * k + j]) * y[r * k + j];
    for (std::int64_t j = 0; j < k; ++j) dx[r * k + j] = static_cast<float>(y[r * k + j] * (dy[r * k + j] - dot));
  }
}

}  // namespace hush::backend
