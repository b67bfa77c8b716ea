#pragma once
// softmax: x (..., K) -> y (..., K), over the last dimension: torch.nn.Softmax(dim=-1).
#include <cstdint>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// torch.nn.Softmax(dim=-1): x (..., K) -> y (..., K), each row of K values along the last axis made
/// into probabilities that sum to 1 (rank 2 or more); backward reads y.
struct softmax {
  static constexpr const char* kind = "softmax";
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank < 2) throw shape_error("softmax: expected (N, ..., K), got " + in.str());
    return in;
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto k = x.shape()[x.shape().rank - 1];
    softmax_forward(ctx.backend, x.numel() / k, k, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const auto k = x.shape()[x.shape().rank - 1];
    softmax_backward(ctx.backend, x.numel() / k, k, ctx[y_].data(), dy.data(), ctx[dx_].data());
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}

 private:
  kept y_, dx_;
};

}  // namespace hush
