#pragma once
// seq<Ls...>: y = L_n(...L_2(L_1(x))). A flat pack: forward is a left fold, backward the reversed
// fold, and each child's input is the previous child's output, which that child still holds.
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

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
    each([&]<std::size_t I>(auto& child) {
      within(name<I>(), [&] { child.setup(ctx, in); });
      in = child.output_shape(in);
    });
  }

  template <class Ctx>
  const tensor& forward(Ctx& ctx, const tensor& x) {
    const tensor* cur = &x;
    each([&]<std::size_t I>(auto& child) {
      inputs_[I] = cur;
      cur = &child.forward(ctx, *cur);
    });
    return *cur;
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    inputs_[0] = &x;
    const tensor* grad = &dy;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((grad = &std::get<size - 1 - I>(layers).backward(ctx, *inputs_[size - 1 - I], *grad)), ...);
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

  std::array<const tensor*, size> inputs_{};
};

}  // namespace hush
