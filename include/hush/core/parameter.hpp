#pragma once
// A trainable tensor and its gradient, side by side, in the memory of the network's backend.
#include "hush/core/kept.hpp"
#include "hush/core/shape.hpp"

namespace hush {

/// A trainable tensor and its gradient, each a kept in the backend's memory: what optimizers
/// update (for_each_parameter) and weight files store under the names a network's visit gives.
struct parameter {
  kept value;
  kept grad;

  /// Allocates value and (zeroed) gradient in Ctx's memory (no gradient while the context keeps
  /// none: a frozen network's); returns true the first time, when the caller must initialise
  /// the value.
  template <class Ctx>
  bool allocate(Ctx& ctx, hush::shape s) {
    if (ctx[value].shape() == s) return false;
    ctx[value].resize(s);
    ctx[grad] = ctx.keep_gradients ? typename Ctx::tensor(s) : typename Ctx::tensor{};
    return true;
  }
};

}  // namespace hush
