#pragma once
// seq<Ls...>: y = L_n(...L_2(L_1(x))). A flat pack: forward is a left fold, backward the reversed
// fold, and each child's input is the previous child's output, which that child still holds.
// In inference mode, neighbours that fuse (conv2d, batch_norm2d, relu) run as one kernel; in every
// mode an activation runs in the kernel of the layer before it, forward and (after batch norm)
// backward. Each child learns whether its consumer takes the blocked layout (core/layout.hpp).
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/error.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

namespace detail {
// What seq asks of neighbouring children: flags a layer declares (see forward_child). Flags, not
// probes of the member functions: nvcc 13's front end crashed probing them on some networks.
template <class L>
concept overwritable = requires { requires L::overwritable_output; };  // backward never reads y
template <class L>
concept fusable_activation = requires { requires L::fusable_activation; };  // relu, leaky_relu
template <class L>
concept batch_norm = requires { requires L::is_batch_norm; };
template <class L>
concept absorbs_norm = requires { requires L::absorbs_norm; };  // infer_fused(ctx, x, norm[, act])
template <class L>
concept applies_activation = requires { requires L::applies_activation; };  // forward_then(ctx, x, act)
template <class L>
concept backward_applies_activation = requires { requires L::backward_applies_activation; };  // backward_then

template <class L, class Next, class After>
concept absorbs_two = absorbs_norm<L> && batch_norm<Next> && fusable_activation<After>;
template <class L, class Next>
concept absorbs_one = absorbs_norm<L> && (batch_norm<Next> || fusable_activation<Next>);
}  // namespace detail

template <class... Ls>
struct seq {
  static_assert(sizeof...(Ls) > 0, "hush::seq: needs at least one layer");
  static_assert((check_layer<Ls>() && ...));
  static constexpr const char* kind = "seq";
  static constexpr std::size_t size = sizeof...(Ls);
  static constexpr bool takes_blocked = reads_blocked<std::tuple_element_t<0, std::tuple<Ls...>>>;

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
    each([&]<std::size_t I>(auto& child) {
      within(name<I>(), [&] { child.setup(ctx, in); });
      in = child.output_shape(in);
    });
  }

  template <class Ctx>
  const tensor& forward(Ctx& ctx, const tensor& x) {
    const tensor* cur = &x;
    std::size_t skip = 0;
    const bool outer = ctx.consumer_takes_blocked;
    applied_next_ = {};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (forward_child<I>(ctx, cur, skip, outer), ...);
    }(std::make_index_sequence<size>{});
    return *cur;
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    if (ctx.mode == mode::inference)
      throw error("seq: backward after an inference-mode forward (its layers may be fused); use train or eval mode");
    inputs_[0] = &x;
    const tensor* grad = &dy;
    bool done = false;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (backward_child<size - 1 - I>(ctx, grad, done), ...);
    }(std::make_index_sequence<size>{});
    return *grad;
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

  /// Whether what reads the output of the children before J takes the blocked layout: the
  /// first child from J on that does not pass the layout through, or past the end `outer`,
  /// what this seq's own consumer takes.
  template <std::size_t J>
  static bool consumer_takes(bool outer) {
    if constexpr (J >= size) {
      return outer;
    } else {
      using C = std::tuple_element_t<J, std::tuple<Ls...>>;
      if constexpr (keeps_layout<C>) return consumer_takes<J + 1>(outer);
      else return reads_blocked<C>;
    }
  }

  /// Runs child I on `cur` unless an earlier child already ran it (`skip`). In inference mode a
  /// child that can absorb the next one or two (conv2d + batch_norm2d [+ relu], conv2d + relu:
  /// its infer_fused) runs them as one and they are skipped. In every mode, an activation that
  /// can run in place after a child whose output is overwritable is applied by that child's
  /// kernel (forward_then) or in place.
  template <std::size_t I, class Ctx>
  void forward_child(Ctx& ctx, const tensor*& cur, std::size_t& skip, bool outer) {
    if (skip > 0) return void(--skip);
    using Child = std::tuple_element_t<I, std::tuple<Ls...>>;
    auto& child = std::get<I>(layers);
    if constexpr (I + 2 < size) {
      using Next = std::tuple_element_t<I + 1, std::tuple<Ls...>>;
      using After = std::tuple_element_t<I + 2, std::tuple<Ls...>>;
      if constexpr (detail::absorbs_two<Child, Next, After>) {
        if (ctx.mode == mode::inference) {
          ctx.consumer_takes_blocked = consumer_takes<I + 3>(outer);
          cur = &child.infer_fused(ctx, *cur, std::get<I + 1>(layers), std::get<I + 2>(layers));
          return void(skip = 2);
        }
      }
    }
    if constexpr (I + 1 < size) {
      using Next = std::tuple_element_t<I + 1, std::tuple<Ls...>>;
      auto& next = std::get<I + 1>(layers);
      if constexpr (detail::absorbs_one<Child, Next>) {
        if (ctx.mode == mode::inference) {
          ctx.consumer_takes_blocked = consumer_takes<I + 2>(outer);
          cur = &child.infer_fused(ctx, *cur, next);
          return void(skip = 1);
        }
      }
      if constexpr (detail::overwritable<Child> && detail::fusable_activation<Next>) {
        if (next.can_run_in_place()) {
          // The child's backward never reads its output: the activation overwrites it, or the
          // child applies it as it writes (forward_then); the activation's backward then reads
          // the child's buffer as its input.
          inputs_[I] = cur;
          ctx.consumer_takes_blocked = consumer_takes<I + 2>(outer);
          if constexpr (detail::applies_activation<Child>) {
            cur = &child.forward_then(ctx, *cur, next);
            applied_next_[I] = true;
          } else {
            cur = &next.forward_in_place(ctx, const_cast<tensor&>(child.forward(ctx, *cur)));
          }
          inputs_[I + 1] = cur;
          return void(skip = 1);
        }
      }
    }
    inputs_[I] = cur;
    ctx.consumer_takes_blocked = consumer_takes<I + 1>(outer);
    cur = &child.forward(ctx, *cur);
  }

  /// Child J's backward, in reverse order; `done` when child J was run with J + 1 already. A
  /// child that applied the activation after it in forward (forward_then) and can take the
  /// activation's gradient through it (backward_then) runs both backward passes in one.
  template <std::size_t J, class Ctx>
  void backward_child(Ctx& ctx, const tensor*& grad, bool& done) {
    if (done) return void(done = false);
    if constexpr (J > 0) {
      using Prev = std::tuple_element_t<J - 1, std::tuple<Ls...>>;
      using Child = std::tuple_element_t<J, std::tuple<Ls...>>;
      if constexpr (detail::backward_applies_activation<Prev> && detail::fusable_activation<Child>) {
        if (applied_next_[J - 1]) {
          grad = &std::get<J - 1>(layers).backward_then(ctx, *inputs_[J - 1], *grad, std::get<J>(layers));
          return void(done = true);
        }
      }
    }
    grad = &std::get<J>(layers).backward(ctx, *inputs_[J], *grad);
  }

  std::array<const tensor*, size> inputs_{};
  std::array<bool, size> applied_next_{};  // child I applied child I + 1 in the last forward
};

}  // namespace hush
