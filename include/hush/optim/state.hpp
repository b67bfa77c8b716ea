#pragma once
// What every optimizer keeps: the network's parameters by name, K state tensors beside each
// (momentum, Adam's moments), allocated at the first step, and the number of steps taken.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hush/graph/visit.hpp"

namespace hush {

/// What every optimizer keeps: the network's parameters by name, K state tensors beside each
/// (allocated and zeroed at first use) and the steps taken, all saved in a checkpoint.
template <std::size_t K>
class optimizer_state {
 public:
  /// One parameter: its name in the network, a pointer to it, and its K state tensors.
  struct slot {
    std::string name;
    parameter* param;
    std::array<kept, K> state;  // in the parameter's memory
  };

  /// Holds pointers to the network's parameters: the network must outlive the optimizer and not
  /// move. `state_names` name the K state tensors as torch.optim's state_dict does.
  template <class Net>
  optimizer_state(Net& net, std::array<const char*, K> state_names) : names_(state_names) {
    for_each_parameter(net, [&](std::string_view name, parameter& p) { slots_.push_back({std::string(name), &p, {}}); });
  }

  /// f(slot&) for every parameter, its state allocated (zeroed) to the parameter's shape.
  template <class F>
  void each(F&& f) {
    for (auto& s : slots_) {
      for (auto& t : s.state)
        if (t.shape() != s.param->value.shape() || t.on_device() != s.param->value.on_device()) t.zero_like(s.param->value);
      f(s);
    }
  }

  /// f("<parameter>.<state>", kept&) for every state tensor, allocated; and the step count.
  template <class F, class G>
  void visit_state(F&& f, G&& steps) {
    each([&](slot& s) {
      for (std::size_t k = 0; k < K; ++k) f(s.name + "." + names_[k], s.state[k]);
    });
    steps("steps", steps_);
  }

  std::int64_t steps() const { return steps_; }
  void count_step() { ++steps_; }

 protected:
  std::vector<slot> slots_;
  std::int64_t steps_ = 0;
  std::array<const char*, K> names_;
};

}  // namespace hush
