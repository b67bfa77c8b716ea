#pragma once
// weighted_sum<Ls...>: L = Σ w_i·L_i(pred, target), one loss type built from others, as the
// seeds combine content and adversarial terms. Weights are run-time values, in the order of Ls.
#include <array>
#include <concepts>
#include <cstddef>
#include <tuple>
#include <utility>

#include "hush/core/context.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// A loss made of others on the same (pred, target): L = Σ w_i·L_i, with run-time weights in
/// the order of `Ls`; backward gives the same weighted sum of their gradients.
template <class... Ls>
struct weighted_sum {
  static constexpr const char* kind = "weighted_sum";
  static constexpr std::size_t size = sizeof...(Ls);

  constexpr explicit weighted_sum(std::array<float, size> w, Ls... ls) : weights(w), losses(std::move(ls)...) {}
  constexpr explicit weighted_sum(std::array<float, size> w) requires(std::default_initializable<Ls> && ...)
      : weights(w) {}

  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target) {
    float total = 0.0f;
    ctx[grad_].resize(pred.shape());
    ctx[grad_].zero();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((total += weights[I] * std::get<I>(losses).forward(ctx, pred, target),
        axpy(ctx.backend, ctx[grad_].numel(), weights[I], std::get<I>(losses).backward(ctx).data(), ctx[grad_].data())),
       ...);
    }(std::make_index_sequence<size>{});
    return total;
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const { return ctx[grad_]; }

  std::array<float, size> weights;
  std::tuple<Ls...> losses;

 private:
  kept grad_;
};

}  // namespace hush
