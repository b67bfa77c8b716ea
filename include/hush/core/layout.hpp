#pragma once
// Which layout each activation has: decided once, at setup, from what each layer declares.
//
// The cpu backend's convolutions run fastest when they hand each other oneDNN's blocked layout
// (core/tensor.hpp's layout::blocked) through batch norm and activations, instead of reordering
// from and to NCHW around every call (docs/performance.md). Which tensors are blocked is a plan
// made when the network is set up, never a flag read at forward time:
//
//   * A layer that declares nothing receives NCHW and produces NCHW. Its parent converts a
//     blocked input for it (a layout_adapter on the edge) and the gradient back.
//   * A layer that takes part declares
//         layout plan_layout(ctx, layout in, bool consumer_takes_blocked)
//     The graph calls it after setup with the layout its input will have (it must read either)
//     and whether whatever reads its output would take the blocked layout (a hint: only speed
//     depends on it). It returns the layout its output will have, which it then always writes.
//     Its gradients follow: backward gets dy in the output's layout and returns dx in the input's.
//   * A layer also says, without objects or shapes, whether it would like a blocked input:
//         static constexpr bool prefers_blocked(bool consumer_takes_blocked)
//     (conv2d: yes; batch norm and activations: whatever their consumer takes). Producers ask
//     their consumer this before planning their output.
//
// Composites (graph/) plan their children in order and put an adapter on every edge; a model
// plans its net with an NCHW input and converts a blocked output back, so users only ever see
// NCHW. Element-wise layers whose result depends on the element's index (dropout, noise) do
// not take part: the blocked order would change which element draws which number.
//
// In Debug and sanitizer builds (HUSH_CHECK_LAYOUTS), every edge checks that the tensor it
// hands on carries the layout the plan says, and throws a layout_error naming the layer's path.
#include <concepts>
#include <cstdint>
#include <string>

#include "hush/backend/provides.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/kept.hpp"
#include "hush/core/tensor.hpp"

#ifndef HUSH_CHECK_LAYOUTS
#ifdef NDEBUG
#define HUSH_CHECK_LAYOUTS 0
#else
#define HUSH_CHECK_LAYOUTS 1
#endif
#endif

namespace hush {

/// A layout's name in messages: "blocked" or "NCHW".
inline const char* name(layout l) { return l == layout::blocked ? "blocked" : "NCHW"; }

/// Whether L takes part in layout planning (has plan_layout); else it sees only NCHW.
template <class L, class Ctx>
concept plans_layout = requires(L& l, Ctx& ctx, layout in) {
  { l.plan_layout(ctx, in, true) } -> std::same_as<layout>;
};

/// Whether L would like its input blocked, given what reads its output.
template <class L>
constexpr bool prefers_blocked(bool consumer_takes_blocked) {
  if constexpr (requires { L::prefers_blocked(true); }) return L::prefers_blocked(consumer_takes_blocked);
  else return false;
}

/// Throws if `t` does not carry the planned layout (only where HUSH_CHECK_LAYOUTS).
template <class Memory>
void expect_layout([[maybe_unused]] const basic_tensor<Memory>& t, [[maybe_unused]] layout planned,
                          [[maybe_unused]] const char* what) {
#if HUSH_CHECK_LAYOUTS
  if (t.layout() != planned)
    throw layout_error(std::string(what) + " is " + name(t.layout()) + ", but the layout planned at setup is " +
                       name(planned));
#endif
}

/// x in `to`: x itself, or its values reordered into `buffer`.
template <class Ctx>
const tensor_of<Ctx>& in_layout(Ctx& ctx, const tensor_of<Ctx>& x, layout to, kept& buffer) {
  if (x.layout() == to) return x;
  if constexpr (provides_blocked_layout<typename Ctx::backend_type>) {  // a flag: requires probes crash nvcc
    auto& y = ctx[buffer];
    y.resize(x.shape());
    reorder_activation(ctx.backend, x.shape(), x.data(), y.data(), to == layout::blocked);
    y.set_layout(to);
    return y;
  } else {
    throw layout_error("a blocked tensor on a backend without the blocked layout");
  }
}
/// x in NCHW: x itself, or its blocked values reordered into `buffer`.
template <class Ctx>
const tensor_of<Ctx>& as_nchw(Ctx& ctx, const tensor_of<Ctx>& x, kept& buffer) {
  return in_layout(ctx, x, layout::nchw, buffer);
}
/// An edge of the graph: hands a tensor from the layout its producer writes to the layout its
/// reader was planned for, converting only where they differ, and the reader's gradient back.
class layout_adapter {
 public:
  /// From `from` (what the producer writes) to `to` (what the reader takes).
  void plan(layout from, layout to) { from_ = from, to_ = to; }
  bool converts() const { return from_ != to_; }
  layout from() const { return from_; }
  layout to() const { return to_; }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    expect_layout(x, from_, "the input");
    return from_ == to_ ? x : in_layout(ctx, x, to_, y_);
  }
  /// dy: the gradient of what forward returned, in `to`; returns it in `from`.
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& dy) {
    expect_layout(dy, to_, "the gradient");
    return from_ == to_ ? dy : in_layout(ctx, dy, from_, dx_);
  }

 private:
  layout from_ = layout::nchw, to_ = layout::nchw;
  kept y_, dx_;
};

/// Plans `child`'s layouts with its input in `in` through the adapter on its input edge; returns
/// the child's output layout. A child that does not plan gets NCHW and gives NCHW.
template <class Ctx, class L>
layout plan_child(Ctx& ctx, L& child, layout_adapter& edge, layout in, bool consumer_takes_blocked) {
  if constexpr (plans_layout<L, Ctx>) {
    edge.plan(in, in);
    return child.plan_layout(ctx, in, consumer_takes_blocked);
  } else {
    edge.plan(in, layout::nchw);
    return layout::nchw;
  }
}

}  // namespace hush
