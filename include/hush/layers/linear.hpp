#pragma once
// linear: x (..., in) -> y (..., out) = x·Wᵀ + b over the last axis, every leading index a row
// ((N, in) after flatten, (N, T, in) for tokens), weight (out, in) as torch.nn.Linear stores it
// and initialised as PyTorch does: U(-b, b), b = 1/sqrt(in).
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"
#include "hush/layers/init.hpp"

namespace hush {

/// torch.nn.Linear: x (..., in) -> y (..., out) = x·Wᵀ + b over the last axis, every leading index a
/// row, so (N, in) and token sequences (N, T, in) alike; weight (out, in), initialised as PyTorch does.
struct linear {
  /// linear's settings, as in `linear({.in = 512, .out = 10})`: the input and output features, and
  /// whether there is a bias (yes by default; `.bias = false` as PyTorch's bias=False).
  struct options {
    std::int64_t in, out;
    bool bias = true;
  };
  static constexpr const char* kind = "linear";
  /// Backward never reads y, so a following activation may overwrite it in place.
  static constexpr bool overwritable_output = true;

  constexpr explicit linear(options o) : opt(o) {}

  constexpr std::int64_t parameter_count() const { return opt.out * opt.in + (opt.bias ? opt.out : 0); }

  shape output_shape(shape in) const {
    if (in.rank < 2 || in[in.rank - 1] != opt.in)
      throw shape_error("linear: expected (N, " + std::string(in.rank > 2 ? "..., " : "") + std::to_string(opt.in) +
                        "), got " + in.str());
    shape out = in;
    out[in.rank - 1] = opt.out;
    return out;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    if (weight.allocate(ctx, {opt.out, opt.in})) {
      const float bound = 1.0f / std::sqrt(float(opt.in));
      init_uniform(ctx, weight.value, ctx.next_stream(), bound);
      if (opt.bias && bias.allocate(ctx, {opt.out})) init_uniform(ctx, bias.value, ctx.next_stream(), bound);
    }
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto n = x.numel() / opt.in;
    gemm(ctx.backend, false, true, n, opt.out, opt.in, 1.0f, x.data(), ctx[weight.value].data(), 0.0f, ctx[y_].data());
    if (opt.bias) add_bias(ctx.backend, n, opt.out, 1, ctx[bias.value].data(), ctx[y_].data());
    return ctx[y_];
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const auto n = x.numel() / opt.in;
    gemm(ctx.backend, true, false, opt.out, opt.in, n, 1.0f, dy.data(), x.data(), 1.0f, ctx[weight.grad].data());
    if (opt.bias) sum_into_bias(ctx.backend, n, opt.out, 1, dy.data(), ctx[bias.grad].data());
    gemm(ctx.backend, false, false, n, opt.in, opt.out, 1.0f, dy.data(), ctx[weight.value].data(), 0.0f, ctx[dx_].data());
    return ctx[dx_];
  }

  template <class V>
  void visit(V&& v) {
    v.parameter("weight", weight);
    if (opt.bias) v.parameter("bias", bias);
  }

  std::string describe() const {
    return std::to_string(opt.in) + "->" + std::to_string(opt.out) + (opt.bias ? "" : ", no bias");
  }

  options opt;
  parameter weight, bias;

 private:
  kept y_, dx_;
};

}  // namespace hush
