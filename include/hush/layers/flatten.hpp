#pragma once
// flatten: x (N, C, H, W) -> y (N, C·H·W), torch.nn.Flatten(); unflatten, its inverse:
// x (N, C·H·W) -> y (N, C, H, W), torch.nn.Unflatten(1, (C, H, W)) (a fully connected
// generator's vector back to an image).
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

namespace detail {
/// A layer that only reshapes: its output is a copy of its input under another shape (a backend
/// kernel: the values may live on the device), since every layer owns its output.
/// Derived gives kind and output_shape.
template <class Derived>
struct reshape_copy {
  constexpr std::int64_t parameter_count() const { return 0; }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, static_cast<const Derived&>(*this).output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    copy_blocks(ctx.backend, 1, x.numel(), x.data(), x.numel(), ctx[y_].data(), x.numel());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    copy_blocks(ctx.backend, 1, dy.numel(), dy.data(), dy.numel(), ctx[dx_].data(), dy.numel());
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}

 private:
  kept y_, dx_;
};
}  // namespace detail

/// torch.nn.Flatten(): x (N, ...) -> y (N, the product of the rest), e.g. (N,C,H,W) -> (N, C·H·W);
/// a copy of the values under the new shape.
struct flatten : detail::reshape_copy<flatten> {
  static constexpr const char* kind = "flatten";
  shape output_shape(shape in) const {
    if (in.rank < 2) throw shape_error("flatten: expected (N, ...), got " + in.str());
    return {in[0], in.per_sample()};
  }
};

/// torch.nn.Unflatten(1, (C, H, W)): x (N, C·H·W) -> y (N, C, H, W), flatten's inverse (a fully
/// connected generator's vector back to an image); a copy of the values under the new shape.
struct unflatten : detail::reshape_copy<unflatten> {
  static constexpr const char* kind = "unflatten";
  /// unflatten's settings, all required: the image's channels, height and width, as in
  /// `unflatten({.channels = 128, .height = 7, .width = 7})`.
  struct options {
    std::int64_t channels, height, width;
  };
  constexpr explicit unflatten(options o) : opt(o) {}
  shape output_shape(shape in) const {
    if (in.rank != 2 || in[1] != opt.channels * opt.height * opt.width)
      throw shape_error("unflatten: expected (N, " + std::to_string(opt.channels * opt.height * opt.width) + ") for (" +
                        std::to_string(opt.channels) + ", " + std::to_string(opt.height) + ", " + std::to_string(opt.width) +
                        ") images, got " + in.str());
    return {in[0], opt.channels, opt.height, opt.width};
  }
  std::string describe() const {
    return std::to_string(opt.channels) + "x" + std::to_string(opt.height) + "x" + std::to_string(opt.width);
  }

  options opt;
};

}  // namespace hush
