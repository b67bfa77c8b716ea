#pragma once
// A trainable tensor and its gradient, side by side, in the memory of the network's backend.
#include "hush/core/kept.hpp"
#include "hush/core/shape.hpp"

namespace hush {

struct parameter {
  kept value;
  kept grad;

  /// Allocates value and (zeroed) gradient in Ctx's memory; returns true the first time, when
  /// the caller must initialise the value.
  template <class Ctx>
  bool allocate(Ctx& ctx, hush::shape s) {
    if (ctx[value].shape() == s) return false;
    ctx[value].resize(s);
    ctx[grad] = typename Ctx::tensor(s);
    return true;
  }
};

}  // namespace hush
