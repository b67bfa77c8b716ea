#pragma once
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/reference/metrics.hpp"

namespace hush::backend {

/// A batch of logits: the reference's loop serves.
inline std::int64_t count_correct(cpu, std::int64_t n, std::int64_t k, const float* logits,
                                  const std::int32_t* labels) {
  return count_correct(reference{}, n, k, logits, labels);
}

}  // namespace hush::backend
