#pragma once
// repeat<N, L>: N copies of one block type in sequence, y = L_N(...L_1(x)); each copy has its own
// parameters (initialised from its own random stream). One type, instantiated once.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

template <std::size_t N, class L>
struct repeat {
  static_assert(N > 0, "hush::repeat: needs at least one copy");
  static_assert(check_layer<L>());
  static constexpr const char* kind = "repeat";

  constexpr repeat() requires std::default_initializable<L> = default;
  /// N copies of `block` (its options; parameters are initialised per copy at setup).
  constexpr explicit repeat(const L& block) : layers(copies(block, std::make_index_sequence<N>{})) {}

  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    for (std::size_t i = 0; i < N; ++i) {
      f(std::to_string(i), layers[i], in);
      if (!in.empty()) in = layers[i].output_shape(in);
    }
  }
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) const {
    for (std::size_t i = 0; i < N; ++i) {
      f(std::to_string(i), layers[i], in);
      if (!in.empty()) in = layers[i].output_shape(in);
    }
  }

  constexpr std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (const auto& l : layers) n += l.parameter_count();
    return n;
  }

  shape output_shape(shape in) const {
    for (std::size_t i = 0; i < N; ++i) in = within(std::to_string(i), [&] { return layers[i].output_shape(in); });
    return in;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    for (std::size_t i = 0; i < N; ++i) {
      within(std::to_string(i), [&] { layers[i].setup(ctx, in); });
      in = layers[i].output_shape(in);
    }
  }

  template <class Ctx>
  const tensor& forward(Ctx& ctx, const tensor& x) {
    const tensor* cur = &x;
    for (std::size_t i = 0; i < N; ++i) {
      inputs_[i] = cur;
      cur = &layers[i].forward(ctx, *cur);
    }
    return *cur;
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    inputs_[0] = &x;
    const tensor* grad = &dy;
    for (std::size_t i = N; i-- > 0;) grad = &layers[i].backward(ctx, *inputs_[i], *grad);
    return *grad;
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
  }

  std::array<L, N> layers;

 private:
  template <std::size_t... I>
  static constexpr std::array<L, N> copies(const L& block, std::index_sequence<I...>) {
    return {((void)I, block)...};
  }
  std::array<const tensor*, N> inputs_{};
};

}  // namespace hush
