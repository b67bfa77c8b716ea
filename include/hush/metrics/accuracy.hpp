#pragma once
// Top-1 accuracy: how many rows of logits (N, K) have their arg-max at the label.
#include <cstdint>

#include "hush/core/tensor.hpp"

namespace hush::metrics {

inline std::int64_t correct(const tensor& logits, const tensor& labels) {
  const auto n = logits.shape()[0], k = logits.shape()[1];
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* z = logits.data() + i * k;
    std::int64_t best = 0;
    for (std::int64_t j = 1; j < k; ++j) best = z[j] > z[best] ? j : best;
    hits += best == static_cast<std::int64_t>(labels[i]);
  }
  return hits;
}

}  // namespace hush::metrics
