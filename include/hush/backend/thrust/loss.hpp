#pragma once
#include <cmath>
#include <cstdint>

#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform_reduce.h>

#include "hush/backend/loss_ops.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

/// One row per index: log-sum-exp, loss and gradient; the batch loss is a Thrust reduction.
inline double softmax_cross_entropy(thrust, std::int64_t n, std::int64_t k, const float* logits,
                                    const std::int32_t* labels, float smoothing, float grad_scale, float* dlogits) {
  auto row_loss = [=] HUSH_HD(std::int64_t i) -> double {
    const float* z = logits + i * k;
    float m = z[0];
    for (std::int64_t j = 1; j < k; ++j) m = z[j] > m ? z[j] : m;
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) sum += exp(double(z[j]) - m);
    const double log_sum = m + log(sum);
    const auto label = std::int64_t{labels[i]};
    double loss = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      const double target = (j == label ? 1.0 - smoothing : 0.0) + smoothing / double(k);
      loss -= target * (z[j] - log_sum);
      dlogits[i * k + j] = static_cast<float>((exp(z[j] - log_sum) - target) * grad_scale);
    }
    return loss;
  };
  return ::thrust::transform_reduce(::thrust::device, ::thrust::counting_iterator<std::int64_t>(0),
                                    ::thrust::counting_iterator<std::int64_t>(n), row_loss, 0.0,
                                    ::thrust::plus<double>());
}

}  // namespace hush::backend

namespace hush::backend {

template <class Op>
double pointwise_loss(thrust, Op op, std::int64_t n, const float* pred, const float* target, float grad_scale,
                      float* grad) {
  auto element = [=] HUSH_HD(std::int64_t i) -> double {
    grad[i] = grad_scale * op.grad(pred[i], target[i]);
    return op.value(pred[i], target[i]);
  };
  return ::thrust::transform_reduce(::thrust::device, ::thrust::counting_iterator<std::int64_t>(0),
                                    ::thrust::counting_iterator<std::int64_t>(n), element, 0.0,
                                    ::thrust::plus<double>());
}

/// Σ (a_i − b_i)² over n values, adding grad_scale·(a_i − b_i) into da_i (pivot loss's distance).
inline double squared_distance(thrust, std::int64_t n, const float* a, const float* b, float grad_scale, float* da) {
  auto element = [=] HUSH_HD(std::int64_t i) -> double {
    const double d = double(a[i]) - double(b[i]);
    da[i] += static_cast<float>(grad_scale * d);
    return d * d;
  };
  return ::thrust::transform_reduce(::thrust::device, ::thrust::counting_iterator<std::int64_t>(0),
                                    ::thrust::counting_iterator<std::int64_t>(n), element, 0.0,
                                    ::thrust::plus<double>());
}

}  // namespace hush::backend
