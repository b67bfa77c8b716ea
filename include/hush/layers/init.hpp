#pragma once
// Parameter initialisation from the counter-based generator (host memory).
#include <cstdint>

#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// U(-bound, bound), element i drawn from (seed, stream, i).
inline void init_uniform(tensor& t, const counter_rng& rng, std::uint64_t stream, float bound) {
  for (std::int64_t i = 0; i < t.numel(); ++i)
    t[i] = bound * (2.0f * rng.uniform(stream, static_cast<std::uint64_t>(i)) - 1.0f);
}

}  // namespace hush
