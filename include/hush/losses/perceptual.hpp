#pragma once
// perceptual_loss<Features, Backend>: the content loss of SRGAN (Ledig et al. 2017) and seed 001,
//   L = mean((F(pred) - F(target))²)
// where F is a fixed feature network: the first layers of an ImageNet VGG (models/vgg.hpp's
// vgg_features) with torchvision's weights, its input normalised as torchvision's networks
// expect (imagenet_normalize; grey images repeated to three channels). F never learns: the
// gradient goes back through it to pred only. F's parameters start from its seed's
// initialisation; `weights` names a torchvision state_dict in safetensors
// (scripts/torchvision_weights.py) whose tensors F takes by name, the rest of the file (the
// classifier, deeper layers) unused.
//
//   perceptual_loss<models::vgg_features<64, 64, 0, 128, 128>, backend::cpu> content({.weights = "vgg19.safetensors"});
//   float l = content.forward(ctx, denoised, clean);   // then content.backward(ctx): dL/d(denoised)
#include <cstdint>
#include <filesystem>
#include <string>

#include "hush/core/error.hpp"
#include "hush/graph/model.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/seq.hpp"
#include "hush/io/weights.hpp"
#include "hush/layers/imagenet_normalize.hpp"
#include "hush/losses/pointwise.hpp"

namespace hush {

/// SRGAN's content loss, mean((F(pred) - F(target))²), through a fixed feature network F
/// (`Features`, e.g. a VGG's first layers, on ImageNet-normalised input) held as a model on
/// `Backend`; the gradient goes back to pred only, F never learns.
template <class Features, class Backend>
class perceptual_loss {
 public:
  static constexpr const char* kind = "perceptual";
  /// The normalisation, then F under its own names (named<""> adds no prefix).
  using network = seq<imagenet_normalize, named<"", Features>>;

  /// Settings of perceptual_loss: weights names a torchvision state_dict in safetensors that F
  /// loads by name at its first setup (empty: F keeps its initialisation from seed); backend is
  /// the settings of F's backend.
  struct options {
    std::filesystem::path weights;  // empty: F keeps its random initialisation
    std::uint64_t seed = 0;
    Backend backend{};
  };

  explicit perceptual_loss(options o = {}, Features f = Features{})
      : features({.seed = o.seed, .backend = o.backend}, network(imagenet_normalize{}, std::move(f))),
        weights_(std::move(o.weights)) {}

  /// Sets F up for images of shape `in` and loads its weights the first time: a trainer calls
  /// it before training, so that a bad weights file stops the run before it starts.
  void setup(shape in) {
    features.setup(in);
    if (!loaded_ && !weights_.empty())
      load_weights(features.net, weights_, {.strict = false, .check_structure = false});
    loaded_ = true;
    features.eval();
  }

  template <class Ctx>
  float forward(Ctx&, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target) {
    if (pred.shape() != target.shape())
      throw shape_error("perceptual loss: prediction " + pred.shape().str() + " and target " + target.shape().str() +
                        " differ in shape");
    setup(pred.shape());
    const auto& ft = features.forward(target);
    auto& kept_target = features.ctx[target_features_];
    kept_target.resize(ft.shape());
    kept_target.zero();
    axpy(features.ctx.backend, ft.numel(), 1.0f, ft.data(), kept_target.data());
    features.zero_grad();  // F's parameter gradients are computed and never used: kept from growing
    const float value = mse_.forward(features.ctx, features.forward(pred), kept_target);
    gradient_ = &features.backward(mse_.backward(features.ctx));
    return value;
  }
  /// dL/dpred of the last forward.
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx&) const {
    if (!gradient_) throw error("perceptual loss: backward before forward");
    return *gradient_;
  }

  model<network, Backend> features;

 private:
  std::filesystem::path weights_;
  bool loaded_ = false;
  mse_loss mse_;
  kept target_features_;
  const typename model<network, Backend>::tensor* gradient_ = nullptr;
};

}  // namespace hush
