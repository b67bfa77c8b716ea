#pragma once
// Stochastic gradient descent with momentum, Nesterov momentum and weight decay, exactly as
// torch.optim.SGD. One optimizer per network: it holds pointers to that network's parameters
// (so the network must not move), and allocates its state at the first step.
#include <cstdint>
#include <string>
#include <vector>

#include "hush/backend/optim_settings.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

class sgd {
 public:
  struct options {
    float lr = 0.01f;
    float momentum = 0.0f;
    float dampening = 0.0f;
    float weight_decay = 0.0f;
    bool nesterov = false;
  };

  template <class Net>
  sgd(Net& net, options o) : opt(o) {
    if (opt.nesterov && (opt.momentum <= 0.0f || opt.dampening != 0.0f))
      throw error("sgd: Nesterov momentum requires momentum > 0 and dampening = 0");
    for_each_parameter(net, [&](std::string_view name, parameter& p) {
      slots_.push_back({std::string(name), &p, tensor()});
    });
  }

  /// One update of every parameter from its accumulated gradient.
  template <class Backend>
  void step(Backend backend) {
    const backend::sgd_settings s{opt.lr, opt.momentum, opt.dampening, opt.weight_decay, opt.nesterov, steps_ == 0};
    for (auto& slot : slots_) {
      if (slot.velocity.shape() != slot.param->value.shape()) slot.velocity = tensor(slot.param->value.shape());
      sgd_step(backend, s, slot.param->value.numel(), slot.param->value.data(), slot.param->grad.data(),
               slot.velocity.data());
    }
    ++steps_;
  }

  std::int64_t steps() const { return steps_; }
  options opt;

 private:
  struct state {
    std::string name;
    parameter* param;
    tensor velocity;
  };
  std::vector<state> slots_;
  std::int64_t steps_ = 0;
};

}  // namespace hush
