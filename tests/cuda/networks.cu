// nvcc check: networks and kernels on the CUDA build of the thrust backend, compiled in CI (no GPU
// is needed to compile). What the programs compiled by nvcc in CI already hold is not repeated
// here: ResNet-20 with seed 004's four regimes in the trainer and every noise model
// (tools/robustness.cpp, tools/noise.cpp). One translation unit: each costs nvcc about 25 s of
// parsing hush and Thrust before any of its own code.
#include <memory>

#include "hush/backend/thrust.hpp"
#include "hush/distributed/gradient_averager.hpp"
#if HUSH_WITH_NCCL
#include "hush/distributed/nccl.hpp"
#endif
#include "hush/hush.hpp"
#include "hush/losses/perceptual.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/losses/masked_patch_mse.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/mae.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/unet.hpp"
#include "hush/models/vgg.hpp"
#include "hush/models/vit.hpp"
#include "hush/train/adversarial.hpp"
#include "step.hpp"

// ---- ResNet-50 (torchvision's): a training step (cross-entropy, SGD with momentum) and inference

using resnet50_model = hush::model<hush::models::resnet50, hush::backend::thrust>;

std::unique_ptr<resnet50_model> make_resnet50(std::int64_t classes) {
  return std::make_unique<resnet50_model>(resnet50_model::options{.seed = 1},
                                          hush::models::resnet50({.channels = 3, .classes = classes}));
}
float train_resnet50(resnet50_model& model, const hush::device_tensor& x, const hush::basic_index_tensor<hush::device_memory>& labels) {
  hush::cross_entropy loss;
  hush::sgd opt(model.net, {.lr = 0.1f, .momentum = 0.9f});
  return step(model, loss, opt, x, labels);
}
hush::tensor classify(resnet50_model& model, const hush::device_tensor& x) {
  model.infer();
  return hush::to_host(model.forward(x));
}

// ---- the Noise2Noise U-Net: a Noise2Noise step (L2 against a second noisy copy, Adam) and inference

using unet_model = hush::model<hush::models::noise2noise_unet, hush::backend::thrust>;

std::unique_ptr<unet_model> make_unet(std::int64_t channels) {
  return std::make_unique<unet_model>(unet_model::options{.seed = 1},
                                     hush::models::noise2noise_unet({.channels = channels, .out_channels = channels}));
}
float train_unet(unet_model& model, const hush::device_tensor& noisy, const hush::device_tensor& other_noisy) {
  hush::mse_loss loss;
  hush::adam opt(model.net, {.lr = 1e-3f});
  return step(model, loss, opt, noisy, other_noisy);
}
hush::tensor denoise(unet_model& model, const hush::device_tensor& noisy) {
  model.infer();
  return hush::to_host(model.forward(noisy));
}

// ---- seed 001's discriminator: a step on real/fake labels (BCE on logits, Adam)

using discriminator_model = hush::model<hush::models::dcgan_discriminator, hush::backend::thrust>;

std::unique_ptr<discriminator_model> make_discriminator(std::int64_t channels, std::int64_t size) {
  return std::make_unique<discriminator_model>(discriminator_model::options{.seed = 1},
                                     hush::models::dcgan_discriminator({.channels = channels, .size = size}));
}
float train_discriminator(discriminator_model& model, const hush::device_tensor& images, const hush::device_tensor& real) {
  hush::bce_with_logits_loss loss;
  hush::adam opt(model.net, {.lr = 2e-4f});
  return step(model, loss, opt, images, real);
}

// ---- seed 001's GAN: the generator (residual U-Net) through the discriminator, a VGG content
// loss, and the WGAN critic's loss with weight clipping on the way (train/adversarial.hpp)

using generator_model = hush::model<hush::models::residual_unet, hush::backend::thrust>;
using vgg_content = hush::perceptual_loss<hush::models::vgg_features<64, 64, 0, 128, 128>, hush::backend::thrust>;
using gan_step = hush::train::adversarial_training<hush::models::residual_unet, hush::models::dcgan_discriminator,
                                                   hush::backend::thrust, vgg_content>;

hush::train::gan_losses hush_cuda_gan_step(generator_model& g, discriminator_model& d, const hush::device_tensor& noisy,
                                           const hush::device_tensor& clean) {
  hush::train::adversarial_options o;
  o.adversarial = hush::train::adversarial_kind::wasserstein, o.clip = 0.01f;
  gan_step pair(g, d, o);
  return pair.step([&](int) { return std::pair<const hush::device_tensor&, const hush::device_tensor&>(noisy, clean); });
}

// ---- layers no shipped model uses: a U-Net level (concat_skip, transposed convolution, GELU,
// dropout, average pooling) with a weighted MSE + L1 loss and an Adam step ...

using inner = hush::seq<hush::conv2d, hush::gelu, hush::dropout, hush::conv_transpose2d, hush::sigmoid>;
using unet_level = hush::seq<hush::conv2d, hush::concat_skip<inner>, hush::avg_pool2d>;

