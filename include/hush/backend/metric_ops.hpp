#pragma once
// Per-row metrics shared by every backend's kernels.
#include <cstdint>

#include "hush/core/random.hpp"  // HUSH_HD

namespace hush::ops {

/// Whether row z (k logits) has its arg-max (the first, on ties) at `label`.
HUSH_HD inline bool arg_max_is(const float* z, std::int64_t k, std::int64_t label) {
  std::int64_t best = 0;
  for (std::int64_t j = 1; j < k; ++j) best = z[j] > z[best] ? j : best;
  return best == label;
}

}  // namespace hush::ops
