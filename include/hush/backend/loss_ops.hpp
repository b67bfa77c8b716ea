#pragma once
// Element-wise losses as functors: value(p, t) and d value / d p. Shared by every backend; the
// definitions follow torch.nn's (reduction 'mean' is applied by the loss layer).
#include <cmath>

#include "hush/core/random.hpp"  // HUSH_HD

namespace hush::ops {

/// (p - t)², torch.nn.MSELoss
struct squared_error {
  HUSH_HD double value(float p, float t) const { return double(p - t) * double(p - t); }
  HUSH_HD float grad(float p, float t) const { return 2.0f * (p - t); }
};
/// |p - t|, torch.nn.L1Loss (gradient 0 at p = t, as PyTorch's sign())
struct absolute_error {
  HUSH_HD double value(float p, float t) const { return std::fabs(double(p) - t); }
  HUSH_HD float grad(float p, float t) const { return p > t ? 1.0f : (p < t ? -1.0f : 0.0f); }
};
/// (|p - t| + eps)^gamma, Noise2Noise's "L0" loss (Lehtinen et al. 2018, §3.3) with gamma
/// annealed from 2 to 0 over training: it approaches the mode of the targets, which is what a
/// denoiser wants from random-valued impulses. Gradient 0 at p = t, as for |p - t|.
struct power_error {
  float gamma = 2.0f, eps = 1e-8f;
  HUSH_HD double value(float p, float t) const { return std::pow(std::fabs(double(p) - t) + eps, double(gamma)); }
  HUSH_HD float grad(float p, float t) const {
    const float d = p - t;
    if (d == 0.0f) return 0.0f;
    const float g = gamma * std::pow(std::fabs(d) + eps, gamma - 1.0f);
    return d > 0.0f ? g : -g;
  }
};
/// Binary cross-entropy from a logit z, torch.nn.BCEWithLogitsLoss:
/// max(z, 0) - z·t + log(1 + e^-|z|), stable for any z.
struct bce_with_logits {
  HUSH_HD double value(float z, float t) const {
    const double zd = z;
    return (zd > 0 ? zd : 0.0) - zd * t + std::log1p(std::exp(-std::fabs(zd)));
  }
  HUSH_HD float grad(float z, float t) const { return 1.0f / (1.0f + std::exp(-z)) - t; }
};
/// Binary cross-entropy from a probability p, torch.nn.BCELoss: logs clamped at -100 as PyTorch
/// does, so p = 0 or 1 gives a finite loss.
struct bce_from_probability {
  HUSH_HD double value(float p, float t) const {
    const double lp = std::fmax(std::log(double(p)), -100.0), l1p = std::fmax(std::log1p(-double(p)), -100.0);
    return -(t * lp + (1.0 - t) * l1p);
  }
  HUSH_HD float grad(float p, float t) const {
    const float eps = 1e-12f;  // PyTorch's BCELoss backward: (p - t) / max((1 - p)·p, eps)
    const float d = (1.0f - p) * p;
    return (p - t) / (d > eps ? d : eps);
  }
};

/// The Wasserstein GAN's critic loss per score (Arjovsky et al. 2017): -p for a real sample
/// (t = 1), +p for a generated one (t = 0), so that the mean over a batch is
/// E[D(fake)] - E[D(real)] for the critic and -E[D(G(x))] for the generator (target 1).
struct wasserstein {
  HUSH_HD double value(float p, float t) const { return (1.0 - 2.0 * t) * p; }
  HUSH_HD float grad(float, float t) const { return 1.0f - 2.0f * t; }
};

}  // namespace hush::ops
