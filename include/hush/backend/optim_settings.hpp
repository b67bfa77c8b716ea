#pragma once
// The per-element update rules of the optimizers, shared by every backend's kernel (they are the
// definition, not an implementation detail: torch.optim.SGD, Adam and AdamW, v1.13).
#include <cmath>
#include <cstdint>

#include "hush/core/random.hpp"  // HUSH_HD

namespace hush::backend {

/// The hyperparameters of one SGD step, as torch.optim.SGD's, for velocity_update: optim/sgd.hpp
/// fills it each step. first_step makes the momentum buffer start as the gradient itself.
struct sgd_settings {
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // the momentum buffer starts as the first gradient
};

/// One SGD element: d = g + wd·w; b = μ·b + (1-τ)·d (b = d at the first step);
/// w -= lr · (nesterov ? d + μ·b : b). `buf` is unused when μ = 0.
HUSH_HD inline void velocity_update(const sgd_settings& s, float& w, float g, float& buf) {
  float d = g + s.weight_decay * w;
  if (s.momentum != 0.0f) {
    buf = s.first_step ? d : s.momentum * buf + (1.0f - s.dampening) * d;
    d = s.nesterov ? d + s.momentum * buf : buf;
  }
  w -= s.lr * d;
}

/// What one Adam or AdamW step needs per element (adam_update): optim/adam.hpp fills it each step,
/// with the bias corrections 1 - β1^t and 1 - β2^t worked out once on the host. decoupled selects
/// AdamW's weight decay over Adam's L2 term.
struct adam_settings {
  float lr, beta1, beta2, eps, weight_decay;
  float bias_correction1, bias_correction2;  // 1 - β1^t and 1 - β2^t for step t
  bool decoupled = false;                    // AdamW's weight decay
};

/// One Adam element: L2 weight decay added to the gradient, as torch.optim.Adam does, or
/// decoupled from it, w ← w·(1 - lr·wd) before the update, as torch.optim.AdamW does.
HUSH_HD inline void adam_update(const adam_settings& s, float& w, float g, float& m, float& v) {
  if (s.decoupled) w *= 1.0f - s.lr * s.weight_decay;
  else g += s.weight_decay * w;
  m = s.beta1 * m + (1.0f - s.beta1) * g;
  v = s.beta2 * v + (1.0f - s.beta2) * g * g;
  const float denom = std::sqrt(v / s.bias_correction2) + s.eps;
  w -= s.lr / s.bias_correction1 * m / denom;
}

}  // namespace hush::backend
