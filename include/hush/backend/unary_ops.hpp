#pragma once
// Element-wise functions as small functors, usable on host and device. Each gives the value and
// the derivative; the derivative may use the input x or the output y, whichever is cheaper.
// Piecewise ones also give backward(x, dy) as a select: `dy * (x > 0 ? 1 : 0)` is a branch that
// GCC will not vectorise (the multiply might trap), `x > 0 ? dy : 0` is a vector blend.
#include <cmath>

#include "hush/core/random.hpp"  // HUSH_HD

namespace hush::ops {

/// A ReLU (slope 0) or leaky ReLU applied by the kernel that writes y, instead of a pass of its own.
struct fused_relu {
  float slope = 0.0f;
};

/// ReLU, y = max(x, 0): the functor behind the relu layer (layers/activation.hpp). The gradient is
/// 1 where x > 0, else 0.
struct relu {
  HUSH_HD float operator()(float x) const { return x > 0.0f ? x : 0.0f; }
  HUSH_HD float grad(float x, float) const { return x > 0.0f ? 1.0f : 0.0f; }
  HUSH_HD float backward(float x, float dy) const { return x > 0.0f ? dy : 0.0f; }
};
/// Leaky ReLU, y = x where x > 0, else slope·x (slope 0.01 by default, PyTorch's negative_slope):
/// the functor behind the leaky_relu layer, and what kernels apply for a fused_relu.
struct leaky_relu {
  float slope = 0.01f;
  HUSH_HD float operator()(float x) const { return x > 0.0f ? x : slope * x; }
  HUSH_HD float grad(float x, float) const { return x > 0.0f ? 1.0f : slope; }
  HUSH_HD float backward(float x, float dy) const { return x > 0.0f ? dy : slope * dy; }
};
/// tanh(x): the functor behind the tanh layer. Its gradient, 1 - y², is taken from the output.
struct tanh {
  HUSH_HD float operator()(float x) const { return std::tanh(x); }
  HUSH_HD float grad(float, float y) const { return 1.0f - y * y; }
};
/// The logistic sigmoid, y = 1 / (1 + exp(-x)): the functor behind the sigmoid layer. Its gradient,
/// y·(1 - y), is taken from the output.
struct sigmoid {
  HUSH_HD float operator()(float x) const { return 1.0f / (1.0f + std::exp(-x)); }
  HUSH_HD float grad(float, float y) const { return y * (1.0f - y); }
};
/// y = factor·x: a constant gain (DnCNN's "input minus the predicted noise" is x + scale(-1)(f(x))).
struct scale {
  float factor = 1.0f;
  HUSH_HD float operator()(float x) const { return factor * x; }
  HUSH_HD float grad(float, float) const { return factor; }
};
/// min(max(x, lo), hi): the WGAN critic's weight clipping (Arjovsky et al. 2017), applied to
/// parameters in place after each critic step.
struct clamp {
  float lo = -1.0f, hi = 1.0f;
  HUSH_HD float operator()(float x) const { return x < lo ? lo : (x > hi ? hi : x); }
  HUSH_HD float grad(float x, float) const { return x < lo || x > hi ? 0.0f : 1.0f; }
};
/// GELU with the exact erf form, as torch.nn.GELU() (approximate='none').
struct gelu {
  HUSH_HD float operator()(float x) const { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
  HUSH_HD float grad(float x, float) const {
    const float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * std::exp(-0.5f * x * x);
    return cdf + x * pdf;
  }
};

}  // namespace hush::ops
