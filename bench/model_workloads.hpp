#pragma once
// The whole-model workloads of bench/vs_torch.py (shapes as in bench/torch_peer.py), generic over
// the backend: bench/peer.cpp times them on the cpu backend beside PyTorch, bench/device.cpp on
// the device a program chooses (the GPU in a CUDA build). An iteration returns only when its work
// is done (hush::synchronize): a GPU's launches return before the kernels run.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "hush/hush.hpp"
#include "hush/losses/masked_patch_mse.hpp"
#include "hush/losses/perceptual.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/mae.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/unet.hpp"
#include "hush/models/vgg.hpp"
#include "hush/models/vit.hpp"
#include "hush/train/adversarial.hpp"

namespace hush::bench {

/// A workload: set-up happens in `make`, which returns one iteration.
struct workload {
  std::function<std::function<void()>()> make;
  double flop = 0;  // per iteration, for the convolutions and products only
};

/// Multiply-adds of `depth` pre-norm transformer blocks over `tokens` tokens of width `dim` with
/// an MLP of `mlp`: the qkv, output and MLP products and the two attention products.
constexpr double transformer_macs(double tokens, double dim, double mlp, double depth) {
  return depth * (tokens * dim * (4 * dim + 2 * mlp) + 2 * tokens * tokens * dim);
}

/// Deterministic values in [0, 1): the workloads time arithmetic, not data.
inline tensor filled(shape s, std::uint64_t salt = 0) {
  tensor t(s);
  float* p = t.data();
  for (std::int64_t i = 0; i < t.numel(); ++i)
    p[i] = float((std::uint64_t(i) * 2654435761u + salt * 40503u) % 1000u) / 1000.0f;
  return t;
}

/// ResNet-50 inference at batch 1 and 8 (224×224) and batch 32 at 64×64; its training step at
/// batch 8 (cross-entropy, SGD with momentum 0.9); the Noise2Noise U-Net's inference and step
/// (MSE, Adam) at batch 4, 256×256; the DCGAN discriminator's step (BCE with logits, Adam) at
/// batch 8, 256×256; seed 001's GAN step (gan_step()). Forward workloads run in inference mode (as torch.inference_mode), or in eval
/// mode when `eval_mode`, to measure what inference mode's fusion gives.
template <class Backend>
struct model_workloads {
  Backend backend{};
  bool eval_mode = false;

  void add_to(std::map<std::string, workload>& w) const {
    namespace m = hush::models;
    w["resnet50_fwd_b1"] = forward(m::resnet50(), {1, 3, 224, 224});
    w["resnet50_fwd_b8"] = forward(m::resnet50(), {8, 3, 224, 224});
    w["resnet50_fwd_b32_64"] = forward(m::resnet50(), {32, 3, 64, 64});
    index_tensor labels({8});
    for (std::int64_t i = 0; i < 8; ++i) labels[i] = std::int32_t((i * 397) % 1000);
    w["resnet50_train_b8"] = train<m::resnet50, cross_entropy, sgd>(m::resnet50(), {8, 3, 224, 224}, labels,
                                                                    sgd::options{.lr = 0.01f, .momentum = 0.9f});
    w["unet_fwd_b4"] = forward(m::noise2noise_unet(), {4, 3, 256, 256});
    w["unet_train_b4"] = train<m::noise2noise_unet, mse_loss, adam>(
        m::noise2noise_unet(), {4, 3, 256, 256}, filled({4, 3, 256, 256}, 7),
        adam::options{.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.99f});
    tensor real_fake({8, 1});
    for (std::int64_t i = 0; i < 8; ++i) real_fake.data()[i] = i < 4 ? 1.0f : 0.0f;
    w["disc_train_b8"] = train<m::dcgan_discriminator, bce_with_logits_loss, adam>(
        m::dcgan_discriminator(), {8, 3, 256, 256}, real_fake, adam::options{.lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f});
    w["gan_train_b8"] = gan_step();
    // ViT-B/16 at batch 8: 196 patches and the class token, 12 blocks, the patch embedding.
    w["vit_b16_fwd_b8"] = forward(m::vit_b_16(), {8, 3, 224, 224});
    w["vit_b16_fwd_b8"].flop = 2 * 8 * (transformer_macs(197, 768, 3072, 12) + 196.0 * 768 * 768 + 768.0 * 1000);
    w["mae_train_b64"] = mae_step();
  }

