// Compiled by nvcc in CI (no GPU is needed to compile): the same Thrust kernels and the same
// network type as on the host, instantiated for CUDA with cuBLAS for GEMM.
#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"

/// One training step of the small CNN on the CUDA build of the thrust backend.
float hush_cuda_training_step(const hush::tensor& x, const hush::tensor& labels) {
  static hush::model<hush::models::fashion_cnn, hush::backend::thrust> model({.seed = 1});
  static hush::cross_entropy loss;
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), labels);
  model.backward(loss.backward());
  hush::sgd opt(model.net, {.lr = 0.01f, .momentum = 0.9f});
  opt.step(model.ctx.backend);
  return l;
}

/// Every other layer, combinator, loss and optimizer, instantiated for CUDA in three networks.
/// (One network holding all of them at once made nvcc 13.0's device front end, cicc, crash with
/// a segmentation fault; the same pieces in these three networks compile.)
namespace {
using inner = hush::seq<hush::conv2d, hush::gelu, hush::dropout, hush::conv_transpose2d, hush::sigmoid>;
struct unet_level : hush::seq<hush::conv2d, hush::concat_skip<inner>, hush::avg_pool2d> {
  static constexpr const char* kind = "unet_level";
  unet_level()
      : seq(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}),
            hush::concat_skip<inner>(inner(hush::conv2d({.in = 4, .out = 8, .kernel = 4, .stride = 2, .padding = 1}),
                                           hush::gelu{}, hush::dropout(0.1f),
                                           hush::conv_transpose2d({.in = 8, .out = 4, .kernel = 4, .stride = 2, .padding = 1}),
                                           hush::sigmoid{})),
            hush::avg_pool2d({.kernel = 2})) {}
};
struct head : hush::seq<hush::conv2d, hush::upsample, hush::layer_norm, hush::global_avg_pool, hush::softmax> {
  static constexpr const char* kind = "head";
  head()
      : seq(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}),
            hush::upsample({.scale = 2, .interpolation = hush::upsample::interpolation::bilinear}), hush::layer_norm(8),
            hush::global_avg_pool{}, hush::softmax{}) {}
};
using block = hush::residual<hush::seq<hush::conv2d, hush::batch_norm2d, hush::leaky_relu>>;

template <class Net, class Loss, class Optimizer>
float step(hush::model<Net, hush::backend::thrust>& model, Loss& loss, Optimizer& opt, const hush::tensor& x,
           const hush::tensor& target) {
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), target);
  model.backward(loss.backward());
  opt.step(model.ctx.backend);
  return l;
}
}  // namespace

float hush_cuda_unet_step(const hush::tensor& x, const hush::tensor& target) {
  static hush::model<unet_level, hush::backend::thrust> model({.seed = 1});
  static hush::weighted_sum<hush::mse_loss, hush::l1_loss> loss({1.0f, 0.1f});
  static hush::adam opt(model.net, {});
  return step(model, loss, opt, x, target);
}

float hush_cuda_head_step(const hush::tensor& x, const hush::tensor& target) {
  static hush::model<head, hush::backend::thrust> model({.seed = 1});
  static hush::bce_loss loss;
  static hush::sgd opt(model.net, {.lr = 0.1f});
  return step(model, loss, opt, x, target);
}

float hush_cuda_block_step(hush::context<hush::backend::thrust>& ctx, const hush::tensor& x, const hush::tensor& target) {
  block b(block::main_type(hush::conv2d({.in = 4, .out = 4, .kernel = 3, .padding = 1}), hush::batch_norm2d(4),
                           hush::leaky_relu(0.2f)));
  hush::bce_with_logits_loss loss;
  b.setup(ctx, x.shape());
  const float l = loss.forward(ctx, b.forward(ctx, x), target);
  b.backward(ctx, x, loss.backward());
  return l;
}

#include "hush/noise/compose.hpp"
#include "hush/noise/pixel.hpp"

/// The pixel-wise noise models on the CUDA build of the thrust backend (low_res and text run on
/// the host and are not part of it).
void hush_cuda_noise(const hush::tensor& clean, hush::tensor& noisy) {
  namespace nz = hush::noise;
  const nz::chain<nz::gaussian, nz::salt_pepper, nz::poisson, nz::speckle, nz::bernoulli, nz::impulse> all(
      {0.1f}, {0.05f}, {30.0f}, {0.1f}, {0.1f}, {0.1f});
  nz::apply_to_batch(hush::backend::thrust{}, all, hush::counter_rng{1}, clean, noisy);
  const nz::one_of<nz::gaussian, nz::speckle> either(nz::gaussian::from_variance({0.005f, 0.08f}),
                                                     nz::speckle::from_variance({0.005f, 0.2f}));
  nz::apply_to_batch(hush::backend::thrust{}, either, hush::counter_rng{1}, clean, noisy, 0, 1);
}
