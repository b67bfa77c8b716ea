#pragma once
// What several test files share.
#include "hush/core/context.hpp"
#include "hush/core/tensor.hpp"

namespace hush::test {

/// A copy of the host tensor `t` where ctx's backend keeps its tensors (device memory for thrust).
template <class Ctx>
tensor_of<Ctx> on(const Ctx& ctx, const tensor& t) {
  return tensor_of<Ctx>(to(ctx.backend, t));
}

}  // namespace hush::test
