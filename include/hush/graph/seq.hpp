#pragma once
// seq<Ls...>: y = L_n(...L_2(L_1(x))). A flat pack: forward is a left fold, backward the reversed
// fold, and each child's input is the previous child's output, which that child still holds.
// In inference mode, neighbours that fuse (conv2d, batch_norm2d, relu) run as one kernel.
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/error.hpp"
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
    return *forward_from<0>(ctx, &x);
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    if (ctx.mode == mode::inference)
      throw error("seq: backward after an inference-mode forward (its layers may be fused); use train or eval mode");
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

  /// Runs children I.. on `cur`. In inference mode a child that can absorb the next one or two
  /// (conv2d + batch_norm2d [+ relu]: its infer_fused) runs them as one and they are skipped. An
  /// activation that can run in place after a child whose output is overwritable does so.
  template <std::size_t I, class Ctx>
  const tensor* forward_from(Ctx& ctx, const tensor* cur) {
    if constexpr (I == size) {
      return cur;
    } else {
      auto& child = std::get<I>(layers);
      if constexpr (I + 2 < size) {
        auto &next = std::get<I + 1>(layers), &after = std::get<I + 2>(layers);
        if constexpr (requires { child.infer_fused(ctx, *cur, next, after); })
          if (ctx.mode == mode::inference) return forward_from<I + 3>(ctx, &child.infer_fused(ctx, *cur, next, after));
      }
      if constexpr (I + 1 < size) {
        auto& next = std::get<I + 1>(layers);
        if constexpr (requires { child.infer_fused(ctx, *cur, next); })
          if (ctx.mode == mode::inference) return forward_from<I + 2>(ctx, &child.infer_fused(ctx, *cur, next));
      }
      inputs_[I] = cur;
      if constexpr (I + 1 < size) {
        auto& next = std::get<I + 1>(layers);
        if constexpr (requires { requires std::remove_cvref_t<decltype(child)>::overwritable_output; } &&
                      requires(tensor& t) { next.forward_in_place(ctx, t); }) {
          if (next.can_run_in_place()) {
            // The child's backward never reads its output: the activation overwrites it.
            auto& y = const_cast<tensor&>(child.forward(ctx, *cur));
            inputs_[I + 1] = &y;
            return forward_from<I + 2>(ctx, &next.forward_in_place(ctx, y));
          }
        }
      }
      return forward_from<I + 1>(ctx, &child.forward(ctx, *cur));
    }
  }

  std::array<const tensor*, size> inputs_{};
};

}  // namespace hush
