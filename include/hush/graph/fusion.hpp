#pragma once
// Which neighbours in a seq run as one kernel. Decided at setup, from flags the layers declare
// beside their code (layers/conv.hpp, layers/norm.hpp, layers/activation.hpp), never by probing
// member functions (nvcc 13's front end crashed on such probes):
//
//   overwritable_output          backward never reads the layer's output, so an activation after
//                                it may overwrite it (conv2d, conv_transpose2d, linear, batch norm)
//   fusable_activation           an activation that can run in place or inside the kernel before
//                                it (relu; leaky_relu when can_run_in_place(): a positive slope)
//   applies_activation           the layer applies such an activation as it writes its output
//                                (forward_then: conv2d, batch_norm2d)
//   backward_applies_activation  and takes the activation's gradient in its own backward pass
//                                (backward_then: batch_norm2d)
//   absorbs_norm, is_batch_norm  in inference, the layer folds the batch norm after it (and the
//                                activation after that) into its own kernel (infer_fused: conv2d)
//
// Every layer these flags name also plans its layout (core/layout.hpp) and passes it on, so a
// fused group never straddles a layout conversion.
#include <array>
#include <cstddef>
#include <tuple>

#include "hush/core/context.hpp"

namespace hush::fusion {

template <class L>
concept overwritable = requires { requires L::overwritable_output; };
template <class L>
concept activation = requires { requires L::fusable_activation; };
template <class L>
concept batch_norm = requires { requires L::is_batch_norm; };
template <class L>
concept absorbs_norm = requires { requires L::absorbs_norm; };
template <class L>
concept applies_activation = requires { requires L::applies_activation; };
template <class L>
concept backward_applies_activation = requires { requires L::backward_applies_activation; };

/// How a child of a seq runs in one mode.
enum class step : unsigned char {
  alone,         // by itself
  fused,         // inside an earlier child's step: skipped
  applies_next,  // it applies the activation after it as it writes (forward_then)
  next_in_place, // the activation after it overwrites its output
  absorbs_next,  // inference: it absorbs the next child, a batch norm or an activation
  absorbs_two,   // inference: it absorbs the batch norm and the activation after it
};

/// What child I of the pack Ls can do with the children after it, by type alone.
template <std::size_t I, class... Ls>
struct neighbours {
  static constexpr std::size_t size = sizeof...(Ls);
  template <std::size_t J>
  using at = std::tuple_element_t<(J < size ? J : 0), std::tuple<Ls...>>;
  using child = at<I>;
  static constexpr bool has_next = I + 1 < size, has_two = I + 2 < size;
  static constexpr bool may_run_next = has_next && overwritable<child> && activation<at<I + 1>>;
  static constexpr bool may_absorb_two =
      has_two && absorbs_norm<child> && batch_norm<at<I + 1>> && activation<at<I + 2>>;
  static constexpr bool may_absorb_next =
      has_next && absorbs_norm<child> && (batch_norm<at<I + 1>> || activation<at<I + 1>>);
  static constexpr bool backward_takes_next = may_run_next && backward_applies_activation<child>;
};

/// Child I's step in mode m, given that no earlier child absorbed it (an activation's slope
/// decides whether it may run in place, so the children are read as they are now).
template <std::size_t I, class... Ls>
step step_of(const std::tuple<Ls...>& children, mode m) {
  using n = neighbours<I, Ls...>;
  if constexpr (n::may_absorb_two) {
    if (m == mode::inference) return step::absorbs_two;
  }
  if constexpr (n::may_absorb_next) {
    if (m == mode::inference) return step::absorbs_next;
  }
  if constexpr (n::may_run_next) {
    if (std::get<I + 1>(children).can_run_in_place())
      return applies_activation<typename n::child> ? step::applies_next : step::next_in_place;
  }
  return step::alone;
}

/// The steps of every child of a seq in mode m: the children a step absorbs are `fused`.
template <class... Ls>
std::array<step, sizeof...(Ls)> plan(const std::tuple<Ls...>& children, mode m) {
  std::array<step, sizeof...(Ls)> steps{};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t absorbed = 0;  // children still to mark as fused
    ((absorbed > 0 ? (steps[I] = step::fused, --absorbed)
                   : (steps[I] = step_of<I>(children, m),
                      absorbed = steps[I] == step::absorbs_two ? 2 : steps[I] == step::alone ? 0 : 1)),
     ...);
  }(std::index_sequence_for<Ls...>{});
  return steps;
}

}  // namespace hush::fusion
