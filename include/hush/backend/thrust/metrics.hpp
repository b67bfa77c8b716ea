#pragma once
#include <cstdint>

#include <thrust/execution_policy.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform_reduce.h>

#include "hush/backend/metric_ops.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

/// Rows of logits (n × k) whose arg-max is their label: one row per index, a Thrust reduction.
inline std::int64_t count_correct(thrust, std::int64_t n, std::int64_t k, const float* logits,
                                  const std::int32_t* labels) {
  auto hit = [=] HUSH_HD(std::int64_t i) -> std::int64_t {
    return ops::arg_max_is(logits + i * k, k, std::int64_t{labels[i]});
  };
  return ::thrust::transform_reduce(::thrust::device, ::thrust::counting_iterator<std::int64_t>(0),
                                    ::thrust::counting_iterator<std::int64_t>(n), hit, std::int64_t(0),
                                    ::thrust::plus<std::int64_t>());
}

}  // namespace hush::backend
