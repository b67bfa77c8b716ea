#pragma once
// weighted_terms<Ls...>: L = Σ w_i·L_i(pred_i, target_i), each term on its own tensors. Seed 001's
// generator loss λg·L_content(G(x), clean) + λd·L_BCE(D(G(x)), 1) has a term on the image and a
// term on the discriminator's score: the caller sends backward<1>() back through D and adds what
// comes out of D to backward<0>(), both into G(x). (weighted_sum is the case of one shared pair.)
//
//   weighted_terms<mse_loss, bce_with_logits_loss> loss({0.1f, 0.01f});
//   float l = loss.forward(ctx, fake, clean, score, ones);   // pred_0, target_0, pred_1, target_1
//   loss.backward<0>(ctx);   // 0.1·dL_content/dfake
//   loss.term(1);            // L_BCE alone, unweighted, for the log
#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include "hush/core/context.hpp"
#include "hush/core/kept.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// A weighted sum of losses, each on its own (pred, target) pair: L = Σ w_i·L_i(pred_i, target_i).
/// `backward<I>()` gives term I's weighted gradient for the caller to send where it belongs (a
/// GAN generator's image and score terms); term(i) is its unweighted value.
template <class... Ls>
struct weighted_terms {
  static constexpr const char* kind = "weighted_terms";
  static constexpr std::size_t size = sizeof...(Ls);

  constexpr explicit weighted_terms(std::array<float, size> w, Ls... ls) : weights(w), losses(std::move(ls)...) {}
  constexpr explicit weighted_terms(std::array<float, size> w) requires(std::default_initializable<Ls> && ...)
      : weights(w) {}

  /// Takes (pred_i, target_i) for every term in order; returns Σ w_i·L_i and keeps each
  /// term's weighted gradient.
  template <class Ctx, class... T>
    requires(sizeof...(T) == 2 * size)
  float forward(Ctx& ctx, const T&... operands) {
    const std::array<const tensor_of<Ctx>*, 2 * size> pairs{&operands...};
    float total = 0.0f;
    [&]<std::size_t... I>(std::index_sequence<I...>) { ((total += one<I>(ctx, *pairs[2 * I], *pairs[2 * I + 1])), ...); }(
        std::make_index_sequence<size>{});
    return total;
  }
  /// w_I·dL_I/dpred_I of the last forward.
  template <std::size_t I, class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const {
    return ctx[grads_[I]];
  }
  /// L_i of the last forward, unweighted.
  float term(std::size_t i) const { return values_[i]; }

  std::array<float, size> weights;
  std::tuple<Ls...> losses;

 private:
  template <std::size_t I, class Ctx>
  float one(Ctx& ctx, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target) {
    auto& loss = std::get<I>(losses);
    values_[I] = loss.forward(ctx, pred, target);
    const auto& g = loss.backward(ctx);
    auto& out = ctx[grads_[I]];
    out.resize(g.shape());
    out.zero();
    axpy(ctx.backend, out.numel(), weights[I], g.data(), out.data());
    return weights[I] * values_[I];
  }

  std::array<float, size> values_{};
  std::array<kept, size> grads_;
};

}  // namespace hush
