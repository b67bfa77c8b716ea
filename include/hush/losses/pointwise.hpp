#pragma once
// Element-wise losses, averaged over every element (PyTorch's reduction='mean'):
//   mse_loss              (p - t)²                         torch.nn.MSELoss
//   l1_loss               |p - t|                          torch.nn.L1Loss
//   bce_with_logits_loss  BCE from a logit, stable         torch.nn.BCEWithLogitsLoss
//   bce_loss              BCE from a probability (sigmoid  torch.nn.BCELoss
//                         discriminators), logs clamped at -100
//   l0_loss               (|p - t| + 1e-8)^gamma, gamma    Noise2Noise's annealed "L0"
//                         annealed from 2 to 0 by the trainer
//   wasserstein_loss      (1 - 2t)·p: -p real, +p fake     the WGAN critic's (Arjovsky et al.)
// pred and target have the same shape; forward returns the loss and keeps dL/dpred.
#include <cstdint>

#include "hush/backend/loss_ops.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// An element-wise loss `Op` averaged over every element (PyTorch's reduction='mean'); forward
/// returns the loss and keeps dL/dpred for backward. The base of mse_loss, l1_loss and the others here.
template <class Op>
struct mean_pointwise_loss {
  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target) {
    if (pred.shape() != target.shape())
      throw shape_error("loss: prediction " + pred.shape().str() + " and target " + target.shape().str() +
                        " differ in shape");
    ctx[grad_].resize(pred.shape());
    const auto n = pred.numel();
    const double total =
        pointwise_loss(ctx.backend, op, n, pred.data(), target.data(), 1.0f / float(n), ctx[grad_].data());
    return static_cast<float>(total / double(n));
  }
  /// dL/dpred of the last forward.
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const { return ctx[grad_]; }

  Op op{};

 private:
  kept grad_;
};

/// Mean squared error, torch.nn.MSELoss with reduction='mean': (pred - target)² averaged over
/// every element.
struct mse_loss : mean_pointwise_loss<ops::squared_error> {
  static constexpr const char* kind = "mse";
};
/// Mean absolute error, torch.nn.L1Loss with reduction='mean': `|pred - target|` averaged over
/// every element.
struct l1_loss : mean_pointwise_loss<ops::absolute_error> {
  static constexpr const char* kind = "l1";
};
/// Binary cross-entropy on logits, torch.nn.BCEWithLogitsLoss with reduction='mean': the sigmoid
/// folded in, in a numerically stable form; targets in [0, 1].
struct bce_with_logits_loss : mean_pointwise_loss<ops::bce_with_logits> {
  static constexpr const char* kind = "bce_with_logits";
};
/// Binary cross-entropy on probabilities (a discriminator ending in a sigmoid), torch.nn.BCELoss
/// with reduction='mean'; logs clamped at -100 as PyTorch does, so 0 and 1 give a finite loss.
struct bce_loss : mean_pointwise_loss<ops::bce_from_probability> {
  static constexpr const char* kind = "bce";
};
/// The WGAN critic's loss on raw scores: targets 1 (real) and 0 (generated), as BCE's are.
struct wasserstein_loss : mean_pointwise_loss<ops::wasserstein> {
  static constexpr const char* kind = "wasserstein";
};
/// Noise2Noise's L0: gamma goes from 2 (L2) at the start of training to 0 at its end, linearly
/// (Lehtinen et al. 2018, §3.3); anneal(progress) sets it for progress in [0, 1].
struct l0_loss : mean_pointwise_loss<ops::power_error> {
  static constexpr const char* kind = "l0";
  void anneal(double progress) {
    const double p = progress < 0 ? 0 : (progress > 1 ? 1 : progress);
    op.gamma = static_cast<float>(2.0 * (1.0 - p));
  }
};

}  // namespace hush
