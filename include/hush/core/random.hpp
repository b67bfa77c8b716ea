#pragma once
// A counter-based generator: every random number is a pure function of (seed, stream, index).
// The same seed therefore gives the same numbers on any thread count, in any order of evaluation,
// and on every backend; and nothing here uses std::*_distribution, whose output differs between
// standard libraries. The mixer is SplitMix64's finaliser (Steele, Lea, Flood 2014), applied to
// a key that folds the three inputs together.
#include <cmath>
#include <cstdint>

#ifndef HUSH_HD
#if defined(__CUDACC__)
#define HUSH_HD __host__ __device__
#else
#define HUSH_HD
#endif
#endif

namespace hush {

/// A counter-based random generator: every number is a pure function of (seed, stream, index),
/// so a seed gives the same numbers on every backend and thread count, in any evaluation order.
struct counter_rng {
  std::uint64_t seed = 0;

  static constexpr HUSH_HD std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// 64 random bits for element `index` of stream `stream`.
  constexpr HUSH_HD std::uint64_t bits(std::uint64_t stream, std::uint64_t index) const {
    return mix(mix(seed ^ mix(stream)) + index);
  }
  /// Uniform in [0, 1), 24 bits of resolution (exact in float).
  constexpr HUSH_HD float uniform(std::uint64_t stream, std::uint64_t index) const {
    return static_cast<float>(bits(stream, index) >> 40) * 0x1.0p-24f;
  }
  /// Standard normal by Box-Muller from two 32-bit halves of one draw.
  HUSH_HD float normal(std::uint64_t stream, std::uint64_t index) const {
    const std::uint64_t b = bits(stream, index);
    const float u1 = (static_cast<float>(b >> 40) + 1.0f) * 0x1.0p-24f;  // (0, 1]: log is finite
    const float u2 = static_cast<float>((b >> 8) & 0xffffffu) * 0x1.0p-24f;
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958647692f * u2);
  }
};

}  // namespace hush
