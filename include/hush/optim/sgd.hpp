#pragma once
// Stochastic gradient descent with momentum, Nesterov momentum and weight decay, exactly as
// torch.optim.SGD. One optimizer per network.
#include "hush/backend/optim_settings.hpp"
#include "hush/core/error.hpp"
#include "hush/optim/state.hpp"

namespace hush {

/// Stochastic gradient descent, as torch.optim.SGD: momentum, dampening, Nesterov momentum and
/// L2 weight decay. Its state per parameter is the momentum_buffer.
class sgd : public optimizer_state<1> {
 public:
  /// SGD's settings. The defaults (lr 0.01, no momentum, no decay) give plain gradient descent;
  /// Nesterov momentum needs momentum > 0 and dampening 0, or the constructor throws.
  struct options {
    float lr = 0.01f;
    float momentum = 0.0f;
    float dampening = 0.0f;
    float weight_decay = 0.0f;
    bool nesterov = false;
  };

  template <class Net>
  sgd(Net& net, options o) : optimizer_state(net, {"momentum_buffer"}), opt(o) {
    if (opt.nesterov && (opt.momentum <= 0.0f || opt.dampening != 0.0f))
      throw error("sgd: Nesterov momentum requires momentum > 0 and dampening = 0");
  }

  /// One update of every parameter from its accumulated gradient.
  template <class Backend>
  void step(Backend backend) {
    const backend::sgd_settings s{opt.lr, opt.momentum, opt.dampening, opt.weight_decay, opt.nesterov, steps_ == 0};
    each([&](slot& p) {
      using M = memory_of<Backend>;
      sgd_step(backend, s, p.param->value.numel(), p.param->value.as<M>().data(), p.param->grad.as<M>().data(),
               p.state[0].as<M>().data());
    });
    count_step();
  }

  options opt;
};

}  // namespace hush
