#pragma once
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/loss.hpp"

namespace hush::backend {

inline double softmax_cross_entropy(cpu, std::int64_t n, std::int64_t k, const float* logits,
                                    const std::int32_t* labels, float smoothing, float grad_scale, float* dlogits) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) if (n * k > 16384)
  for (std::int64_t i = 0; i < n; ++i)
    total +=
        softmax_cross_entropy(reference{}, 1, k, logits + i * k, labels + i, smoothing, grad_scale, dlogits + i * k);
  return total;
}

}  // namespace hush::backend

namespace hush::backend {

template <class Op>
double pointwise_loss(cpu, Op op, std::int64_t n, const float* pred, const float* target, float grad_scale,
                      float* grad) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    total += op.value(pred[i], target[i]);
    grad[i] = grad_scale * op.grad(pred[i], target[i]);
  }
  return total;
}

/// A handful of values per pair of rows: the reference's loop serves.
inline double squared_distance(cpu, std::int64_t n, const float* a, const float* b, float grad_scale, float* da) {
  return squared_distance(reference{}, n, a, b, grad_scale, da);
}

}  // namespace hush::backend
