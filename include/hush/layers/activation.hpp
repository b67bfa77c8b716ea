#pragma once
// Element-wise activations: x (any shape) -> y (same shape). One template, one functor per
// function (backend/unary_ops.hpp); the named structs are what users write.
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

#include "hush/backend/unary_ops.hpp"
#include "hush/core/context.hpp"
#include "hush/core/layout.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// An element-wise activation layer for the functor `Op` (backend/unary_ops.hpp): x (any shape,
/// any layout) -> y = Op(x) (same shape and layout). Users write relu, leaky_relu, tanh, sigmoid,
/// scale or gelu, which derive from it, rather than `activation<Op>` itself.
template <class Op>
struct activation {
  /// Element-wise, whatever the order of the elements: any layout in, the same layout out
  /// (core/layout.hpp).
  static constexpr bool prefers_blocked(bool consumer_takes_blocked) { return consumer_takes_blocked; }
  template <class Ctx>
  layout plan_layout(Ctx&, layout in, bool) {
    return in;
  }

  constexpr activation() = default;
  constexpr explicit activation(Op o) : op(o) {}

  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const { return in; }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, in, buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    unary_forward(ctx.backend, op, x.numel(), x.data(), ctx[y_].data());
    ctx[y_].set_layout(x.layout());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    unary_backward(ctx.backend, op, x.numel(), x.data(), ctx[y_].data(), dy.data(), ctx[dx_].data());
    ctx[dx_].set_layout(dy.layout());
    return ctx[dx_];
  }

  /// Whether y may be written over x: when the op keeps the sign of its input and its gradient
  /// depends on nothing else (ReLU, leaky ReLU with a positive slope), backward reading the
  /// overwritten x still sees the right sign. Saves this layer's output buffer and a stream.
  bool can_run_in_place() const {
    if constexpr (requires { op.slope; }) return op.slope > 0.0f;
    else return std::is_same_v<Op, ops::relu>;
  }
  /// This activation as a kernel's epilogue: the slope of a ReLU (0) or leaky ReLU.
  hush::ops::fused_relu as_fused() const
    requires(std::is_same_v<Op, ops::relu> || std::is_same_v<Op, ops::leaky_relu>)
  {
    if constexpr (requires { op.slope; }) return {op.slope};
    else return {0.0f};
  }
  /// y = f(x) into x's own buffer (requires can_run_in_place()); backward then gets that buffer
  /// as its x.
  template <class Ctx>
  const tensor_of<Ctx>& forward_in_place(Ctx& ctx, tensor_of<Ctx>& x) {
    unary_forward(ctx.backend, op, x.numel(), x.data(), x.data());
    return x;
  }
  template <class V>
  void visit(V&&) {}

  Op op{};

 private:
  kept y_, dx_;
};

/// torch.nn.ReLU
struct relu : activation<ops::relu> {
  static constexpr const char* kind = "relu";
  static constexpr bool fusable_activation = true;  // in place, or applied by the layer before it
};
/// torch.nn.LeakyReLU(negative_slope)
struct leaky_relu : activation<ops::leaky_relu> {
  static constexpr const char* kind = "leaky_relu";
  static constexpr bool fusable_activation = true;  // when the slope is positive (can_run_in_place)
  constexpr explicit leaky_relu(float slope = 0.01f) : activation({slope}) {}
};
/// torch.nn.Tanh
struct tanh : activation<ops::tanh> {
  static constexpr const char* kind = "tanh";
};
/// torch.nn.Sigmoid
struct sigmoid : activation<ops::sigmoid> {
  static constexpr const char* kind = "sigmoid";
};
/// y = factor·x, a constant gain (torch: `x * factor`); in the structure hash with its factor.
struct scale : activation<ops::scale> {
  static constexpr const char* kind = "scale";
  constexpr explicit scale(float factor) : activation({factor}) {}
  std::string describe() const {  // snprintf: GCC 12 misreports "x" + std::string (PR 105329)
    char text[32];
    std::snprintf(text, sizeof text, "x%g", double(op.factor));
    return text;
  }
};
/// torch.nn.GELU() (exact, erf form)
struct gelu : activation<ops::gelu> {
  static constexpr const char* kind = "gelu";
};

}  // namespace hush
