#pragma once
// residual<F, S = identity, Post = identity>: y = Post(F(x) + S(x)) (He et al. 2016). S is the
// identity or a projection (a strided 1×1 convolution and batch norm in ResNet); Post is what
// follows the sum (ReLU in ResNet's blocks). The gradient fans out to both paths and their input
// gradients are summed here. The main path's parameters are named without a prefix,
// as torchvision names a block's conv1, bn1, ...; the shortcut's under its name ("downsample"
// with named<"downsample", ...>, otherwise "shortcut").
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "hush/backend/provides.hpp"
#include "hush/backend/unary_ops.hpp"
#include "hush/core/concepts.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/fusion.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/visit.hpp"
#include "hush/layers/identity.hpp"

namespace hush {

/// `residual<F, S, Post>`: y = Post(F(x) + S(x)), a ResNet block's main path, shortcut (identity
/// by default, or a projection) and what follows the sum (identity by default, ReLU in ResNet).
/// Backward sends the gradient down both paths and sums their input gradients.
template <class F, class S = identity, class Post = identity>
struct residual {
  static_assert(check_layer<F>() && check_layer<S>() && check_layer<Post>());
  static constexpr const char* kind = "residual";
  using main_type = F;
  using shortcut_type = S;

  constexpr residual() requires(std::default_initializable<F> && std::default_initializable<S> &&
                                std::default_initializable<Post>) = default;
  constexpr explicit residual(F f, S s = S{}, Post p = Post{})
      : main(std::move(f)), shortcut(std::move(s)), post(std::move(p)) {}

  template <class Fn>
  constexpr void for_each_child(Fn&& f, shape in = {}) {
    f(main_name(), main, in);
    f(shortcut_name(), shortcut, in);
    f("post", post, in.empty() ? in : main.output_shape(in));
  }
  template <class Fn>
  constexpr void for_each_child(Fn&& f, shape in = {}) const {
    f(main_name(), main, in);
    f(shortcut_name(), shortcut, in);
    f("post", post, in.empty() ? in : main.output_shape(in));
  }

  constexpr std::int64_t parameter_count() const {
    return main.parameter_count() + shortcut.parameter_count() + post.parameter_count();
  }

  shape output_shape(shape in) const {
    const auto a = within(main_name(), [&] { return main.output_shape(in); });
    const auto b = within(shortcut_name(), [&] { return shortcut.output_shape(in); });
    if (a != b)
      throw shape_error("residual: the main path gives " + a.str() + " but the shortcut gives " + b.str() +
                        " (a projection shortcut would match them)");
    return within("post", [&] { return post.output_shape(a); });
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    output_shape(in);
    within(main_name(), [&] { main.setup(ctx, in); });
    within(shortcut_name(), [&] { shortcut.setup(ctx, in); });
    ctx.keep(sum_, main.output_shape(in), buffer_role::output);  // what Post reads
    ctx[sum_].set_layout(layout::nchw);
    within("post", [&] { post.setup(ctx, ctx[sum_].shape()); });
    ctx.keep(dx_, in, buffer_role::input_gradient);
    main_in_ = shortcut_in_ = main_out_ = shortcut_out_ = post_in_ = {};  // all NCHW until planned
    sum_in_conv_ = false;
  }

