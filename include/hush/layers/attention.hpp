#pragma once
// Multi-head self-attention (Vaswani et al. 2017) over token sequences (N, T, C):
//   scaled_dot_product_attention: qkv (N, T, 3C) -> (N, T, C), softmax(Q·Kᵀ/√D)·V per head, with
//     C = heads·D; one fused kernel per backend (backend/*/attention.hpp), which keeps the N·H·T·T
//     softmax weights for backward (in inference mode they go to the context's scratch instead).
//   self_attention: qkv projection, attention, output projection, with timm's and the MAE code's
//     names (qkv.weight, proj.weight); torchvision's nn.MultiheadAttention names are
//     models/vit.hpp's.
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/linear.hpp"

namespace hush {

/// Multi-head attention on packed projections: qkv (N, T, 3C) -> y (N, T, C), softmax(Q·Kᵀ/√D)·V per
/// head, Q, K and V side by side along the last axis and C = heads·D. No parameters; one fused kernel
/// per backend, which keeps the N·heads·T·T softmax weights for backward.
struct scaled_dot_product_attention {
  /// scaled_dot_product_attention's settings: the number of heads, which must divide C (the input's
  /// last axis is 3·heads·D).
  struct options {
    std::int64_t heads;
  };
  static constexpr const char* kind = "scaled_dot_product_attention";
  constexpr explicit scaled_dot_product_attention(options o) : opt(o) {}
  constexpr std::int64_t parameter_count() const { return 0; }

  shape output_shape(shape in) const {
    if (in.rank != 3 || opt.heads < 1 || in[2] % (3 * opt.heads) != 0)
      throw shape_error("scaled_dot_product_attention: expected (N, T, 3·heads·D) with " + std::to_string(opt.heads) +
                        " heads, got " + in.str());
    return {in[0], in[1], in[2] / 3};
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    const auto out = output_shape(in);
    ctx.keep(y_, out, buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    ctx.keep(probs_, {geometry(in).probs_count()}, buffer_role::saved);
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto g = geometry(x.shape());
    // No backward follows an inference: the weights need not outlive the call.
    float* probs = ctx.mode == mode::inference ? ctx.scratch(g.probs_count()) : ctx[probs_].data();
    attention_forward(ctx.backend, g, x.data(), probs, ctx[y_].data());
    return ctx[y_];
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const auto g = geometry(x.shape());
    attention_backward(ctx.backend, g, x.data(), ctx[probs_].data(), dy.data(), ctx.scratch(g.probs_count()),
                       ctx[dx_].data());
    return ctx[dx_];
  }

  template <class V>
  void visit(V&&) {}
  std::string describe() const { return std::to_string(opt.heads) + " heads"; }

  options opt;

 private:
  attention_geometry geometry(shape in) const {
    const auto d = in[2] / (3 * opt.heads);
    return {in[0], in[1], opt.heads, d, 1.0f / std::sqrt(float(d))};
  }
  kept y_, dx_, probs_;
};

/// x (N, T, C) -> (N, T, C): qkv = x·W_qkvᵀ + b, the attention of every head, then proj.
struct self_attention
    : seq<named<"qkv", linear>, scaled_dot_product_attention, named<"proj", linear>> {
  /// self_attention's settings, as in `self_attention({.dim = 768, .heads = 12})`: the width C, the
  /// number of heads (which must divide it), and whether qkv has a bias (yes by default; proj always has).
  struct options {
    std::int64_t dim, heads;
    bool qkv_bias = true;
  };
  static constexpr const char* kind = "self_attention";
  constexpr explicit self_attention(options o)
      : seq(linear({.in = o.dim, .out = 3 * o.dim, .bias = o.qkv_bias}),
            scaled_dot_product_attention({.heads = o.heads}), linear({.in = o.dim, .out = o.dim})) {}
};

}  // namespace hush
