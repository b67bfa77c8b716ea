#pragma once
// seq<Ls...>: y = L_n(...L_2(L_1(x))). A flat pack: forward is a left fold, backward the reversed
// fold, and each child's input is the previous child's output, which that child still holds.
// Two plans are made at setup: which neighbours run as one kernel (graph/fusion.hpp: an
// activation inside the layer before it; in inference a convolution absorbing its batch norm),
// and which layout each child's output has (core/layout.hpp: an adapter on each edge converts
// only where a producer writes blocked for a reader that takes NCHW).
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "hush/backend/unary_ops.hpp"
#include "hush/core/concepts.hpp"
#include "hush/core/error.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/fusion.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/tuple_n.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

/// `seq<Ls...>`: layers in order, each reading the previous one's output, as torch.nn.Sequential;
/// backward runs them in reverse. Neighbours may run as one kernel (an activation inside the layer
/// before it; in inference a batch norm folded into its convolution).
template <class... Ls>
struct seq {
  static_assert(sizeof...(Ls) > 0, "hush::seq: needs at least one layer");
  static_assert((check_layer<Ls>() && ...));
  static constexpr const char* kind = "seq";
  static constexpr std::size_t size = sizeof...(Ls);

  constexpr seq() requires(std::default_initializable<Ls> && ...) = default;
  constexpr explicit seq(Ls... ls) : layers(std::move(ls)...) {}

  /// The i-th child.
  template <std::size_t I>
  constexpr auto& get() { return std::get<I>(layers); }
  template <std::size_t I>
  constexpr const auto& get() const { return std::get<I>(layers); }