  /// The MAE's pre-training step (models/mae.hpp's mae_small: 32×32 RGB in 4×4 patches, 75%
  /// masked, encoder 192 × 6, decoder 96 × 2) at batch 64: the masked norm_pix loss, Adam (0.9,
  /// 0.95); a new mask every step. Its work is about three forwards' (forward, then backward's
  /// two products per product), counted below.
  workload mae_step() const {
    constexpr double per_image = 64.0 * 48 * 192 + transformer_macs(17, 192, 768, 6) + 17.0 * 192 * 96 +
                                 transformer_macs(65, 96, 384, 2) + 65.0 * 96 * 48;
    return {[b = backend]() -> std::function<void()> {
              struct state {
                model<models::mae_small, Backend> m;
                basic_tensor<memory_of<Backend>> x, target;
                masked_patch_mse loss{{.norm_pix = true}};
                adam opt;
                explicit state(Backend bb)
                    : m({.seed = 1, .backend = bb}, models::mae_small()), x(to(bb, filled({64, 3, 32, 32}, 11))),
                      opt((m.setup({64, 3, 32, 32}), m.net), adam::options{.lr = 1.5e-4f, .beta1 = 0.9f, .beta2 = 0.95f}) {
                  patchify(bb, x, 4, target);
                }
              };
              auto s = std::make_shared<state>(b);
              s->m.train();
              return [s] {
                auto& ctx = s->m.ctx;
                s->m.zero_grad();
                const auto& y = s->m.forward(s->x);
                s->loss.forward(ctx, y, s->target, s->m.net.mask(ctx));
                s->m.backward(s->loss.backward(ctx));
                s->opt.step(ctx.backend);
                ++ctx.step;
                synchronize(ctx.backend);
              };
            },
            2 * 3 * 64 * per_image};
  }

  /// Seed 001's GAN step at batch 8, 256×256 (train/adversarial.hpp): its generator (the residual
  /// U-Net, width 64) and discriminator (DCGAN, width 64); D updated on the real batch, then on
  /// the generated one; G through D with 0.1·VGG content (features to relu2_1) + 0.01·BCE; Adam
  /// 0.005 (beta1 0.5) for G and 0.009 (0.9) for D.
  workload gan_step() const {
    return {[b = backend]() -> std::function<void()> {
      namespace m = hush::models;
      using content = perceptual_loss<m::vgg_features<64, 64, 0, 128>, Backend>;
      using step_type = train::adversarial_training<m::residual_unet, m::dcgan_discriminator, Backend, content>;
      struct state {
        model<m::residual_unet, Backend> g;
        model<m::dcgan_discriminator, Backend> d;
        basic_tensor<memory_of<Backend>> x, real;
        step_type pair;
        static train::adversarial_options recipe() {
          train::adversarial_options o;
          o.generator = {.lr = 0.005f, .beta1 = 0.5f}, o.discriminator = {.lr = 0.009f, .beta1 = 0.9f};
          o.content_weight = 0.1f, o.adversarial_weight = 0.01f;
          return o;
        }
        explicit state(Backend bb)
            : g({.seed = 1, .backend = bb}, m::residual_unet({.channels = 3, .width = 64})),
              d({.seed = 2, .backend = bb}, m::dcgan_discriminator({.channels = 3, .size = 256, .width = 64})),
              x(to(bb, filled({8, 3, 256, 256}, 3))), real(to(bb, filled({8, 3, 256, 256}, 5))),
              pair(g, d, recipe(), content({.weights = {}, .seed = 3, .backend = bb})) {}
      };
      auto s = std::make_shared<state>(b);
      using T = basic_tensor<memory_of<Backend>>;
      return [s] {
        s->pair.step([&](int) { return std::pair<const T&, const T&>(s->x, s->real); });
        synchronize(s->g.ctx.backend);
      };
    }};
  }

  template <class Net>
  workload forward(Net net, shape in) const {
    return {[net, in, b = backend, eval = eval_mode]() mutable -> std::function<void()> {
      auto mod = std::make_shared<model<Net, Backend>>(typename model<Net, Backend>::options{.seed = 1, .backend = b}, net);
      auto x = std::make_shared<basic_tensor<memory_of<Backend>>>(to(b, filled(in)));
      if (eval) mod->eval();
      else mod->infer();  // no backward to come: conv + batch norm + ReLU fused
      mod->setup(in);
      return [mod, x] {
        mod->forward(*x);
        synchronize(mod->ctx.backend);
      };
    }};
  }

  /// One training step: zero_grad, forward, loss, backward, optimizer step.
  /// target: a tensor, or an index tensor of class labels.
  template <class Net, class Loss, class Optimizer, class Target, class OptimizerOptions>
  workload train(Net net, shape in, Target target, OptimizerOptions o) const {
    return {[net, in, target, o, b = backend]() mutable -> std::function<void()> {
      struct state {
        model<Net, Backend> m;
        basic_tensor<memory_of<Backend>> x;
        std::remove_cvref_t<decltype(to(std::declval<const Backend&>(), std::declval<const Target&>()))> target;
        Loss loss{};
        Optimizer opt;
        state(Net n, shape s, const Target& t, OptimizerOptions oo, Backend bb)
            : m({.seed = 1, .backend = bb}, std::move(n)), x(to(bb, filled(s))), target(to(bb, t)),
              opt((m.setup(s), m.net), oo) {}
      };
      auto s = std::make_shared<state>(net, in, target, o, b);
      s->m.train();
      return [s] {
        s->m.zero_grad();
        s->loss.forward(s->m.ctx, s->m.forward(s->x), s->target);
        s->m.backward(s->loss.backward(s->m.ctx));
        s->opt.step(s->m.ctx.backend);
        synchronize(s->m.ctx.backend);
      };
    }};
  }
};

}  // namespace hush::bench
