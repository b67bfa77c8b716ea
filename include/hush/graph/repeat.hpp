#pragma once
// repeat<N, L, First = L>: N blocks in sequence, y = L_N(...L_2(First(x))), children named 0..N-1.
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
#include "hush/graph/visit.hpp"

namespace hush {

namespace detail {
template <class L, std::size_t... I>
auto tuple_of(std::index_sequence<I...>) -> std::tuple<std::enable_if_t<(I >= 0), L>...>;
/// std::tuple<L, L, ..., L> of n elements. (A std::array of layers would be simpler, but GCC 12
/// cannot destroy one in a constant expression, which compile-time parameter counts need.)
template <class L, std::size_t n>
using tuple_n = decltype(tuple_of<L>(std::make_index_sequence<n>{}));
}  // namespace detail

template <std::size_t N, class L, class First = L>
struct repeat {
  static_assert(N > 0, "hush::repeat: needs at least one block");
  static_assert(check_layer<L>() && check_layer<First>());
  static constexpr const char* kind = "repeat";
  static constexpr bool takes_blocked = reads_blocked<First>;

  constexpr repeat() requires(std::default_initializable<L> && std::default_initializable<First>) = default;
  /// N copies of `block` (its options; parameters are initialised per copy at setup).
  constexpr explicit repeat(const L& block) requires std::same_as<L, First>
      : head(block), tail(copies(block, std::make_index_sequence<N - 1>{})) {}
  /// `first`, then N-1 copies of `block`.
  constexpr repeat(First first, const L& block) : head(std::move(first)), tail(copies(block, std::make_index_sequence<N - 1>{})) {}

  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    f(std::string("0"), head, in);
    if (!in.empty()) in = head.output_shape(in);
    each_tail([&](std::size_t i, auto& block) {
      f(std::to_string(i + 1), block, in);
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
    in = within("0", [&] { return head.output_shape(in); });
    const_cast<repeat*>(this)->each_tail([&](std::size_t i, auto& block) {
      in = within(std::to_string(i + 1), [&] { return block.output_shape(in); });
    });
    return in;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    within("0", [&] { head.setup(ctx, in); });
    in = head.output_shape(in);
    each_tail([&](std::size_t i, auto& block) {
      within(std::to_string(i + 1), [&] { block.setup(ctx, in); });
      in = block.output_shape(in);
    });
  }

  template <class Ctx>
  const tensor& forward(Ctx& ctx, const tensor& x) {
    // Each block's output goes to the next block, the last's to this node's consumer.
    const bool outer = ctx.consumer_takes_blocked;
    ctx.consumer_takes_blocked = N > 1 ? reads_blocked<L> : outer;
    const tensor* cur = &head.forward(ctx, x);
    each_tail([&](std::size_t i, auto& block) {
      inputs_[i] = cur;
      ctx.consumer_takes_blocked = i + 2 < N ? reads_blocked<L> : outer;
      cur = &block.forward(ctx, *cur);
    });
    return *cur;
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    const tensor* grad = &dy;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      constexpr std::size_t last = N - 2;
      ((grad = &std::get<last - I>(tail).backward(ctx, *inputs_[last - I], *grad)), ...);
    }(std::make_index_sequence<N - 1>{});
    return head.backward(ctx, x, *grad);
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
  }

  First head;
  detail::tuple_n<L, N - 1> tail;

 private:
  template <std::size_t... I>
  static constexpr detail::tuple_n<L, N - 1> copies(const L& block, std::index_sequence<I...>) {
    return {((void)I, block)...};
  }
  /// f(i, block) for tail block i (child i + 1), in order.
  template <class F>
  constexpr void each_tail(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f(I, std::get<I>(tail)), ...); }(std::make_index_sequence<N - 1>{});
  }
  std::array<const tensor*, (N > 1 ? N - 1 : 1)> inputs_{};
};

}  // namespace hush
