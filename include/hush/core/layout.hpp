#pragma once
// Which layers read oneDNN's blocked layout (core/tensor.hpp's layout::blocked), so that a
// convolution can hand its output (through batch norm and activations) to the next one without
// the reorders between NCHW and the blocked layout that each convolution would otherwise pay in
// forward and backward (docs/performance.md).
//
// A layer declares
//   takes_blocked = true   its forward reads a blocked input correctly (conv2d);
//   passes_layout = true   it also takes one and gives its output the input's layout
//                          (element-wise activations, identity, batch_norm2d).
// A graph node sets ctx.consumer_takes_blocked before each child's forward: whether the first
// later sibling that does not pass the layout through takes it; for the last children, whatever
// the node's own consumer takes. Everything else (pooling, concatenation, flatten, ...) sees only
// NCHW, since nothing writes blocked for it. A gradient has the layout of the tensor it is the
// gradient of: backward(x, dy) gets dy in its output's layout and returns dx in x's.
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

template <class L>
concept keeps_layout = requires { requires L::passes_layout; };

template <class L>
concept reads_blocked = keeps_layout<L> || requires { requires L::takes_blocked; };

/// x in `to`: x itself, or its values reordered into `buffer`.
template <class Ctx>
const tensor& in_layout(Ctx& ctx, const tensor& x, layout to, tensor& buffer) {
  if (x.layout() == to) return x;
  if constexpr (requires { reorder_activation(ctx.backend, x.shape(), x.data(), buffer.data(), true); }) {
    buffer.resize(x.shape());
    reorder_activation(ctx.backend, x.shape(), x.data(), buffer.data(), to == layout::blocked);
    buffer.set_layout(to);
    return buffer;
  } else {
    throw error("in_layout: a blocked tensor on a backend without the blocked layout");
  }
}
/// x in NCHW: x itself, or its blocked values reordered into `buffer`.
template <class Ctx>
const tensor& as_nchw(Ctx& ctx, const tensor& x, tensor& buffer) {
  return in_layout(ctx, x, layout::nchw, buffer);
}

}  // namespace hush
