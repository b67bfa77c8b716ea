#pragma once
// Optimizer updates, following torch.optim's definitions exactly.
#include <cmath>
#include <cstdint>

#include "hush/backend/optim_settings.hpp"
#include "hush/backend/reference/tag.hpp"

namespace hush::backend {

inline void sgd_step(reference, const sgd_settings& s, std::int64_t n, float* w, const float* g, float* velocity) {
  for (std::int64_t i = 0; i < n; ++i) velocity_update(s, w[i], g[i], velocity[i]);
}

inline void adam_step(reference, const adam_settings& s, std::int64_t n, float* w, const float* g, float* m,
                      float* v) {
  for (std::int64_t i = 0; i < n; ++i) adam_update(s, w[i], g[i], m[i], v[i]);
}

}  // namespace hush::backend
