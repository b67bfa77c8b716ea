#pragma once
// repeat<N, L, First = L, Prefix = "">: N blocks in sequence, y = L_N(...L_2(First(x))), children
// named Prefix + 0..N-1 (torchvision names its ResNet stages' blocks 0, 1, ..., its ViT's
// encoder_layer_0, encoder_layer_1, ...).
// The first block may be of another type (a ResNet stage starts with the block that strides and
// projects); the others are N-1 copies of one block type, each with its own parameters
// (initialised from its own random stream). One type per kind of block, instantiated once.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/tuple_n.hpp"
#include "hush/graph/visit.hpp"

namespace hush {


/// `repeat<N, L, First, Prefix>`: N blocks in sequence, one `First` (`L` by default) then N-1
/// copies of `L`, each with parameters of its own; the blocks are named Prefix followed by 0..N-1,
/// as torchvision names a ResNet stage's blocks or a ViT's encoder layers.
template <std::size_t N, class L, class First = L, fixed_string Prefix = "">
struct repeat {
  static_assert(N > 0, "hush::repeat: needs at least one block");
  static_assert(check_layer<L>() && check_layer<First>());
  static constexpr const char* kind = "repeat";

  constexpr repeat() requires(std::default_initializable<L> && std::default_initializable<First>) = default;
  /// N copies of `block` (its options; parameters are initialised per copy at setup).
  constexpr explicit repeat(const L& block) requires std::same_as<L, First>
      : head(block), tail(copies(block, std::make_index_sequence<N - 1>{})) {}
  /// `first`, then N-1 copies of `block`.
  constexpr repeat(First first, const L& block) : head(std::move(first)), tail(copies(block, std::make_index_sequence<N - 1>{})) {}

  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    f(label(0), head, in);
    if (!in.empty()) in = head.output_shape(in);
    each_tail([&](std::size_t i, auto& block) {
      f(label(i + 1), block, in);
      if (!in.empty()) in = block.output_shape(in);
    });
  }
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) const {
    const_cast<repeat*>(this)->for_each_child([&](const std::string& n, const auto& c, shape s) { f(n, c, s); }, in);
  }

  constexpr std::int64_t parameter_count() const {
    std::int64_t n = head.parameter_count();
    std::apply([&](const auto&... block) { ((n += block.parameter_count()), ...); }, tail);
    return n;
  }

  shape output_shape(shape in) const {
    in = within(label(0), [&] { return head.output_shape(in); });
    const_cast<repeat*>(this)->each_tail([&](std::size_t i, auto& block) {
      in = within(label(i + 1), [&] { return block.output_shape(in); });
    });
    return in;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    head_edge_ = {}, tail_edges_ = {};  // all NCHW until planned
    within(label(0), [&] { head.setup(ctx, in); });
    in = head.output_shape(in);
    each_tail([&](std::size_t i, auto& block) {
      within(label(i + 1), [&] { block.setup(ctx, in); });
      in = block.output_shape(in);
    });
  }

  /// Each block's output goes to the next block, the last's to this node's consumer.
  static constexpr bool prefers_blocked(bool consumer_takes_blocked) {
    bool wanted = consumer_takes_blocked;
    for (std::size_t i = 1; i < N; ++i) wanted = hush::prefers_blocked<L>(wanted);
    return hush::prefers_blocked<First>(wanted);
  }
  template <class Ctx>
  layout plan_layout(Ctx& ctx, layout in, bool consumer_takes_blocked) {
    const auto wanted = [&](std::size_t block) {  // by the consumer of block `block`
      bool w = consumer_takes_blocked;
      for (std::size_t i = block + 1; i < N; ++i) w = hush::prefers_blocked<L>(w);
      return w;
    };
    in = within(label(0), [&] { return plan_child(ctx, head, head_edge_, in, wanted(0)); });
    each_tail([&](auto i, auto& block) {
      in = within(label(i + 1), [&] { return plan_child(ctx, block, std::get<i>(tail_edges_), in, wanted(i + 1)); });
    });
    return in;
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    // Each block's result but the last goes only to the next block's call (core/buffer_plan.hpp).
    const tensor_of<Ctx>* cur = &within(label(0), [&]() -> const tensor_of<Ctx>& {
      ctx.begin_call({&x});
      inputs_[0] = &head_edge_.forward(ctx, x);
      return ctx.end_call(head.forward(ctx, ctx[inputs_[0]]), N > 1);
    });
    each_tail([&](auto i, auto& block) {
      cur = &within([i] { return label(i + 1); }, [&]() -> const tensor_of<Ctx>& {
        ctx.begin_call({cur});
        inputs_[i + 1] = &std::get<i>(tail_edges_).forward(ctx, *cur);
        return ctx.end_call(block.forward(ctx, ctx[inputs_[i + 1]]), i + 2 < N);
      });
    });
    return *cur;
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    const tensor_of<Ctx>* grad = &dy;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      constexpr std::size_t last = N - 2;
      ((grad = &within([] { return label(last - I + 1); }, [&]() -> const tensor_of<Ctx>& {
          ctx.begin_call({grad});
          return ctx.end_call(std::get<last - I>(tail_edges_).backward(ctx, std::get<last - I>(tail).backward(ctx, ctx[inputs_[last - I + 1]], *grad)),
                              true);
        })),
       ...);
    }(std::make_index_sequence<N - 1>{});
    return within(label(0), [&]() -> const tensor_of<Ctx>& {
      ctx.begin_call({grad});
      return ctx.end_call(head_edge_.backward(ctx, head.backward(ctx, ctx[inputs_[0]], *grad)));
    });
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
  }

  First head;
  detail::tuple_n<L, N - 1> tail;

 private:
  static std::string label(std::size_t i) { return std::string(std::string_view(Prefix)) + std::to_string(i); }
  template <std::size_t... I>
  static constexpr detail::tuple_n<L, N - 1> copies(const L& block, std::index_sequence<I...>) {
    return {((void)I, block)...};
  }
  /// f(i, block) for tail block i (child i + 1), in order; i a std::integral_constant.
  template <class F>
  constexpr void each_tail(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f(std::integral_constant<std::size_t, I>{}, std::get<I>(tail)), ...);
    }(std::make_index_sequence<N - 1>{});
  }
  layout_adapter head_edge_;                                // into each block
  detail::tuple_n<layout_adapter, N - 1> tail_edges_{};
  std::array<tensor_ptr, N> inputs_{};   // each block's input in the last forward
};

}  // namespace hush
