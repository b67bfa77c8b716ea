#pragma once
// Top-1 accuracy: how many rows of logits (N, K) have their arg-max at the label.
#include <cstdint>
#include <string>

#include "hush/backend/reference/metrics.hpp"
#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/memory.hpp"
#include "hush/core/tensor.hpp"

namespace hush::metrics {

/// On `backend`, where the logits and labels live (a kernel: they may be on the device).
template <class Backend>
std::int64_t correct(Backend backend, const basic_tensor<memory_of<Backend>>& logits,
                     const basic_index_tensor<memory_of<Backend>>& labels) {
  const auto n = logits.shape()[0], k = logits.shape()[1];
  if (logits.shape().rank != 2 || labels.numel() != n)
    throw shape_error("accuracy: expected logits (N, K) and N labels, got logits " + logits.shape().str() +
                      " and labels " + labels.shape().str());
  return count_correct(backend, n, k, logits.data(), labels.data());
}
/// Host tensors.
inline std::int64_t correct(const tensor& logits, const index_tensor& labels) {
  return correct(backend::reference{}, logits, labels);
}

}  // namespace hush::metrics
