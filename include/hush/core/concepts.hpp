#pragma once
// The layer contract, written down once. Every layer and every combinator models `hush::layer`.
//
//   L::kind                       a short name ("conv2d") used by print() and by error messages.
//   output_shape(in) const        the output shape for input shape `in`; throws shape_error,
//                                 naming both shapes, when `in` does not fit. Pure.
//   setup(ctx, in)                prepares for inputs of shape `in`: allocates parameters the first
//                                 time (initialised from ctx.rng), output and gradient buffers for
//                                 this shape. Idempotent; forward/backward require it.
//   forward(ctx, x) -> const y&   computes y = f(x). Requires x.shape() == the setup shape.
//                                 Ensures y stays valid until the next forward of this layer.
//                                 In train mode it may remember what backward needs.
//   backward(ctx, x, dy) -> dx&   requires the forward(ctx, x) just before, with the same x.
//                                 Returns dL/dx and *adds* dL/dθ into each parameter's gradient
//                                 (zero_grad clears them), so gradients of several passes sum.
//   parameter_count() const       number of trainable scalars; constexpr where the sizes are.
//   visit(v)                      calls v.parameter(name, p) for each parameter,
//                                 v.buffer(name, t) for each non-trained state (running stats) and
//                                 v.counter(name, n) for integer state (num_batches_tracked),
//                                 with PyTorch state_dict names.
//
// Tensors are NCHW unless a layer declares that it takes the cpu backend's blocked layout
// (core/layout.hpp); only then may x (and dy) be blocked.
//
// Composites (graph/) also offer for_each_child(f, in), which print(), visit and parameter_count
// use to walk the tree. Optional abilities are detected with `requires`, never with a base class.
#include <concepts>
#include <cstdint>
#include <string_view>

#include "hush/core/context.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/shape.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

namespace detail {
struct archetype_backend {};
struct archetype_visitor {
  void parameter(std::string_view, parameter&) {}
  void buffer(std::string_view, kept&) {}
  void counter(std::string_view, std::int64_t&) {}
};
}  // namespace detail

template <class L>
concept layer = std::move_constructible<L> &&
    requires(L& l, const L& cl, const shape& s, context<detail::archetype_backend>& ctx,
             const tensor& t, detail::archetype_visitor& v) {
      { L::kind } -> std::convertible_to<std::string_view>;
      { cl.output_shape(s) } -> std::same_as<shape>;
      l.setup(ctx, s);
      { l.forward(ctx, t) } -> std::same_as<const tensor&>;
      { l.backward(ctx, t, t) } -> std::same_as<const tensor&>;
      { cl.parameter_count() } -> std::same_as<std::int64_t>;
      l.visit(v);
    };

/// The loss contract: forward(ctx, prediction, target) returns the loss (a mean over the batch)
/// and keeps its gradient with respect to the prediction, which backward(ctx) returns. The target
/// is a tensor (a regression, a GAN's realness) or class indices (an index tensor).
template <class L>
concept loss = requires(L& l, const L& cl, context<detail::archetype_backend>& ctx, const tensor& t,
                        const index_tensor& classes) {
  { L::kind } -> std::convertible_to<std::string_view>;
  { cl.backward(ctx) } -> std::same_as<const tensor&>;
  requires requires { { l.forward(ctx, t, t) } -> std::convertible_to<float>; } ||
               requires { { l.forward(ctx, t, classes) } -> std::convertible_to<float>; };
};

/// Names the offending type in the compiler's "required from here" note, then states the rule.
template <class L>
constexpr bool check_layer() {
  static_assert(layer<L>,
                "hush: this type is not a hush::layer (see 'with L = ...' above). A layer needs "
                "kind, output_shape, setup, forward, backward, parameter_count and visit; "
                "see hush/core/concepts.hpp");
  return true;
}

}  // namespace hush
