#pragma once
// The model root: a network type bound to a backend. The backend is chosen here, once; every
// layer below calls its kernels through the context.
//
//   hush::model<small_cnn, hush::backend::cpu> m{{.seed = 1}};
//   m.setup({64, 1, 28, 28});
//   const tensor& logits = m.forward(x);
//
// The model's tensors are its backend's (core/memory.hpp): hush::tensor for the reference and
// cpu backends, hush::device_tensor for thrust, whose inputs come through to_device (or
// to(m.ctx.backend, x)) and whose outputs go back through to_host.
//   m.backward(dlogits);
#include <cstdint>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/context.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

template <class Net, class Backend>
class model {
  static_assert(check_layer<Net>());

 public:
  struct options {
    std::uint64_t seed = 0;
    /// The backend's settings (the cpu backend's convolution algorithm, ...), read at setup.
    Backend backend{};
  };

  /// The tensor type it takes and gives: in its backend's memory.
  using tensor = typename context<Backend>::tensor;

  explicit model(options o = {}, Net n = Net{}) : net(std::move(n)), ctx(o.seed) { ctx.backend = o.backend; }

  /// Prepares for inputs of shape `in` (allocating and initialising parameters the first time).
  /// Then plans which activations are in the backend's blocked layout (core/layout.hpp): the
  /// input and output are NCHW.
  void setup(shape in) {
    if (in == input_) return;
    ctx.reset_streams();
    ctx.buffers = {};
    input_ = {};
    net.setup(ctx, in);
    out_.plan(plan_child(ctx, net, in_, layout::nchw, false), layout::nchw);
    input_ = in;
  }
  /// In train and eval mode x is read again by the backward that follows: it must live until then.
  const tensor& forward(const tensor& x) {
    setup(x.shape());
    x_ = &in_.forward(ctx, x);
    return out_.forward(ctx, net.forward(ctx, ctx[x_]));
  }
  /// Backward of the last forward: returns dL/dx, adds into the parameters' gradients.
  const tensor& backward(const tensor& dy) { return in_.backward(ctx, net.backward(ctx, ctx[x_], out_.backward(ctx, dy))); }

  /// Bytes of the activation, gradient and saved buffers the layers keep (context::keep).
  buffer_ledger buffers() const { return ctx.buffers; }

  void train() { ctx.mode = mode::train; }
  void eval() { ctx.mode = mode::eval; }
  /// Eval's arithmetic with no backward to come: batch norm folded into the convolutions (from
  /// the weights as they are now: call infer() again after changing them), ReLU fused into
  /// them, their buffers skipped. backward() after an inference forward throws.
  void infer() {
    ctx.mode = mode::inference;
    ++ctx.inference_version;
  }
  void zero_grad() { hush::zero_grad(net); }
  shape input_shape() const { return input_; }

  Net net;
  context<Backend> ctx;

 private:
  shape input_{};
  tensor_ptr x_;
  layout_adapter in_, out_;  // the caller's NCHW to and from the net's planned layouts
};

}  // namespace hush
