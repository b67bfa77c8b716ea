#pragma once
// Which layers read oneDNN's blocked layout (core/tensor.hpp's layout::blocked), so that in
// inference a convolution can hand its output to the next one without the two reorders between
// NCHW and the blocked layout that each convolution would otherwise pay (docs/performance.md).
//
// A layer declares
//   takes_blocked = true   its forward reads a blocked input correctly (conv2d);
//   passes_layout = true   it also takes one and gives its output the input's layout
//                          (element-wise activations, identity).
// A graph node sets ctx.consumer_takes_blocked before each child's forward: whether the first
// later sibling that does not pass the layout through takes it; for the last children, whatever
// the node's own consumer takes. Everything else (pooling, concatenation, flatten, ...) sees only
// NCHW, since nothing writes blocked for it.
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

template <class L>
concept keeps_layout = requires { requires L::passes_layout; };

template <class L>
concept reads_blocked = keeps_layout<L> || requires { requires L::takes_blocked; };

/// x in NCHW: x itself, or its blocked values reordered into `buffer`.
template <class Ctx>
const tensor& as_nchw(Ctx& ctx, const tensor& x, tensor& buffer) {
  if (x.layout() == layout::nchw) return x;
  if constexpr (requires { blocked_to_nchw(ctx.backend, x.shape(), x.data(), buffer.data()); }) {
    buffer.resize(x.shape());
    blocked_to_nchw(ctx.backend, x.shape(), x.data(), buffer.data());
    buffer.set_layout(layout::nchw);
    return buffer;
  } else {
    throw error("as_nchw: a blocked tensor on a backend without the blocked layout");
  }
}

}  // namespace hush
