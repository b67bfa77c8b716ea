#pragma once
// conv_transpose2d: x (N,C,H,W) -> y (N,K,H',W'), H' = (H-1)·stride - 2·pad + dil·(R-1) + out_pad + 1,
// weight (C, K/groups, R, S) as torch.nn.ConvTranspose2d stores it. It is the adjoint of a
// convolution from y's shape to x's: forward is that convolution's input gradient, backward its
// forward, so it reuses the conv2d kernels of every backend.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/backend/provides.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/kernel_state.hpp"
#include "hush/core/parameter.hpp"
#include "hush/layers/conv.hpp"  // detail::describe_conv
#include "hush/layers/init.hpp"

namespace hush {

/// torch.nn.ConvTranspose2d: x (N,C,H,W) -> y (N,K,H',W'), weight (C, K/groups, kernel, kernel) as
/// PyTorch stores it. It runs as the adjoint of a convolution from y's shape to x's, on the conv2d
/// kernels of every backend (its forward is that convolution's input gradient).
struct conv_transpose2d {
  /// conv_transpose2d's settings, as in `conv_transpose2d({.in = 64, .out = 32, .kernel = 4, .stride = 2})`;
  /// the defaults are torch.nn.ConvTranspose2d's. output_padding (0) adds rows and columns on one side,
  /// to pick among the output sizes a stride allows; it must be smaller than stride or dilation.
  struct options {
    std::int64_t in, out, kernel;
    std::int64_t stride = 1, padding = 0, output_padding = 0, dilation = 1, groups = 1;
    bool bias = true;
  };
  static constexpr const char* kind = "conv_transpose2d";
  /// Backward never reads y, so a following activation may overwrite it in place.
  static constexpr bool overwritable_output = true;

  constexpr explicit conv_transpose2d(options o) : opt(o) {}

  constexpr std::int64_t parameter_count() const {
    return opt.in * (opt.out / opt.groups) * opt.kernel * opt.kernel + (opt.bias ? opt.out : 0);
  }

  shape output_shape(shape in) const {
    const auto g = geometry(in);
    return {g.n, g.c, g.h, g.w};
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    geom_ = geometry(in);
    if (weight.allocate(ctx, {opt.in, opt.out / opt.groups, opt.kernel, opt.kernel})) {
      // PyTorch takes fan_in from the weight's second dimension here too.
      const float bound = 1.0f / std::sqrt(float((opt.out / opt.groups) * opt.kernel * opt.kernel));
      init_uniform(ctx, weight.value, ctx.next_stream(), bound);
      if (opt.bias && bias.allocate(ctx, {opt.out})) init_uniform(ctx, bias.value, ctx.next_stream(), bound);
    }
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    if constexpr (stateful<Ctx>) state_ = conv2d_state(ctx.backend, geom_);
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const float* w = ctx[weight.value].data();
    if constexpr (stateful<Ctx>) {
      conv2d_backward_data(ctx.backend, state_, geom_, w, x.data(), ctx[y_].data(), ctx.scratch(conv2d_scratch(ctx.backend, state_, geom_)));
    } else {
      conv2d_backward_data(ctx.backend, geom_, w, x.data(), ctx[y_].data(), ctx.scratch(conv2d_scratch(ctx.backend, geom_)));
    }
    if (opt.bias) add_bias(ctx.backend, geom_.n, geom_.c, geom_.h * geom_.w, ctx[bias.value].data(), ctx[y_].data());
    return ctx[y_];
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    if (opt.bias) sum_into_bias(ctx.backend, geom_.n, geom_.c, geom_.h * geom_.w, dy.data(), ctx[bias.grad].data());
    const float* w = ctx[weight.value].data();
    if constexpr (stateful<Ctx>) {
      float* scratch = ctx.scratch(conv2d_scratch(ctx.backend, state_, geom_));
      conv2d_backward_weight(ctx.backend, state_, geom_, dy.data(), x.data(), ctx[weight.grad].data(), scratch);
      conv2d_forward(ctx.backend, state_, geom_, dy.data(), w, nullptr, nullptr, ctx[dx_].data(), {}, scratch);
    } else {
      float* scratch = ctx.scratch(conv2d_scratch(ctx.backend, geom_));
      conv2d_backward_weight(ctx.backend, geom_, dy.data(), x.data(), ctx[weight.grad].data(), scratch);
      conv2d_forward(ctx.backend, geom_, dy.data(), w, nullptr, nullptr, ctx[dx_].data(), scratch);
    }
    return ctx[dx_];
  }

  template <class V>
  void visit(V&& v) {
    v.parameter("weight", weight);
    if (opt.bias) v.parameter("bias", bias);
  }

  std::string describe() const { return detail::describe_conv(opt, opt.output_padding); }

  options opt;
  parameter weight, bias;

 private:
  /// The convolution whose adjoint this layer is: from y (N,K,H',W') to x (N,C,H,W).
  conv_geometry geometry(shape in) const {
    if (in.rank != 4 || in.c() != opt.in)
      throw shape_error("conv_transpose2d: expected (N, " + std::to_string(opt.in) + ", H, W), got " + in.str());
    if (opt.in % opt.groups || opt.out % opt.groups)
      throw shape_error("conv_transpose2d: groups " + std::to_string(opt.groups) + " must divide in " +
                        std::to_string(opt.in) + " and out " + std::to_string(opt.out));
    if (opt.output_padding >= std::max(opt.stride, opt.dilation))
      throw shape_error("conv_transpose2d: output_padding must be smaller than stride or dilation");
    const auto extent = [&](std::int64_t v) {
      return (v - 1) * opt.stride - 2 * opt.padding + opt.dilation * (opt.kernel - 1) + opt.output_padding + 1;
    };
    conv_geometry g{in.n(), opt.out, extent(in.h()), extent(in.w()), opt.in, opt.kernel, opt.kernel,
                    opt.stride, opt.stride, opt.padding, opt.padding, opt.dilation, opt.dilation, opt.groups};
    if (g.h < 1 || g.w < 1) throw shape_error("conv_transpose2d: input " + in.str() + " gives an empty output");
    g.complete();
    return g;
  }

  template <class Ctx>
  static constexpr bool stateful = provides_conv_state<typename Ctx::backend_type>;

  conv_geometry geom_{};
  kept y_, dx_;
  kernel_state state_;  // the backend's (oneDNN's primitives), made at setup
};

}  // namespace hush