  /// f(name, child, child's input shape) for each child in order; shapes are propagated only
  /// when `in` is not empty.
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    each([&]<std::size_t I>(auto& child) {
      f(name<I>(), child, in);
      if (!in.empty()) in = child.output_shape(in);
    });
  }
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) const {
    const_cast<seq*>(this)->for_each_child(
        [&](const std::string& name, const auto& child, shape s) { f(name, child, s); }, in);
  }

  constexpr std::int64_t parameter_count() const {
    std::int64_t n = 0;
    std::apply([&](const auto&... l) { ((n += l.parameter_count()), ...); }, layers);
    return n;
  }

  shape output_shape(shape in) const {
    const_cast<seq*>(this)->each([&]<std::size_t I>(auto& child) {
      in = within(name<I>(), [&] { return child.output_shape(in); });
    });
    return in;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    edges_ = {};  // all NCHW until planned
    each([&]<std::size_t I>(auto& child) {
      within(name<I>(), [&] { child.setup(ctx, in); });
      in = child.output_shape(in);
    });
    steps_ = fusion::plan(layers, mode::train);
    inference_steps_ = fusion::plan(layers, mode::inference);
  }

  /// Plans the children in order: each one's input layout is what the one before it writes.
  static constexpr bool prefers_blocked(bool consumer_takes_blocked) { return wants<0>(consumer_takes_blocked); }
  template <class Ctx>
  layout plan_layout(Ctx& ctx, layout in, bool consumer_takes_blocked) {
    each([&]<std::size_t I>(auto& child) {
      in = within(name<I>(), [&] { return plan_child(ctx, child, std::get<I>(edges_), in, wants<I + 1>(consumer_takes_blocked)); });
    });
    return in;
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto& steps = ctx.mode == mode::inference ? inference_steps_ : steps_;
    std::size_t last = size - 1;  // the last child that runs a step of its own
    while (steps[last] == fusion::step::fused) --last;
    const tensor_of<Ctx>* cur = &x;
    each([&]<std::size_t I>(auto&) { cur = step_forward<I>(ctx, steps[I], cur, I < last); });
    return *cur;
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    if (ctx.mode == mode::inference)
      throw error("seq: backward after an inference-mode forward (its layers may be fused); use train or eval mode");
    (void)x;  // each child's input was kept by forward
    const tensor_of<Ctx>* grad = &dy;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((grad = &within([] { return name<size - 1 - I>(); },
                       [&]() -> const tensor_of<Ctx>& {
                         constexpr std::size_t j = size - 1 - I;
                         if (steps_[j] == fusion::step::fused) return *grad;  // ran inside child j - 1's step
                         ctx.begin_call({grad});
                         return ctx.end_call(backward_child<j>(ctx, *grad), j > 0);
                       })),
       ...);
    }(std::make_index_sequence<size>{});
    return *grad;
  }

  /// Whether the last two children are a convolution and the batch norm it folds in inference:
  /// then forward_into can have that convolution add its result to a buffer (graph/residual.hpp).
  static constexpr bool ends_with_folded_conv = [] {
    if constexpr (size < 2) return false;
    else return fusion::absorbs_norm<std::tuple_element_t<size - 2, std::tuple<Ls...>>> &&
                fusion::batch_norm<std::tuple_element_t<size - 1, std::tuple<Ls...>>>;
  }();
  /// Whether forward_into runs in this pass: inference, and the backend keeps oneDNN's state for
  /// the last convolution.
  template <class Ctx>
  bool can_forward_into(const Ctx& ctx) const {
    if constexpr (!ends_with_folded_conv) return (void)ctx, false;
    else return ctx.mode == mode::inference && inference_steps_[size - 2] == fusion::step::absorbs_next &&
                std::get<size - 2>(layers).accumulates(ctx);
  }
  /// Inference, where can_forward_into: dst = act?(this seq's output + dst), the last convolution
  /// adding its folded result to dst (which holds what it is summed with) in its own kernel.
  template <class Ctx>
  const tensor_of<Ctx>& forward_into(Ctx& ctx, const tensor_of<Ctx>& x, tensor_of<Ctx>& dst, const ops::fused_relu* act)
    requires(ends_with_folded_conv)
  {
    const auto& steps = inference_steps_;
    const tensor_of<Ctx>* cur = &x;
    each([&]<std::size_t I>(auto& child) {
      if constexpr (I + 2 < size) {  // the children before the convolution, as forward() runs them
        cur = step_forward<I>(ctx, steps[I], cur, true);
      } else if constexpr (I + 2 == size) {  // the convolution, with the batch norm after it
        cur = &within([] { return name<I>(); }, [&]() -> const tensor_of<Ctx>& {
          ctx.begin_call({cur, &dst});
          const tensor_of<Ctx>& xi = std::get<I>(edges_).forward(ctx, *cur);
          inputs_[I] = &xi;
          child.infer_fused_into(ctx, xi, next<I + 1>(), act, dst);
          return ctx.end_call(dst);
        });
      }
    });
    return *cur;
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
  }

  std::tuple<Ls...> layers;

 private:
  template <class F>
  constexpr void each(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(layers)), ...);
    }(std::make_index_sequence<size>{});
  }
  template <std::size_t I>
  static std::string name() {
    return child_name<std::tuple_element_t<I, std::tuple<Ls...>>>(I);
  }
  /// Whether child J would like its input blocked (past the end: this seq's consumer).
  template <std::size_t J>
  static constexpr bool wants(bool consumer_takes_blocked) {
    if constexpr (J >= size) return consumer_takes_blocked;
    else return hush::prefers_blocked<std::tuple_element_t<J, std::tuple<Ls...>>>(wants<J + 1>(consumer_takes_blocked));
  }

  /// Child I's turn in a forward pass on *x: nothing when an earlier child's step ran it, else its
  /// step; the result goes only to the next child's call when `handed_on` (core/buffer_plan.hpp).
  template <std::size_t I, class Ctx>
  const tensor_of<Ctx>* step_forward(Ctx& ctx, fusion::step step, const tensor_of<Ctx>* x, bool handed_on) {
    if (step == fusion::step::fused) return x;
    return &within([] { return name<I>(); }, [&]() -> const tensor_of<Ctx>& {
      ctx.begin_call({x});
      return ctx.end_call(forward_child<I>(ctx, step, *x), handed_on);
    });
  }
  /// Child I's step (with the children it absorbs) on x, through the layout adapter on its input.
  template <std::size_t I, class Ctx>
  const tensor_of<Ctx>& forward_child(Ctx& ctx, fusion::step step, const tensor_of<Ctx>& x_in) {
    using n = fusion::neighbours<I, Ls...>;
    auto& child = std::get<I>(layers);
    const tensor_of<Ctx>& x = std::get<I>(edges_).forward(ctx, x_in);
    inputs_[I] = &x;
    switch (step) {
      case fusion::step::absorbs_two:
        if constexpr (n::may_absorb_two) return child.infer_fused(ctx, x, next<I + 1>(), next<I + 2>());
        break;
      case fusion::step::absorbs_next:
        if constexpr (n::may_absorb_next) return child.infer_fused(ctx, x, next<I + 1>());
        break;
      case fusion::step::applies_next:
        if constexpr (n::may_run_next && fusion::applies_activation<typename n::child>) {
          inputs_[I + 1] = &child.forward_then(ctx, x, next<I + 1>());  // the activation's input is
          return ctx[inputs_[I + 1]];                                      // its output: same sign
        }
        break;
      case fusion::step::next_in_place:
        if constexpr (n::may_run_next) {
          auto& y = const_cast<tensor_of<Ctx>&>(child.forward(ctx, x));  // backward never reads it
          inputs_[I + 1] = &next<I + 1>().forward_in_place(ctx, y);
          return ctx[inputs_[I + 1]];
        }
        break;
      case fusion::step::alone:
        return child.forward(ctx, x);
      case fusion::step::fused:
        break;
    }
    throw error("seq: a step planned at setup that this child cannot take");  // unreachable by construction
  }

  /// Child J's backward, in reverse order (a fused activation's skipped: its layer took it).
  template <std::size_t J, class Ctx>
  const tensor_of<Ctx>& backward_child(Ctx& ctx, const tensor_of<Ctx>& dy) {
    using n = fusion::neighbours<J, Ls...>;
    if (steps_[J] == fusion::step::fused) return dy;  // ran inside child J - 1's step
    auto& child = std::get<J>(layers);
    const tensor_of<Ctx>* dx = nullptr;
    if constexpr (n::backward_takes_next) {
      if (steps_[J] == fusion::step::applies_next) dx = &child.backward_then(ctx, ctx[inputs_[J]], dy, next<J + 1>());
    }
    if constexpr (n::may_run_next) {
      if (!dx && steps_[J] != fusion::step::alone)  // the activation's backward, then this child's
        dx = &child.backward(ctx, ctx[inputs_[J]], next<J + 1>().backward(ctx, ctx[inputs_[J + 1]], dy));
    }
    if (!dx) dx = &child.backward(ctx, ctx[inputs_[J]], dy);
    if (ctx.gradients) report_complete(*ctx.gradients, child);  // (and the activation it ran: no parameters)
    return std::get<J>(edges_).backward(ctx, *dx);
  }
  template <std::size_t J>
  auto& next() {
    return std::get<(J < size ? J : 0)>(layers);
  }

  detail::tuple_n<layout_adapter, size> edges_{};  // into each child
  std::array<tensor_ptr, size> inputs_{};  // each child's input in the last forward
  std::array<fusion::step, size> steps_{}, inference_steps_{};
};

}  // namespace hush
