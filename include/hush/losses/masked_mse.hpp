#pragma once
// masked_mse_loss: mean of m·(p - t)² over every element, for targets observed only where the
// mask m is 1. Noise2Noise trains on multiplicative Bernoulli noise this way (Lehtinen et al.
// 2018, §3.4): a pixel the noise dropped in the target says nothing about the clean image, so it
// gives no gradient. The mask is binary (0 or 1) and has pred's shape; the trainer makes it by
// applying the target's noise, with the same draws, to an image of ones.
#include "hush/backend/loss_ops.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// Mean of m·(pred - target)² over every element, for a binary mask m of pred's shape: where the
/// target was not observed (m = 0) an element adds nothing and gets no gradient (Noise2Noise on
/// Bernoulli noise). Divided by all elements, not only the observed ones.
struct masked_mse_loss {
  static constexpr const char* kind = "masked_mse";

  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target, const tensor_of<Ctx>& mask) {
    if (pred.shape() != target.shape() || pred.shape() != mask.shape())
      throw shape_error("masked loss: prediction " + pred.shape().str() + ", target " + target.shape().str() +
                        " and mask " + mask.shape().str() + " differ in shape");
    const auto n = pred.numel();
    ctx[masked_pred_].resize(pred.shape()), ctx[masked_target_].resize(pred.shape()), ctx[grad_].resize(pred.shape());
    // m·(p - t) = m·p - m·t for m in {0, 1}; the gradient 2m(mp - mt)/n is the masked one.
    multiply(ctx.backend, n, mask.data(), pred.data(), ctx[masked_pred_].data());
    multiply(ctx.backend, n, mask.data(), target.data(), ctx[masked_target_].data());
    const double total = pointwise_loss(ctx.backend, ops::squared_error{}, n, ctx[masked_pred_].data(),
                                        ctx[masked_target_].data(), 1.0f / float(n), ctx[grad_].data());
    multiply(ctx.backend, n, mask.data(), ctx[grad_].data(), ctx[grad_].data());
    return static_cast<float>(total / double(n));
  }
  /// dL/dpred of the last forward.
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const { return ctx[grad_]; }

 private:
  kept masked_pred_, masked_target_, grad_;
};

}  // namespace hush
