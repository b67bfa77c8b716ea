#pragma once
// conv2d: x (N,C,H,W) -> y (N,K,P,Q), weight (K, C/groups, R, S) OIHW as PyTorch stores it.
// torch.nn.Conv2d; initialised as PyTorch does: U(-b, b) with b = 1/sqrt(fan_in) for weight
// (kaiming_uniform with a = sqrt(5)) and bias.
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/backend/norm_fold.hpp"
#include "hush/backend/provides.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/kernel_state.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/layout.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/init.hpp"
#include "hush/layers/norm.hpp"

namespace hush {

namespace detail {
/// "32->64, 3x3, stride 2, pad 1" for print() and the structure hash: conv2d and conv_transpose2d.
template <class Options>
std::string describe_conv(const Options& o, std::int64_t output_padding) {
  auto s = std::to_string(o.in) + "->" + std::to_string(o.out) + ", " + std::to_string(o.kernel) + "x" +
           std::to_string(o.kernel);
  if (o.stride != 1) s += ", stride " + std::to_string(o.stride);
  if (o.padding) s += ", pad " + std::to_string(o.padding);
  if (output_padding) s += ", output pad " + std::to_string(output_padding);
  if (o.dilation != 1) s += ", dilation " + std::to_string(o.dilation);
  if (o.groups != 1) s += ", groups " + std::to_string(o.groups);
  return o.bias ? s : s + ", no bias";
}
}  // namespace detail

/// torch.nn.Conv2d: x (N,C,H,W) -> y (N,K,P,Q), weight (K, C/groups, kernel, kernel), initialised
/// as PyTorch does. It can apply the (leaky) ReLU that follows it itself (forward_then) and, in
/// inference, fold the batch norm that follows it into its weights (infer_fused).
struct conv2d {
  /// conv2d's settings, as in `conv2d({.in = 3, .out = 64, .kernel = 7, .stride = 2, .padding = 3})`:
  /// the in and out channels and the side of the square kernel are required; stride 1, padding 0,
  /// dilation 1, groups 1 and a bias by default, as in torch.nn.Conv2d.
  struct options {
    std::int64_t in, out, kernel;
    std::int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
    bool bias = true;
  };
  static constexpr const char* kind = "conv2d";
  /// Backward never reads y, so a following activation may overwrite it in place.
  static constexpr bool overwritable_output = true;
  /// Runs the (leaky) ReLU after it (forward_then), and in inference the batch norm and the
  /// activation after it (infer_fused).
  static constexpr bool applies_activation = true, absorbs_norm = true;
  /// Reads the cpu backend's blocked layout, and writes it for a consumer that takes it
  /// (core/layout.hpp).
  static constexpr bool prefers_blocked(bool) { return true; }

  constexpr explicit conv2d(options o) : opt(o) {}

  constexpr std::int64_t parameter_count() const {
    return opt.out * (opt.in / opt.groups) * opt.kernel * opt.kernel + (opt.bias ? opt.out : 0);
  }

  shape output_shape(shape in) const { return out_shape(in); }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    geom_ = geometry(in);
    geom_.complete();
    if (weight.allocate(ctx, {opt.out, opt.in / opt.groups, opt.kernel, opt.kernel})) {
      const float bound = 1.0f / std::sqrt(float((opt.in / opt.groups) * opt.kernel * opt.kernel));
      init_uniform(ctx, weight.value, ctx.next_stream(), bound);
      if (opt.bias && bias.allocate(ctx, {opt.out})) init_uniform(ctx, bias.value, ctx.next_stream(), bound);
    }
    ctx.keep(y_, out_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    in_layout_ = layout::nchw, layouts_ = {};  // until a graph plans otherwise
    if constexpr (provides_conv_state<typename Ctx::backend_type>) state_ = conv2d_state(ctx.backend, geom_);
  }

  /// x and y are blocked only where the backend's kernels read and write that layout for this
  /// geometry (oneDNN took it), and y only when its channels fill whole blocks.
  template <class Ctx>
  layout plan_layout(Ctx& ctx, layout in, bool consumer_takes_blocked) {
    in_layout_ = in, layouts_ = {};
    if constexpr (provides_blocked_layout<typename Ctx::backend_type>) {
      if (conv2d_keeps_layouts(ctx.backend, state_))
        layouts_ = {in == layout::blocked, consumer_takes_blocked && blocked_layout_fits(ctx.backend, opt.out)};
    } else if (in == layout::blocked) {
      throw layout_error("conv2d: a blocked input on a backend without the blocked layout");
    }
    return layouts_.y ? layout::blocked : layout::nchw;
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const bool inference = ctx.mode == mode::inference;
    run(ctx, x, ctx[weight.value].data(), bias_or_null(ctx), ctx.inference_version, nullptr, inference);
    return ctx[y_];
  }