float hush_cuda_unet_step(hush::context<hush::backend::thrust>& ctx, const hush::device_tensor& x, const hush::device_tensor& target) {
  const auto held = std::make_unique<unet_level>(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}),
                 hush::concat_skip<inner>(inner(hush::conv2d({.in = 4, .out = 8, .kernel = 4, .stride = 2, .padding = 1}),
                                                hush::gelu{}, hush::dropout(0.1f),
                                                hush::conv_transpose2d({.in = 8, .out = 4, .kernel = 4, .stride = 2, .padding = 1}),
                                                hush::sigmoid{})),
                 hush::avg_pool2d({.kernel = 2}));
  auto& net = *held;
  net.setup(ctx, x.shape());
  hush::weighted_sum<hush::mse_loss, hush::l1_loss> loss({1.0f, 0.1f});
  hush::adam opt(net, {});
  const float l = loss.forward(ctx, net.forward(ctx, x), target);
  net.backward(ctx, x, loss.backward(ctx));
  opt.step(ctx.backend);
  return l;
}

// ---- ... and bilinear upsampling, layer norm, global pooling and softmax with BCE and SGD

namespace {
struct head : hush::seq<hush::conv2d, hush::upsample, hush::layer_norm, hush::global_avg_pool, hush::softmax> {
  head()
      : seq(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}),
            hush::upsample({.scale = 2, .interpolation = hush::upsample::interpolation::bilinear}), hush::layer_norm(8),
            hush::global_avg_pool{}, hush::softmax{}) {}
};
}  // namespace

float hush_cuda_head_step(const hush::device_tensor& x, const hush::device_tensor& target) {
  static hush::model<head, hush::backend::thrust> model({.seed = 1});
  static hush::bce_loss loss;
  static hush::sgd opt(model.net, {.lr = 0.1f});
  return step(model, loss, opt, x, target);
}

// ---- PSNR and SSIM as kernels, and a convolution with its batch norm folded and a ReLU fused
// (cuDNN's conv + bias + activation) in inference

double hush_cuda_quality(const hush::device_tensor& clean, const hush::device_tensor& denoised) {
  return hush::metrics::psnr(hush::backend::thrust{}, clean, denoised) + hush::metrics::ssim(hush::backend::thrust{}, clean, denoised);
}

using conv_bn_relu = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu>;

hush::device_tensor hush_cuda_fused_inference(hush::model<conv_bn_relu, hush::backend::thrust>& model, const hush::device_tensor& x) {
  model.infer();
  return model.forward(x);
}

// ---- the token layers: ViT-B/16 inference (torchvision's) and the MAE's pre-training step
// (masked patch loss, Adam), with the attention kernels' strided batched cuBLAS products, and
// the MAE as a denoising front end

using vit_model = hush::model<hush::models::vit_b_16, hush::backend::thrust>;

std::unique_ptr<vit_model> make_vit_b_16(std::int64_t classes) {
  return std::make_unique<vit_model>(vit_model::options{.seed = 1}, hush::models::vit_b_16({.classes = classes}));
}
hush::tensor classify_vit(vit_model& model, const hush::device_tensor& x) {
  model.infer();
  return hush::to_host(model.forward(x));
}

using mae_model = hush::model<hush::models::mae_small, hush::backend::thrust>;

float hush_cuda_mae_step(mae_model& model, const hush::device_tensor& images) {
  hush::masked_patch_mse loss({.norm_pix = true});
  hush::adam opt(model.net, {.lr = 1.5e-4f, .beta2 = 0.95f});
  hush::device_tensor target;
  hush::patchify(model.ctx.backend, images, model.net.opt.patch, target);
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(images), target, model.net.mask(model.ctx));
  model.backward(loss.backward(model.ctx));
  opt.step(model.ctx.backend);
  return l;
}

hush::tensor hush_cuda_mae_denoise(hush::model<hush::models::mae_reconstruction<hush::models::mae_small>, hush::backend::thrust>& model,
                                   const hush::device_tensor& noisy) {
  model.infer();
  return hush::to_host(model.forward(noisy));
}

// ---- data parallelism between GPUs: the U-Net's Noise2Noise step with its gradients averaged
// by NCCL in buckets while backward runs (distributed/nccl.hpp; bootstrapped by any host
// communicator, MPI in a real run)

#if HUSH_WITH_NCCL
float hush_cuda_nccl_step(hush::distributed::communicator& host, unet_model& model, const hush::device_tensor& noisy,
                          const hush::device_tensor& other_noisy) {
  hush::distributed::nccl_communicator gpus(host);
  model.ctx.batch_norm_group = &gpus;
  hush::distributed::gradient_averager average;
  hush::adam opt(model.net, {.lr = 1e-3f});
  hush::mse_loss loss;
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(noisy), other_noisy);
  average.arm(gpus, model.net, model.ctx);
  model.backward(loss.backward(model.ctx));
  average.finish();
  opt.step(model.ctx.backend);
  return l;
}
#endif
