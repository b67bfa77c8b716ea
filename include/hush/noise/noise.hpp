#pragma once
// What every noise model shares. A noise model corrupts one image (C, H, W) at a time:
//
//   template <class B> void apply(B backend, const counter_rng& rng, std::uint64_t stream,
//                                 const shape& image, const float* x, float* y) const;
//
// `stream` identifies (image, position in a composition); every random number the model draws is
// a pure function of (seed, stream, element), so one seed gives the same noisy image on any
// thread count and on every backend. Values stay in [0, 1] unless a model's clip is off (pixel.hpp).
// x and y may be the same buffer.
// Intensities are `range`s: a fixed value, or a uniform draw per image (seed 001's ranges).
//
// Every model is backend kernels (random_map, for_each_index), but one whose pixels only host
// code can compute (OpenCV's text rendering) says `static constexpr bool host_only = true`, and
// apply_to_batch moves a device batch to the host and back around it (noise/compose.hpp).
#include <cstdint>
#include <string>

#include "hush/core/random.hpp"
#include "hush/core/shape.hpp"

namespace hush::noise {

/// A parameter fixed (lo == hi) or drawn uniformly from [lo, hi] once per image.
struct range {
  float lo = 0.0f, hi = 0.0f;
  constexpr range() = default;
  constexpr range(float v) : lo(v), hi(v) {}  // NOLINT(google-explicit-constructor): gaussian{.sigma = 0.1f}
  constexpr range(float a, float b) : lo(a), hi(b) {}
  /// The value for one image: draw 0 of the image's stream.
  float draw(const counter_rng& rng, std::uint64_t stream) const {
    return lo == hi ? lo : lo + (hi - lo) * rng.uniform(stream, 0);
  }
  std::string str() const {
    auto f = [](float v) {
      auto s = std::to_string(v);
      while (s.size() > 1 && s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
      return s;
    };
    return lo == hi ? f(lo) : f(lo) + ".." + f(hi);
  }
};

/// The stream of child `position` of a composition on `stream`.
constexpr std::uint64_t child_stream(std::uint64_t stream, std::uint64_t position) {
  return counter_rng::mix(stream ^ (0x9e3779b97f4a7c15ULL * (position + 1)));
}
/// The stream of image `index` of a data set, for a noise drawn with `salt` (0 for the first
/// draw; Noise2Noise's second independent draw uses another salt).
constexpr std::uint64_t image_stream(std::uint64_t index, std::uint64_t salt = 0) {
  return counter_rng::mix(index * 0x2545F4914F6CDD1DULL + salt + 0x4e4f495345ULL);
}
/// The key of a model's per-element draws, distinct from its per-image draws.
constexpr std::uint64_t pixel_key(std::uint64_t stream) { return counter_rng::mix(stream + 0x5049584cULL); }

/// Whether `noise` must run on the host: it, or any model it composes, is host_only.
template <class Noise>
constexpr bool runs_on_host(const Noise& noise) {
  if constexpr (requires { noise.runs_on_host(); }) return noise.runs_on_host();
  else if constexpr (requires { Noise::host_only; }) return Noise::host_only;
  else return false;
}

/// `v` clamped to [0, 1], the range of the images noise models apply to.
HUSH_HD inline float clip01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

}  // namespace hush::noise
