#pragma once
// Parameter initialisation from the counter-based generator, as a backend kernel (the values
// may live on the device): element i is drawn from (seed, stream, i) on every backend alike.
#include <cstdint>

#include "hush/core/kept.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

namespace detail {
struct uniform_draw {
  float bound;
  HUSH_HD float operator()(float, const counter_rng& rng, std::uint64_t stream, std::uint64_t i) const {
    return bound * (2.0f * rng.uniform(stream, i) - 1.0f);
  }
};
struct normal_draw {
  float std;
  HUSH_HD float operator()(float, const counter_rng& rng, std::uint64_t stream, std::uint64_t i) const {
    return std * rng.normal(stream, i);
  }
};
}  // namespace detail

/// N(0, std²) into the parameter tensor `k` (the ViT's tokens and position embeddings).
template <class Ctx>
void init_normal(Ctx& ctx, kept& k, std::uint64_t stream, float std) {
  auto& t = ctx[k];
  random_map(ctx.backend, detail::normal_draw{std}, t.numel(), ctx.rng, stream, t.data(), t.data());
}

/// U(-bound, bound) into the parameter tensor `k`.
template <class Ctx>
void init_uniform(Ctx& ctx, kept& k, std::uint64_t stream, float bound) {
  auto& t = ctx[k];
  random_map(ctx.backend, detail::uniform_draw{bound}, t.numel(), ctx.rng, stream, t.data(), t.data());
}

/// The same draws into a host tensor (test inputs, examples).
inline void init_uniform(tensor& t, const counter_rng& rng, std::uint64_t stream, float bound) {
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = detail::uniform_draw{bound}(0.0f, rng, stream, std::uint64_t(i));
}

}  // namespace hush
