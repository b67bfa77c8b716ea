#pragma once
#include <cstdint>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/optim_settings.hpp"

namespace hush::backend {

inline void sgd_step(cpu, const sgd_settings& s, std::int64_t n, float* w, const float* g, float* velocity) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) velocity_update(s, w[i], g[i], velocity[i]);
}
inline void adam_step(cpu, const adam_settings& s, std::int64_t n, float* w, const float* g, float* m, float* v) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) adam_update(s, w[i], g[i], m[i], v[i]);
}

}  // namespace hush::backend