  /// dy comes in y's layout and dx leaves in x's (core/layout.hpp): oneDNN reads and writes the
  /// blocked operands as they are; where it declined the geometry, x was blocked and is reordered.
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x_in, const tensor_of<Ctx>& dy) {
    float* scratch = ctx.scratch(scratch_floats(ctx));
    expect_layout(dy, layouts_.y ? layout::blocked : layout::nchw, "conv2d: dy");
    const auto& x = layouts_.x ? x_in : as_nchw(ctx, x_in, x_nchw_);
    if (opt.bias) add_bias_gradient(ctx, dy);
    if constexpr (provides_conv_state<typename Ctx::backend_type>) {  // both passes in one call (sharing dY's reorder)
      conv2d_backward(ctx.backend, state_, geom_, x.data(), ctx[weight.value].data(), dy.data(), ctx[dx_].data(),
                      ctx[weight.grad].data(), layouts_, scratch);
    } else {
      conv2d_backward_weight(ctx.backend, geom_, x.data(), dy.data(), ctx[weight.grad].data(), scratch);
      conv2d_backward_data(ctx.backend, geom_, ctx[weight.value].data(), dy.data(), ctx[dx_].data(), scratch);
    }
    ctx[dx_].set_layout(layouts_.x ? layout::blocked : layout::nchw);
    auto& dx = ctx[dx_];
    return x_in.layout() == dx.layout() ? dx : in_layout(ctx, dx, x_in.layout(), dx_blocked_);
  }

  /// y = act(conv(x)) with the (leaky) ReLU after this layer applied as the kernel writes y,
  /// into this layer's buffer (the activation's own stays untouched, and its backward reads the
  /// sign from this one). Any mode.
  template <class Ctx, class Act>
    requires requires(const Act& a) { a.as_fused(); }
  const tensor_of<Ctx>& forward_then(Ctx& ctx, const tensor_of<Ctx>& x, const Act& act) {
    const auto f = act.as_fused();
    run(ctx, x, ctx[weight.value].data(), bias_or_null(ctx), 0, &f, false);
    return ctx[y_];
  }

  /// Inference with the batch norm that follows folded into the weights and bias (and the
  /// activation after it, when given, applied in the same kernel): y = act?(bn(conv(x))) in one
  /// pass, into this layer's output buffer; the norm's and the activation's buffers stay
  /// untouched. Folded again when ctx.inference_version changed (model::infer()).
  template <class Ctx, std::derived_from<batch_norm2d> Norm>
  const tensor_of<Ctx>& infer_fused(Ctx& ctx, const tensor_of<Ctx>& x, const Norm& bn) {
    return infer_folded(ctx, x, bn, nullptr);
  }
  template <class Ctx, std::derived_from<batch_norm2d> Norm, class Act>
    requires requires(const Act& a) { a.as_fused(); }
  const tensor_of<Ctx>& infer_fused(Ctx& ctx, const tensor_of<Ctx>& x, const Norm& bn, const Act& act) {
    const auto f = act.as_fused();
    return infer_folded(ctx, x, bn, &f);
  }
  /// Whether infer_fused_into can run: the backend keeps oneDNN's state for this geometry.
  template <class Ctx>
  bool accumulates(const Ctx& ctx) const {
    if constexpr (provides_conv_state<typename Ctx::backend_type>) return conv2d_keeps_layouts(ctx.backend, state_);
    else return (void)ctx, false;
  }
  /// Inference into `dst`, which already holds a residual's shortcut: dst = act?(bn(conv(x)) + dst)
  /// in one kernel, the batch norm folded as in infer_fused, the sum and the activation oneDNN
  /// post-ops. dst has this layer's output shape and layout; this layer's own output is untouched.
  /// Only where accumulates(ctx).
  template <class Ctx, std::derived_from<batch_norm2d> Norm>
  void infer_fused_into(Ctx& ctx, const tensor_of<Ctx>& x_in, const Norm& bn, const ops::fused_relu* act, tensor_of<Ctx>& dst) {
    if (dst.shape() != ctx[y_].shape() || dst.layout() != (layouts_.y ? layout::blocked : layout::nchw))
      throw shape_error("conv2d: a sum into " + dst.shape().str() + " for an output " + ctx[y_].shape().str() +
                        " (or in another layout)");
    expect_layout(x_in, in_layout_, "conv2d: x");
    if constexpr (provides_conv_state<typename Ctx::backend_type>) {
      const auto& x = layouts_.x ? x_in : as_nchw(ctx, x_in, x_nchw_);  // as run() reads it
      const float* w = folded_weights(ctx, bn, act, true);  // first: it may fold the bias too
      conv2d_infer_accumulate(ctx.backend, state_, geom_, x.data(), w, folded_at_, ctx[folded_bias_].data(), act,
                              dst.data(), layouts_);
      free_folded_weights(ctx);
    } else {
      throw error("conv2d: infer_fused_into on a backend without a convolution state");
    }
  }

