#pragma once
// frozen<Net>: a trained network used as a fixed function, as PyTorch runs one under
// torch.no_grad() after .eval(): a denoiser put in front of a classifier that alone learns.
//
//   - It runs in eval mode whatever the model's mode: batch norm from its running statistics
//     (never updated), no dropout. (Eval, not inference: weights loaded into it at any time are
//     used as they are, with no folded copy to go stale.)
//   - An optimizer never sees its parameters: they are visited as buffers, under the same names,
//     so a frozen and a trainable composition of the same networks read and write the same weight
//     files (io/weights.hpp stores it as Net: the structure hash ignores the wrapper).
//   - It keeps no gradient buffers: neither its parameters' gradients nor its layers' input
//     gradients are allocated (context::keep_gradients is off while it sets up).
//   - Its backward passes a zero gradient back, as detach() does: its output depends on nothing
//     trainable, so the layers before it, if any, learn nothing through it. Any composition is
//     therefore well defined; the useful one puts it first.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/layout.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// `frozen<Net>`: a trained network run as a fixed function, like .eval() under torch.no_grad():
/// always in eval mode, no gradient buffers, its parameters visited as buffers so no optimizer
/// sees them. Backward passes a zero gradient back, as detach() does.
template <class Net>
struct frozen {
  static_assert(check_layer<Net>());
  static constexpr const char* kind = "frozen";
  using layer_type = Net;

  constexpr frozen() requires std::default_initializable<Net> = default;
  constexpr explicit frozen(Net n) : net(std::move(n)) {}

  /// No trainable scalars (the concept counts those); Net's own count is net.parameter_count().
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const { return net.output_shape(in); }
  /// What a weight file stores for it: Net itself.
  constexpr const Net& stored_as() const { return net; }

  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    f(std::string(), net, in);
  }
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) const {
    f(std::string(), net, in);
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    const bool keep = ctx.keep_gradients;
    ctx.keep_gradients = false;
    try {
      net.setup(ctx, in);
    } catch (...) {
      ctx.keep_gradients = keep;
      throw;
    }
    ctx.keep_gradients = keep;
    out_.plan(plan_child(ctx, net, in_, layout::nchw, false), layout::nchw);  // NCHW in and out, as a model
    ctx.keep(dx_, in, buffer_role::saved);  // the zero it passes back: written once, so never planned
    ctx[dx_].zero();
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto outer = ctx.mode;
    ctx.mode = mode::eval;
    struct restore {
      Ctx& c;
      hush::mode m;
      ~restore() { c.mode = m; }
    } back{ctx, outer};
    return out_.forward(ctx, net.forward(ctx, in_.forward(ctx, x)));
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>&) {
    return ctx[dx_];
  }

  /// Net's parameters as buffers (loaded and saved, never optimized), its buffers and counters as
  /// they are; the names are Net's own.
  template <class V>
  void visit(V&& v) {
    as_buffers<std::remove_reference_t<V>> b{v};
    net.visit(b);
  }

  Net net;

 private:
  template <class V>
  struct as_buffers {
    V& inner;
    void parameter(std::string_view n, hush::parameter& p) { inner.buffer(n, p.value); }
    void buffer(std::string_view n, kept& t) { inner.buffer(n, t); }
    void counter(std::string_view n, std::int64_t& c) { inner.counter(n, c); }
  };
  layout_adapter in_, out_;
  kept dx_;
};

}  // namespace hush
