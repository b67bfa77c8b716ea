#pragma once
// The pixel-wise noise models. Each applies an element-wise functor through the backend's
// random_map kernel; the functors are the definitions (usable on host and device):
//   gaussian      y = x + σ·z                         (skimage random_noise 'gaussian', var = σ²)
//   speckle       y = x + x·σ·z                       ('speckle', var = σ²)
//   salt_pepper   a fraction `amount` of values replaced by 1 (salt, share salt_ratio) or 0 ('s&p')
//   poisson       y = Poisson(x·peak)/peak            (shot noise; peak = photons at full scale)
//   bernoulli     pixels (all channels) dropped to 0 with probability p (Noise2Noise)
//   impulse       values replaced by U(0,1) with probability `amount` (random-valued impulse)
// z ~ N(0, 1); every result is clipped to [0, 1], but gaussian, speckle and poisson can leave it
// unclipped (`clip = false`, `clip=off` in a spec): a Noise2Noise target must have the clean value
// as its mean, and clipping pulls the means of dark and bright pixels inward (unclipped()).
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/noise/noise.hpp"

namespace hush::noise {

namespace ops {
/// y = x + sigma·z, z ~ N(0, 1), clipped to [0, 1] if `clip`: gaussian's rule for one value.
struct add_gaussian {
  float sigma;
  bool clip = true;
  HUSH_HD float operator()(float x, counter_rng rng, std::uint64_t key, std::uint64_t i) const {
    const float y = x + sigma * rng.normal(key, i);
    return clip ? clip01(y) : y;
  }
};
/// y = x + x·sigma·z, z ~ N(0, 1), clipped to [0, 1] if `clip`: speckle's rule for one value.
struct multiply_gaussian {
  float sigma;
  bool clip = true;
  HUSH_HD float operator()(float x, counter_rng rng, std::uint64_t key, std::uint64_t i) const {
    const float y = x + x * sigma * rng.normal(key, i);
    return clip ? clip01(y) : y;
  }
};
/// With probability `amount`, x replaced by 1 (with probability salt_ratio) or 0: salt_pepper's
/// rule for one value.
struct replace_salt_pepper {
  float amount, salt_ratio;
  HUSH_HD float operator()(float x, counter_rng rng, std::uint64_t key, std::uint64_t i) const {
    if (rng.uniform(key, 2 * i) >= amount) return x;
    return rng.uniform(key, 2 * i + 1) < salt_ratio ? 1.0f : 0.0f;
  }
};
/// A Poisson draw of mean `lambda`: Knuth's product of uniforms below 32 (exact), the normal
/// approximation with continuity correction above (where its error is below 1% in the tails).
HUSH_HD inline float poisson_sample(float lambda, counter_rng rng, std::uint64_t key, std::uint64_t i) {
  if (!(lambda > 0.0f)) return 0.0f;
  if (lambda < 32.0f) {
    const float limit = std::exp(-lambda);
    float p = 1.0f;
    int k = 0;
    do {
      ++k;
      p *= rng.uniform(key, i * 256 + static_cast<std::uint64_t>(k));
    } while (p > limit && k < 255);
    return static_cast<float>(k - 1);
  }
  const float v = std::floor(lambda + std::sqrt(lambda) * rng.normal(key, i * 256) + 0.5f);
  return v < 0.0f ? 0.0f : v;
}
/// y = Poisson(x·peak)/peak, clipped to [0, 1] if `clip`: poisson's rule for one value.
struct shot {
  float peak;
  bool clip = true;
  HUSH_HD float operator()(float x, counter_rng rng, std::uint64_t key, std::uint64_t i) const {
    const float y = poisson_sample(x * peak, rng, key, i) / peak;
    return clip ? clip01(y) : y;
  }
};
/// y = 0 with probability p, else x, drawn once per pixel (index modulo `plane`) so that its
/// channels drop together: bernoulli's rule for one value.
struct drop_pixels {
  float p;
  std::uint64_t plane;  // H·W: the draw is per pixel, shared by its channels
  HUSH_HD float operator()(float x, counter_rng rng, std::uint64_t key, std::uint64_t i) const {
    return rng.uniform(key, i % plane) < p ? 0.0f : x;
  }
};
/// With probability `amount`, x replaced by a U(0, 1) draw: impulse's rule for one value.
struct random_impulse {
  float amount;
  HUSH_HD float operator()(float x, counter_rng rng, std::uint64_t key, std::uint64_t i) const {
    return rng.uniform(key, 2 * i) < amount ? rng.uniform(key, 2 * i + 1) : x;
  }
};
}  // namespace ops

/// Additive Gaussian noise, y = x + sigma·z with z ~ N(0, 1), clipped to [0, 1] (skimage's
/// 'gaussian'). sigma (default 0.1) is fixed or drawn per image; with `variance` it is a variance.
struct gaussian {
  static constexpr const char* kind = "gaussian";
  range sigma{0.1f};
  /// When set, `sigma` holds a range of variances, drawn uniformly and square-rooted per image:
  /// seed 001 states its ranges as variances (skimage's var).
  bool variance = false;
  bool clip = true;  // off for a Noise2Noise target (unclipped())
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const float v = sigma.draw(rng, stream);
    random_map(b, ops::add_gaussian{variance ? std::sqrt(v) : v, clip}, img.numel(), rng, pixel_key(stream), x, y);
  }
  std::string describe() const {
    return std::string("gaussian(") + (variance ? "var=" : "sigma=") + sigma.str() + (clip ? ")" : ", clip=off)");
  }
  static gaussian from_variance(range var) { return {var, true}; }
};

