#pragma once
// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, exactly as torch.optim.Adam,
// and adamw (Loshchilov & Hutter 2019), its weight decay decoupled from the gradient, exactly as
// torch.optim.AdamW. One optimizer per network: a GAN's two networks each have their own.
#include <cmath>

#include "hush/backend/optim_settings.hpp"
#include "hush/optim/state.hpp"

namespace hush {

/// Adam (Kingma & Ba 2015), as torch.optim.Adam: weight_decay is an L2 term added to the
/// gradient. Its state per parameter is exp_avg and exp_avg_sq, as torch.optim names them.
class adam : public optimizer_state<2> {
 public:
  /// Adam's settings, with torch.optim.Adam's defaults: lr 1e-3, betas 0.9 and 0.999, eps 1e-8
  /// and no weight decay. adamw sets decoupled_weight_decay.
  struct options {
    float lr = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;
    bool decoupled_weight_decay = false;  // AdamW's (adamw sets it)
  };

  template <class Net>
  adam(Net& net, options o) : optimizer_state(net, {"exp_avg", "exp_avg_sq"}), opt(o) {}

  template <class Backend>
  void step(Backend backend) {
    const auto t = static_cast<float>(steps_ + 1);
    const backend::adam_settings s{opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay,
                                   1.0f - std::pow(opt.beta1, t), 1.0f - std::pow(opt.beta2, t),
                                   opt.decoupled_weight_decay};
    each([&](slot& p) {
      using M = memory_of<Backend>;
      adam_step(backend, s, p.param->value.numel(), p.param->value.as<M>().data(), p.param->grad.as<M>().data(),
                p.state[0].as<M>().data(), p.state[1].as<M>().data());
    });
    count_step();
  }

  options opt;
};

/// Adam with decoupled weight decay, torch.optim.AdamW (whose default decay is 0.01; here the
/// options' weight_decay as given).
class adamw : public adam {
 public:
  template <class Net>
  adamw(Net& net, options o) : adam(net, decoupled(o)) {}

 private:
  static options decoupled(options o) {
    o.decoupled_weight_decay = true;
    return o;
  }
};

}  // namespace hush