  /// Inference with the activation after this layer applied in the same kernel.
  template <class Ctx, class Act>
    requires requires(const Act& a) { a.as_fused(); }
  const tensor_of<Ctx>& infer_fused(Ctx& ctx, const tensor_of<Ctx>& x, const Act& act) {
    const auto f = act.as_fused();
    run(ctx, x, ctx[weight.value].data(), bias_or_null(ctx), ctx.inference_version, &f, true);
    return ctx[y_];
  }

  template <class V>
  void visit(V&& v) {
    v.parameter("weight", weight);
    if (opt.bias) v.parameter("bias", bias);
  }

  std::string describe() const { return detail::describe_conv(opt, 0); }

  options opt;
  parameter weight, bias;

 private:
  conv_geometry geometry(shape in) const {
    if (in.rank != 4 || in.c() != opt.in)
      throw shape_error("conv2d: expected (N, " + std::to_string(opt.in) + ", H, W), got " + in.str());
    if (opt.in % opt.groups || opt.out % opt.groups)
      throw shape_error("conv2d: groups " + std::to_string(opt.groups) + " must divide in " +
                        std::to_string(opt.in) + " and out " + std::to_string(opt.out));
    conv_geometry g{in.n(), in.c(), in.h(), in.w(), opt.out, opt.kernel, opt.kernel,
                    opt.stride, opt.stride, opt.padding, opt.padding, opt.dilation, opt.dilation, opt.groups};
    auto c = g;
    c.complete();
    if (c.p < 1 || c.q < 1)
      throw shape_error("conv2d: a " + std::to_string(opt.kernel) + "x" + std::to_string(opt.kernel) +
                        " kernel does not fit input " + in.str());
    return g;
  }
  shape out_shape(shape in) const {
    auto g = geometry(in);
    g.complete();
    return {g.n, g.k, g.p, g.q};
  }

  /// bn folded into the weights, folded again when they changed since (model::infer() moves
  /// ctx.inference_version) or were never folded. Where the backend keeps its own copy of the
  /// weights it is given (oneDNN's inference state), free_folded_weights frees them once it has
  /// read them, so that inference holds two copies of the weights, not three; then this is null
  /// ("the copy you hold") unless the kernel about to run holds none of this version (one made
  /// for a new batch size), for which they are folded again. Touches no planned buffer: a pass's
  /// buffer events are the same whichever way it goes.
  template <class Ctx, class Norm>
  const float* folded_weights(Ctx& ctx, const Norm& bn, const ops::fused_relu* act, bool accumulate) {
    auto& fw = ctx[folded_weight_];
    if (folded_at_ != ctx.inference_version || ctx[folded_bias_].numel() != opt.out) {
      fold(ctx, bn, ctx.inference_version, fw);
    } else if constexpr (provides_conv_state<typename Ctx::backend_type>) {
      if (fw.empty() && !conv2d_infer_holds_weights(ctx.backend, state_, folded_at_, true, act, layouts_, accumulate))
        fold(ctx, bn, folded_at_, fw);
    }
    return fw.empty() ? nullptr : fw.data();
  }
  template <class Ctx>
  void free_folded_weights([[maybe_unused]] Ctx& ctx) {
    if constexpr (provides_conv_state<typename Ctx::backend_type>) {
      if (conv2d_keeps_inference_weights(ctx.backend, state_)) ctx[folded_weight_] = tensor_of<Ctx>{};
    }
  }
  template <class Ctx, class Norm>
  const tensor_of<Ctx>& infer_folded(Ctx& ctx, const tensor_of<Ctx>& x, const Norm& bn, const ops::fused_relu* act) {
    const float* w = folded_weights(ctx, bn, act, false);  // first: it may fold the bias too
    run(ctx, x, w, ctx[folded_bias_].data(), folded_at_, act, true);
    free_folded_weights(ctx);
    return ctx[y_];
  }

