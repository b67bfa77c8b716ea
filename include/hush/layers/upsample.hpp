#pragma once
// upsample: x (N,C,H,W) -> y (N,C,s·H,s·W) for an integer factor s, nearest or bilinear:
// torch.nn.Upsample(scale_factor=s, mode='nearest' | 'bilinear', align_corners=False).
#include <cstdint>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// torch.nn.Upsample(scale_factor=s, mode='nearest' or 'bilinear', align_corners=False):
/// x (N,C,H,W) -> y (N,C,s·H,s·W), for an integer factor s.
struct upsample {
  enum class interpolation { nearest, bilinear };
  /// upsample's settings: the integer factor (2 by default) and the interpolation (nearest by
  /// default), as in `upsample({.scale = 2, .interpolation = upsample::interpolation::bilinear})`.
  struct options {
    std::int64_t scale = 2;
    upsample::interpolation interpolation = upsample::interpolation::nearest;
  };
  static constexpr const char* kind = "upsample";

  constexpr explicit upsample(options o) : opt(o) {}

  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank != 4) throw shape_error("upsample: expected (N, C, H, W), got " + in.str());
    if (opt.scale < 1) throw shape_error("upsample: scale must be a positive integer");
    return {in.n(), in.c(), in.h() * opt.scale, in.w() * opt.scale};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    geom_ = {in.n(), in.c(), in.h(), in.w(), opt.scale, opt.interpolation == interpolation::bilinear};
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    upsample_forward(ctx.backend, geom_, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    upsample_backward(ctx.backend, geom_, dy.data(), ctx[dx_].data());
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}
  std::string describe() const {
    std::string s = "x";  // piecewise: GCC 12 misreports "x" + std::string (PR 105329)
    s += std::to_string(opt.scale);
    s += opt.interpolation == interpolation::bilinear ? ", bilinear" : ", nearest";
    return s;
  }

  options opt;

 private:
  upsample_geometry geom_{};
  kept y_, dx_;
};

}  // namespace hush
