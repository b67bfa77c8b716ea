#pragma once
// The program bench/compile_cost/run.sh compiles for a network: one training step (forward,
// cross-entropy, backward, SGD) and an inference, and nothing else (no command line, no images),
// so the figure is hush's own.
#include "hush/hush.hpp"

template <class Net>
int step_and_inference(hush::shape in) {
  hush::model<Net, hush::backend::cpu> model({.seed = 1});
  const hush::tensor x(in, 0.5f);
  const hush::index_tensor labels({in.n()}, std::vector<std::int32_t>(std::size_t(in.n()), 3));
  hush::sgd sgd(model.net, {.lr = 0.01f, .momentum = 0.9f});
  hush::cross_entropy loss;
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), labels);
  model.backward(loss.backward(model.ctx));
  sgd.step(model.ctx.backend);
  model.infer();
  return model.forward(x)[0] > l ? 0 : 1;
}