  template <class Ctx>
  const float* bias_or_null(Ctx& ctx) const { return opt.bias ? ctx[bias.value].data() : nullptr; }

  /// bias.grad += Σ dy over samples and positions, dy in y's layout.
  template <class Ctx>
  void add_bias_gradient(Ctx& ctx, const tensor_of<Ctx>& dy) {
    const auto positions = geom_.p * geom_.q;
    if constexpr (provides_blocked_layout<typename Ctx::backend_type>) {
      if (layouts_.y) return sum_into_bias_blocked(ctx.backend, geom_.n, geom_.k, positions, dy.data(), ctx[bias.grad].data());
    }
    sum_into_bias(ctx.backend, geom_.n, geom_.k, positions, dy.data(), ctx[bias.grad].data());
  }

  /// y = act?(conv(x, w) + b) on the fastest path the backend has: oneDNN's inference kernels
  /// (weights kept in its layout while `version` holds; inference only) or its forward kernels
  /// with the activation as a post-op; else the backend's convolution with the bias and the
  /// activation (one cuDNN call on CUDA, one pass after the convolution on Thrust's OpenMP system).
  /// x may come in the backend's blocked layout, and y is written in it when the consumer takes
  /// it (planned at setup: plan_layout); where oneDNN declines the geometry, x is reordered to
  /// NCHW first.
  /// In inference `w` may be null where the kernel holds the weights (folded_weights).
  template <class Ctx>
  void run(Ctx& ctx, const tensor_of<Ctx>& x_in, const float* w, const float* b, std::uint64_t version,
           const ops::fused_relu* act, bool inference) {
    expect_layout(x_in, in_layout_, "conv2d: x");
    float* scratch = ctx.scratch(scratch_floats(ctx));
    ctx[y_].set_layout(layouts_.y ? layout::blocked : layout::nchw);
    if constexpr (provides_conv_state<typename Ctx::backend_type>) {
      const auto& x = layouts_.x ? x_in : as_nchw(ctx, x_in, x_nchw_);  // NCHW where oneDNN declined
      if (inference) return conv2d_infer(ctx.backend, state_, geom_, x.data(), w, version, b, act, ctx[y_].data(), layouts_, scratch);
      return conv2d_forward(ctx.backend, state_, geom_, x.data(), w, b, act, ctx[y_].data(), layouts_, scratch);
    } else {
      (void)version, (void)inference;
      conv2d_forward(ctx.backend, geom_, x_in.data(), w, b, act, ctx[y_].data(), scratch);
    }
  }

  template <class Ctx>
  std::int64_t scratch_floats(Ctx& ctx) const {
    if constexpr (provides_conv_state<typename Ctx::backend_type>) return conv2d_scratch(ctx.backend, state_, geom_);
    else return conv2d_scratch(ctx.backend, geom_);
  }

  /// w' = w·γ/√(σ²+ε) per output channel, b' = β + (b − μ)·γ/√(σ²+ε), from the running
  /// statistics, into `fw` and this layer's folded bias: a backend kernel, since the weights may
  /// live on the device.
  template <class Ctx>
  void fold(Ctx& ctx, const batch_norm2d& bn, std::uint64_t epoch, tensor_of<Ctx>& fw) {
    const auto& w = ctx[weight.value];
    auto& fb = ctx[folded_bias_];
    fw.resize(w.shape());
    fb.resize({opt.out});
    batch_norm_fold(ctx.backend, backend::fold_operands{opt.out, w.numel() / opt.out, w.data(), bias_or_null(ctx),
                                                        ctx[bn.weight.value].data(), ctx[bn.bias.value].data(),
                                                        ctx[bn.running_mean].data(), ctx[bn.running_var].data(),
                                                        bn.opt.eps, fw.data(), fb.data()});
    folded_at_ = epoch;
  }

  conv_geometry geom_{};
  kept y_, dx_;
  layout in_layout_ = layout::nchw;  // planned at setup
  conv_layouts layouts_{};            // which operands oneDNN reads and writes blocked
  kept x_nchw_, dx_blocked_;       // a blocked x in NCHW, and dx back in x's layout, where oneDNN declined
  kept folded_weight_, folded_bias_;  // the weight freed where the backend keeps its own copy
  std::uint64_t folded_at_ = 0;
  kernel_state state_;  // the backend's (oneDNN's primitives and inference weights), made at setup
};

}  // namespace hush
