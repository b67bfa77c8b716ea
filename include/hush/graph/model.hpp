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
#include <string_view>
#include <utility>
#include <vector>

#include "hush/core/concepts.hpp"
#include "hush/core/context.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/model_passes.hpp"
#include "hush/graph/visit.hpp"

namespace hush {

/// setup, forward, backward, train, eval, infer, buffers, arena_bytes and ctx come from
/// model_passes (graph/model_passes.hpp), which does not depend on Net.
template <class Net, class Backend>
class model : public model_passes<Backend> {
  static_assert(check_layer<Net>());
  using base = model_passes<Backend>;

 public:
  /// Settings of a model: the seed its layers' initial weights and random streams derive from, the
  /// backend's settings, and whether activations and gradients share one planned arena (on by default).
  struct options {
    std::uint64_t seed = 0;
    /// The backend's settings (the cpu backend's convolution algorithm, ...), read at setup.
    Backend backend{};
    /// Share one arena between the activations and gradients whose lifetimes do not overlap
    /// (core/buffer_plan.hpp). Off: every layer's buffers have storage of their own.
    bool plan_buffers = true;
  };

  using typename base::tensor;
  using base::ctx;

  explicit model(options o = {}, Net n = Net{}) : base(o.seed, o.plan_buffers), net(std::move(n)) {
    ctx.backend = o.backend;
  }
  model(const model& o) : base(o), net(o.net) {}
  model(model&& o) noexcept : base(std::move(o)), net(std::move(o.net)) {}
  model& operator=(model o) noexcept {
    std::swap(net, o.net);
    this->swap_with(o);
    return *this;
  }
  ~model() = default;

  void zero_grad() { hush::zero_grad(net); }

  Net net;

 private:
  void prepare(shape in) override {
    this->start_setup();
    net.setup(ctx, in);
    out_.plan(plan_child(ctx, net, in_, layout::nchw, false), layout::nchw);
  }
  const tensor& run_forward(const tensor& x) override {
    x_ = &in_.forward(ctx, x);
    ctx.begin_call({&ctx[x_]});
    return ctx.end_call(out_.forward(ctx, net.forward(ctx, ctx[x_])));
  }
  const tensor& run_backward(const tensor& dy) override {
    ctx.begin_call({&dy});
    return ctx.end_call(in_.backward(ctx, net.backward(ctx, ctx[x_], out_.backward(ctx, dy))));
  }
  void snapshot(std::vector<kept>& buffers, std::vector<std::int64_t>& counters, bool save) override {
    struct visitor {
      std::vector<kept>& b;
      std::vector<std::int64_t>& c;
      bool save;
      std::size_t i = 0, j = 0;
      void parameter(std::string_view, hush::parameter&) {}
      void buffer(std::string_view, kept& t) { save ? b.push_back(t) : void(t = b[i++]); }  // into its storage
      void counter(std::string_view, std::int64_t& n) { save ? c.push_back(n) : void(n = c[j++]); }
    } v{buffers, counters, save};
    any_visitor erased(v);
    net.visit(erased);
  }

  tensor_ptr x_;
  layout_adapter in_, out_;  // the caller's NCHW to and from the net's planned layouts
};

}  // namespace hush
