#pragma once
// weighted_sum<Ls...>: L = Σ w_i·L_i(pred, target), one loss type built from others, as the
// seeds combine content and adversarial terms. Weights are run-time values, in the order of Ls.
#include <array>
#include <cstddef>
#include <tuple>

#include "hush/core/tensor.hpp"

namespace hush {

template <class... Ls>
struct weighted_sum {
  static constexpr const char* kind = "weighted_sum";
  static constexpr std::size_t size = sizeof...(Ls);

  constexpr explicit weighted_sum(std::array<float, size> w, Ls... ls) : weights(w), losses(std::move(ls)...) {}
  constexpr explicit weighted_sum(std::array<float, size> w) requires(std::default_initializable<Ls> && ...)
      : weights(w) {}

  template <class Ctx>
  float forward(Ctx& ctx, const tensor& pred, const tensor& target) {
    float total = 0.0f;
    grad_.resize(pred.shape());
    grad_.zero();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((total += weights[I] * std::get<I>(losses).forward(ctx, pred, target),
        axpy(ctx.backend, grad_.numel(), weights[I], std::get<I>(losses).backward().data(), grad_.data())),
       ...);
    }(std::make_index_sequence<size>{});
    return total;
  }
  const tensor& backward() const { return grad_; }

  std::array<float, size> weights;
  std::tuple<Ls...> losses;

 private:
  tensor grad_;
};

}  // namespace hush