/// Multiplicative (speckle) noise, y = x + x·sigma·z with z ~ N(0, 1), clipped to [0, 1]
/// (skimage's 'speckle'). sigma (default 0.1) is fixed or drawn per image; with `variance` it is a variance.
struct speckle {
  static constexpr const char* kind = "speckle";
  range sigma{0.1f};
  /// When set, `sigma` holds a range of variances, drawn uniformly and square-rooted per image:
  /// seed 001 states its ranges as variances (skimage's var).
  bool variance = false;
  bool clip = true;  // off for a Noise2Noise target (unclipped())
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const float v = sigma.draw(rng, stream);
    random_map(b, ops::multiply_gaussian{variance ? std::sqrt(v) : v, clip}, img.numel(), rng, pixel_key(stream), x, y);
  }
  std::string describe() const {
    return std::string("speckle(") + (variance ? "var=" : "sigma=") + sigma.str() + (clip ? ")" : ", clip=off)");
  }
  static speckle from_variance(range var) { return {var, true}; }
};

/// Salt-and-pepper noise (skimage's 's&p'): each value replaced with probability `amount` (default
/// 0.05, fixed or drawn per image), by 1 with probability salt_ratio (default 0.5), else by 0.
struct salt_pepper {
  static constexpr const char* kind = "salt_pepper";
  range amount{0.05f};
  float salt_ratio = 0.5f;
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    random_map(b, ops::replace_salt_pepper{amount.draw(rng, stream), salt_ratio}, img.numel(), rng, pixel_key(stream),
               x, y);
  }
  /// The salt share only when it is not the default, so a default model's text stays as it was.
  std::string describe() const {
    return "salt_pepper(amount=" + amount.str() + (salt_ratio != 0.5f ? ", salt=" + range(salt_ratio).str() : "") + ")";
  }
};

/// Poisson shot noise, y = Poisson(x·peak)/peak clipped to [0, 1]: `peak` (default 30, fixed or
/// drawn per image) is the photon count at full scale, so a lower peak is noisier.
struct poisson {
  static constexpr const char* kind = "poisson";
  range peak{30.0f};
  bool clip = true;  // off for a Noise2Noise target (unclipped())
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    random_map(b, ops::shot{peak.draw(rng, stream), clip}, img.numel(), rng, pixel_key(stream), x, y);
  }
  std::string describe() const { return "poisson(peak=" + peak.str() + (clip ? ")" : ", clip=off)"); }
};

/// Multiplicative Bernoulli noise (Noise2Noise): each pixel dropped to 0 in all its channels with
/// probability p (default 0.5, fixed or drawn per image).
struct bernoulli {
  static constexpr const char* kind = "bernoulli";
  range p{0.5f};
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const auto plane = static_cast<std::uint64_t>(img.rank >= 2 ? img[img.rank - 1] * img[img.rank - 2] : img.numel());
    random_map(b, ops::drop_pixels{p.draw(rng, stream), plane}, img.numel(), rng, pixel_key(stream), x, y);
  }
  std::string describe() const { return "bernoulli(p=" + p.str() + ")"; }
};

/// Random-valued impulse noise: each value replaced by a U(0, 1) draw with probability `amount`
/// (default 0.1, fixed or drawn per image).
struct impulse {
  static constexpr const char* kind = "impulse";
  range amount{0.1f};
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    random_map(b, ops::random_impulse{amount.draw(rng, stream)}, img.numel(), rng, pixel_key(stream), x, y);
  }
  std::string describe() const { return "impulse(amount=" + amount.str() + ")"; }
};

}  // namespace hush::noise
