// What the masked autoencoder costs the compiler (bench/compile_cost/run.sh), under ResNet-50's
// budgets: one pre-training step of mae_small (forward, masked patch loss, backward, Adam) and
// an inference of its reconstruction, and nothing else.
#include "hush/hush.hpp"
#include "hush/losses/masked_patch_mse.hpp"
#include "hush/models/mae.hpp"

int main() {
  namespace m = hush::models;
  hush::model<m::mae_small, hush::backend::cpu> model({.seed = 1});
  hush::tensor x({2, 3, 32, 32}, 0.5f), target;
  hush::patchify(model.ctx.backend, x, 4, target);
  hush::adam adam(model.net, {.lr = 1e-3f});
  hush::masked_patch_mse loss;
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), target, model.net.mask(model.ctx));
  model.backward(loss.backward(model.ctx));
  adam.step(model.ctx.backend);
  hush::model<m::mae_reconstruction<m::mae_small>, hush::backend::cpu> front({.seed = 1});
  front.infer();
  return front.forward(x)[0] > l ? 0 : 1;
}