  /// Both paths read x as it comes. Their outputs are summed in the layout they share, or in
  /// NCHW when they differ (an identity shortcut passes x on as it came, a projection may not).
  static constexpr bool prefers_blocked(bool consumer_takes_blocked) {
    const bool sum = hush::prefers_blocked<Post>(consumer_takes_blocked);
    return hush::prefers_blocked<F>(sum) && hush::prefers_blocked<S>(sum);
  }
  template <class Ctx>
  layout plan_layout(Ctx& ctx, layout in, bool consumer_takes_blocked) {
    const bool wanted = hush::prefers_blocked<Post>(consumer_takes_blocked);
    const auto a = within(main_name(), [&] { return plan_child(ctx, main, main_in_, in, wanted); });
    const auto b = within(shortcut_name(), [&] { return plan_child(ctx, shortcut, shortcut_in_, in, wanted); });
    const auto sum = a == b ? a : layout::nchw;
    main_out_.plan(a, sum), shortcut_out_.plan(b, sum);
    ctx[sum_].set_layout(sum);
    const auto out = within("post", [&] { return plan_child(ctx, post, post_in_, sum, consumer_takes_blocked); });
    sum_in_conv_ = a == b && !post_in_.converts();
    return out;
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    if constexpr (sum_fusable && provides_conv_state<typename Ctx::backend_type>) {
      if (sums_in_conv(ctx)) return forward_summing_in_conv(ctx, x);
    }
    const tensor_of<Ctx>& a = within(main_name, [&]() -> const tensor_of<Ctx>& {
      xa_ = &main_in_.forward(ctx, x);
      return main_out_.forward(ctx, main.forward(ctx, ctx[xa_]));
    });
    const tensor_of<Ctx>& b = within(shortcut_name, [&]() -> const tensor_of<Ctx>& {
      xb_ = &shortcut_in_.forward(ctx, x);
      return shortcut_out_.forward(ctx, shortcut.forward(ctx, ctx[xb_]));
    });
    add(ctx.backend, ctx[sum_].numel(), a.data(), b.data(), ctx[sum_].data());
    return within("post", [&]() -> const tensor_of<Ctx>& {
      post_x_ = &post_in_.forward(ctx, ctx[sum_]);
      if constexpr (fusion::activation<Post>)  // a flag, not a requires probe: those crash nvcc's front end
        if (&ctx[post_x_] == &ctx[sum_] && post.can_run_in_place()) return post.forward_in_place(ctx, ctx[sum_]);  // backward reads sum_'s sign only
      return post.forward(ctx, ctx[post_x_]);
    });
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const tensor_of<Ctx>& dsum = within("post", [&]() -> const tensor_of<Ctx>& {
      return post_in_.backward(ctx, post.backward(ctx, ctx[post_x_], dy));
    });
    // Each path gets the gradient in its output's layout, and both give dx in x's.
    const tensor_of<Ctx>& da = within(main_name, [&]() -> const tensor_of<Ctx>& {
      return main_in_.backward(ctx, main.backward(ctx, ctx[xa_], main_out_.backward(ctx, dsum)));
    });
    const tensor_of<Ctx>& db = within(shortcut_name, [&]() -> const tensor_of<Ctx>& {
      return shortcut_in_.backward(ctx, shortcut.backward(ctx, ctx[xb_], shortcut_out_.backward(ctx, dsum)));
    });
    add(ctx.backend, ctx[dx_].numel(), da.data(), db.data(), ctx[dx_].data());
    ctx[dx_].set_layout(x.layout());
    return ctx[dx_];
  }

  /// Whether a forward in ctx's mode sums inside the main path's last convolution (inference, a
  /// main path ending in a convolution and its batch norm, Post a ReLU or nothing, the two paths
  /// in one layout, oneDNN running that convolution); else the sum is a pass of its own.
  template <class Ctx>
  bool sums_in_conv(const Ctx& ctx) const {
    if constexpr (sum_fusable && provides_conv_state<typename Ctx::backend_type>) {
      return sum_in_conv_ && post_in_kernel() && main.can_forward_into(ctx);
    } else {
      return (void)ctx, false;
    }
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
  }

  F main;
  S shortcut;
  Post post;

 private:
  static std::string main_name() {
    if constexpr (requires { F::name; }) return std::string(F::name);
    else return "";
  }
  static std::string shortcut_name() {
    if constexpr (requires { S::name; }) return std::string(S::name);
    else return "shortcut";
  }

  /// Inference with the sum inside the main path's last convolution (a oneDNN sum post-op), and
  /// Post (a ReLU, or nothing) applied by that kernel too: the shortcut's result is copied into
  /// the sum's buffer, and the convolution adds its own to it, where the separate sum read both
  /// results and wrote a third buffer, and the ReLU read and wrote it again (ONNX Runtime fuses
  /// the same). Planned when the two paths give the same layout and Post reads it as it is.
  static constexpr bool sum_fusable = [] {
    if constexpr (requires { F::ends_with_folded_conv; }) {
      return F::ends_with_folded_conv && (std::is_same_v<Post, identity> || fusion::activation<Post>);
    } else {
      return false;
    }
  }();
  bool post_in_kernel() const {
    if constexpr (std::is_same_v<Post, identity>) return true;
    else return post.can_run_in_place();  // a leaky ReLU of positive slope, a ReLU
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward_summing_in_conv(Ctx& ctx, const tensor_of<Ctx>& x) {
    const ops::fused_relu* act = nullptr;
    ops::fused_relu f{};
    if constexpr (!std::is_same_v<Post, identity>) f = post.as_fused(), act = &f;
    const tensor_of<Ctx>& b = within(shortcut_name, [&]() -> const tensor_of<Ctx>& {
      xb_ = &shortcut_in_.forward(ctx, x);
      return shortcut_out_.forward(ctx, shortcut.forward(ctx, ctx[xb_]));
    });
    auto& sum = ctx[sum_];
    copy_blocks(ctx.backend, 1, sum.numel(), b.data(), 0, sum.data(), 0);
    within(main_name, [&] {
      xa_ = &main_in_.forward(ctx, x);
      main.forward_into(ctx, ctx[xa_], sum, act);
    });
    post_x_ = &ctx[sum_];
    return ctx[sum_];
  }

  kept sum_, dx_;
  bool sum_in_conv_ = false;  // planned at setup: forward_summing_in_conv may run
  layout_adapter main_in_, shortcut_in_, main_out_, shortcut_out_, post_in_;  // the edges around the sum
  tensor_ptr xa_, xb_, post_x_;  // the paths' and Post's inputs
};

}  // namespace hush
