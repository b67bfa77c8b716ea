#pragma once
#include <cstdint>

#include "hush/backend/optim_settings.hpp"
#include "hush/backend/thrust/launch.hpp"

namespace hush::backend {

inline void sgd_step(thrust, const sgd_settings& s, std::int64_t n, float* w, const float* g, float* velocity) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { velocity_update(s, w[i], g[i], velocity[i]); });
}
inline void adam_step(thrust, const adam_settings& s, std::int64_t n, float* w, const float* g, float* m, float* v) {
  detail::for_each_index(n, [=] HUSH_HD(std::int64_t i) { adam_update(s, w[i], g[i], m[i], v[i]); });
}

}  // namespace hush::backend
