#pragma once
// residual<F, S = identity, Post = identity>: y = Post(F(x) + S(x)) (He et al. 2016). S is the
// identity or a projection (a strided 1×1 convolution and batch norm in ResNet); Post is what
// follows the sum (ReLU in ResNet's blocks). The gradient fans out to both paths and their input
// gradients are summed here. The main path's parameters are named without a prefix,
// as torchvision names a block's conv1, bn1, ...; the shortcut's under its name ("downsample"
// with named<"downsample", ...>, otherwise "shortcut").
#include <cstdint>
#include <string>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/visit.hpp"
#include "hush/layers/identity.hpp"

namespace hush {

template <class F, class S = identity, class Post = identity>
struct residual {
  static_assert(check_layer<F>() && check_layer<S>() && check_layer<Post>());
  static constexpr const char* kind = "residual";
  using main_type = F;
  using shortcut_type = S;
  static constexpr bool takes_blocked = reads_blocked<F> && reads_blocked<S>;

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
    sum_.resize(main.output_shape(in));
    within("post", [&] { post.setup(ctx, sum_.shape()); });
    dx_.resize(in);
  }

  template <class Ctx>
  const tensor& forward(Ctx& ctx, const tensor& x) {
    // Both paths' outputs go through the sum and Post to this node's consumer. They can differ in
    // layout (an identity shortcut passes x on as it came): then both in NCHW.
    const bool consumer = keeps_layout<Post> ? ctx.consumer_takes_blocked : reads_blocked<Post>;
    ctx.consumer_takes_blocked = consumer;
    const tensor* a = &main.forward(ctx, x);
    ctx.consumer_takes_blocked = consumer;
    const tensor* b = &shortcut.forward(ctx, x);
    a_layout_ = a->layout(), b_layout_ = b->layout();
    const bool blocked = a_layout_ == layout::blocked && b_layout_ == layout::blocked && consumer;
    if (!blocked) a = &as_nchw(ctx, *a, plain_a_), b = &as_nchw(ctx, *b, plain_b_);
    add(ctx.backend, sum_.numel(), a->data(), b->data(), sum_.data());
    sum_.set_layout(blocked ? layout::blocked : layout::nchw);
    if constexpr (requires { post.forward_in_place(ctx, sum_); })
      if (post.can_run_in_place()) return post.forward_in_place(ctx, sum_);  // backward reads sum_'s sign only
    return post.forward(ctx, sum_);
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    const tensor& dsum = post.backward(ctx, sum_, dy);
    // Each path gets the gradient in its output's layout, and both give dx in x's.
    const tensor& da = main.backward(ctx, x, in_layout(ctx, dsum, a_layout_, plain_a_));
    const tensor& db = shortcut.backward(ctx, x, in_layout(ctx, dsum, b_layout_, plain_b_));
    add(ctx.backend, dx_.numel(), da.data(), db.data(), dx_.data());
    dx_.set_layout(x.layout());
    return dx_;
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

  tensor sum_, dx_;
  tensor plain_a_, plain_b_;  // a path's output (or gradient) in the other layout, when they differ
  layout a_layout_ = layout::nchw, b_layout_ = layout::nchw;
};

}  // namespace hush
