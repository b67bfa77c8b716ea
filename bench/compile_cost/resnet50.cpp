// What ResNet-50 costs the compiler (bench/compile_cost/run.sh): the network, one training step
// (forward, cross-entropy, backward, SGD) and an inference, and nothing else: no command line,
// no images, so the figure is hush's own. examples/resnet50.cpp is the same with a command line.
#include "hush/hush.hpp"
#include "hush/models/resnet.hpp"

int main() {
  hush::model<hush::models::resnet50, hush::backend::cpu> model({.seed = 1});
  hush::tensor x({2, 3, 64, 64}, 0.5f), labels({2}, 3.0f);
  hush::sgd sgd(model.net, {.lr = 0.01f, .momentum = 0.9f});
  hush::cross_entropy loss;
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), labels);
  model.backward(loss.backward());
  sgd.step(model.ctx.backend);
  model.infer();
  return model.forward(x)[0] > l ? 0 : 1;
}
