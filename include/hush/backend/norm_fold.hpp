#pragma once
// Batch norm folded into the convolution before it, one element of the result: shared by every
// backend's batch_norm_fold kernel, so that all fold bit for bit alike.
//   w' = w·γ/√(σ²+ε) per output channel,  b' = β + (b − μ)·γ/√(σ²+ε)   (in double)
#include <cmath>
#include <cstdint>

#include "hush/core/random.hpp"  // HUSH_HD

namespace hush::backend {

/// The operands of a batch_norm_fold kernel: a convolution's weight and (optional) bias, the batch
/// norm's γ, β, running mean and variance and eps, and where the folded weight and bias go. Every
/// backend's kernel calls fold_weight and fold_bias with it, element by element.
struct fold_operands {
  std::int64_t channels, per_channel;  // output channels; weights per output channel
  const float *w, *b;                  // the convolution's weight and bias (b may be null)
  const float *gamma, *beta, *mean, *var;
  float eps;
  float *w_out, *b_out;
};

HUSH_HD inline double fold_scale(const fold_operands& f, std::int64_t o) {
  return double(f.gamma[o]) / std::sqrt(double(f.var[o]) + double(f.eps));
}
/// Element i of the folded weight.
HUSH_HD inline void fold_weight(const fold_operands& f, std::int64_t i) {
  f.w_out[i] = float(double(f.w[i]) * fold_scale(f, i / f.per_channel));
}
/// Output channel o's folded bias.
HUSH_HD inline void fold_bias(const fold_operands& f, std::int64_t o) {
  const double b = f.b ? double(f.b[o]) : 0.0;
  f.b_out[o] = float(double(f.beta[o]) + (b - double(f.mean[o])) * fold_scale(f, o));
}

}  // namespace hush::backend
