#pragma once
// dropout: y = x·mask/(1-p) in train mode, y = x in eval mode: torch.nn.Dropout(p) (Srivastava
// et al. 2014). The mask is drawn from (seed, layer stream, step, element), so it is the same on
// every backend and thread count, and backward recomputes it instead of storing it.
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// torch.nn.Dropout(p), p = 0.5 by default: in train mode each element is zeroed with probability p
/// and the others scaled by 1/(1-p); otherwise y is x itself (no copy). The mask comes from a
/// counter-based generator, so backward draws it again instead of storing it.
struct dropout {
  static constexpr const char* kind = "dropout";
  constexpr explicit dropout(float probability = 0.5f) : p(probability) {}

  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (!(p >= 0.0f && p < 1.0f)) throw shape_error("dropout: p must be in [0, 1), got " + std::to_string(p));
    return in;
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    output_shape(in);
    if (stream_ == 0) stream_ = ctx.next_stream();
    ctx.keep(y_, in, buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    active_ = ctx.training() && p > 0.0f;
    if (!active_) return x;
    key_ = counter_rng::mix(stream_ ^ counter_rng::mix(ctx.step));
    dropout_forward(ctx.backend, x.numel(), p, ctx.rng, key_, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    if (!active_) return dy;
    dropout_backward(ctx.backend, dy.numel(), p, ctx.rng, key_, dy.data(), ctx[dx_].data());
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}
  std::string describe() const { return "p " + std::to_string(p).substr(0, 4); }

  float p;

 private:
  std::uint64_t stream_ = 0, key_ = 0;
  bool active_ = false;
  kept y_, dx_;
};

}  // namespace hush
