#pragma once
#include <cmath>
#include <cstdint>

#include "hush/backend/loss_ops.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

/// Softmax cross-entropy over rows of `logits` (N×K) against class indices `labels` (int32, or
/// float: exact below 2^24), with label smoothing ε: target = (1-ε)·onehot + ε/K.
/// Writes d(loss)/d(logits) · grad_scale into dlogits and returns the summed loss.
inline double softmax_cross_entropy(reference, std::int64_t n, std::int64_t k, const float* logits,
                                    const std::int32_t* labels, float smoothing, float grad_scale, float* dlogits) {
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* z = logits + i * k;
    double m = z[0];
    for (std::int64_t j = 1; j < k; ++j) m = z[j] > m ? z[j] : m;
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) sum += std::exp(z[j] - m);
    const double log_sum = m + std::log(sum);
    const auto label = std::int64_t{labels[i]};
    for (std::int64_t j = 0; j < k; ++j) {
      const double target = (j == label ? 1.0 - smoothing : 0.0) + smoothing / double(k);
      total -= target * (z[j] - log_sum);
      dlogits[i * k + j] = static_cast<float>((std::exp(z[j] - log_sum) - target) * grad_scale);
    }
  }
  return total;
}

}  // namespace hush::backend

namespace hush::backend {

/// Σ op.value(pred, target), and grad = grad_scale · op.grad(pred, target), element by element.
template <class Op>
double pointwise_loss(reference, Op op, std::int64_t n, const float* pred, const float* target, float grad_scale,
                      float* grad) {
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    total += op.value(pred[i], target[i]);
    grad[i] = grad_scale * op.grad(pred[i], target[i]);
  }
  return total;
}

/// Σ (a_i − b_i)² over n values, adding grad_scale·(a_i − b_i) into da_i (pivot loss's distance).
inline double squared_distance(reference, std::int64_t n, const float* a, const float* b, float grad_scale, float* da) {
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = double(a[i]) - double(b[i]);
    total += d * d;
    da[i] += static_cast<float>(grad_scale * d);
  }
  return total;
}

}  // namespace hush::backend
