#pragma once
#include <cstdint>

#include "hush/backend/metric_ops.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

/// Rows of logits (n × k) whose arg-max is their label (labels: class indices as floats).
inline std::int64_t count_correct(reference, std::int64_t n, std::int64_t k, const float* logits,
                                  const std::int32_t* labels) {
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < n; ++i) hits += ops::arg_max_is(logits + i * k, k, std::int64_t{labels[i]});
  return hits;
}

}  // namespace hush::backend
