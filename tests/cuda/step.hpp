#pragma once
// One training step of a model on the CUDA build of the thrust backend, for the nvcc checks.
#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"

/// target: a device tensor, or device class labels (an index tensor).
template <class Net, class Loss, class Optimizer, class Target>
float step(hush::model<Net, hush::backend::thrust>& model, Loss& loss, Optimizer& opt, const hush::device_tensor& x,
           const Target& target) {
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), target);
  model.backward(loss.backward(model.ctx));
  opt.step(model.ctx.backend);
  return l;
}
