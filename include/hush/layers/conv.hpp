#pragma once
// conv2d: x (N,C,H,W) -> y (N,K,P,Q), weight (K, C/groups, R, S) OIHW as PyTorch stores it.
// torch.nn.Conv2d; initialised as PyTorch does: U(-b, b) with b = 1/sqrt(fan_in) for weight
// (kaiming_uniform with a = sqrt(5)) and bias.
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"
#include "hush/layers/init.hpp"

namespace hush {

namespace detail {
/// "32->64, 3x3, stride 2, pad 1" for print() and the structure hash: conv2d and conv_transpose2d.
template <class Options>
std::string describe_conv(const Options& o, std::int64_t output_padding) {
  auto s = std::to_string(o.in) + "->" + std::to_string(o.out) + ", " + std::to_string(o.kernel) + "x" +
           std::to_string(o.kernel);
  if (o.stride != 1) s += ", stride " + std::to_string(o.stride);
  if (o.padding) s += ", pad " + std::to_string(o.padding);
  if (output_padding) s += ", output pad " + std::to_string(output_padding);
  if (o.dilation != 1) s += ", dilation " + std::to_string(o.dilation);
  if (o.groups != 1) s += ", groups " + std::to_string(o.groups);
  return o.bias ? s : s + ", no bias";
}
}  // namespace detail

struct conv2d {
  struct options {
    std::int64_t in, out, kernel;
    std::int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
    bool bias = true;
  };
  static constexpr const char* kind = "conv2d";

  constexpr explicit conv2d(options o) : opt(o) {}

  constexpr std::int64_t parameter_count() const {
    return opt.out * (opt.in / opt.groups) * opt.kernel * opt.kernel + (opt.bias ? opt.out : 0);
  }

  shape output_shape(shape in) const { return out_shape(in); }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    geom_ = geometry(in);
    geom_.complete();
    if (weight.allocate({opt.out, opt.in / opt.groups, opt.kernel, opt.kernel})) {
      const float bound = 1.0f / std::sqrt(float((opt.in / opt.groups) * opt.kernel * opt.kernel));
      init_uniform(weight.value, ctx.rng, ctx.next_stream(), bound);
      if (opt.bias && bias.allocate({opt.out})) init_uniform(bias.value, ctx.rng, ctx.next_stream(), bound);
    }
    y_.resize(out_shape(in));
    dx_.resize(in);
  }

  template <class Ctx>
  const tensor& forward(Ctx& ctx, const tensor& x) {
    conv2d_forward(ctx.backend, geom_, x.data(), weight.value.data(), opt.bias ? bias.value.data() : nullptr,
                   y_.data(), ctx.scratch(conv2d_scratch(ctx.backend, geom_)));
    return y_;
  }

  template <class Ctx>
  const tensor& backward(Ctx& ctx, const tensor& x, const tensor& dy) {
    float* scratch = ctx.scratch(conv2d_scratch(ctx.backend, geom_));
    if (opt.bias) sum_into_bias(ctx.backend, geom_.n, geom_.k, geom_.p * geom_.q, dy.data(), bias.grad.data());
    conv2d_backward_weight(ctx.backend, geom_, x.data(), dy.data(), weight.grad.data(), scratch);
    conv2d_backward_data(ctx.backend, geom_, weight.value.data(), dy.data(), dx_.data(), scratch);
    return dx_;
  }

  template <class V>
  void visit(V&& v) {
    v.parameter("weight", weight);
    if (opt.bias) v.parameter("bias", bias);
  }

  std::string describe() const { return detail::describe_conv(opt, 0); }

  options opt;
  parameter weight, bias;

 private:
  conv_geometry geometry(shape in) const {
    if (in.rank != 4 || in.c() != opt.in)
      throw shape_error("conv2d: expected (N, " + std::to_string(opt.in) + ", H, W), got " + in.str());
    if (opt.in % opt.groups || opt.out % opt.groups)
      throw shape_error("conv2d: groups " + std::to_string(opt.groups) + " must divide in " +
                        std::to_string(opt.in) + " and out " + std::to_string(opt.out));
    conv_geometry g{in.n(), in.c(), in.h(), in.w(), opt.out, opt.kernel, opt.kernel,
                    opt.stride, opt.stride, opt.padding, opt.padding, opt.dilation, opt.dilation, opt.groups};
    auto c = g;
    c.complete();
    if (c.p < 1 || c.q < 1)
      throw shape_error("conv2d: a " + std::to_string(opt.kernel) + "x" + std::to_string(opt.kernel) +
                        " kernel does not fit input " + in.str());
    return g;
  }
  shape out_shape(shape in) const {
    auto g = geometry(in);
    g.complete();
    return {g.n, g.k, g.p, g.q};
  }

  conv_geometry geom_{};
  tensor y_, dx_;
};

}  // namespace hush
