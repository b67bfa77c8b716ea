#pragma once
// Pooling: x (N,C,H,W) -> y (N,C,P,Q). torch.nn.MaxPool2d / AvgPool2d (count_include_pad=False),
// AdaptiveAvgPool2d((P, Q)) (a fixed output size from any input, as torchvision's VGG), and
// global average pooling x (N,C,H,W) -> y (N,C) as torchvision's ResNet avgpool + flatten.
#include <cstdint>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/backend/provides.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// The settings of max_pool2d and avg_pool2d, a square kernel×kernel window, as in
/// `max_pool2d({.kernel = 3, .stride = 2, .padding = 1})`. stride 0 (the default) means the kernel
/// size, as in PyTorch; padding (0 by default) may be at most half the kernel.
struct pool_options {
  std::int64_t kernel;
  std::int64_t stride = 0;  // 0: same as kernel, as in PyTorch
  std::int64_t padding = 0;
};

namespace detail {
template <class Derived>
struct pool2d {
  constexpr explicit pool2d(pool_options o) : opt(o) {
    if (opt.stride == 0) opt.stride = opt.kernel;
  }
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    const auto g = geometry(in);
    return {g.n, g.c, g.p, g.q};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    geom_ = geometry(in);
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class V>
  void visit(V&&) {}
  std::string describe() const {
    return std::to_string(opt.kernel) + "x" + std::to_string(opt.kernel) + ", stride " + std::to_string(opt.stride) +
           (opt.padding ? ", pad " + std::to_string(opt.padding) : "");
  }

  pool_options opt;

 protected:
  pool_geometry geometry(shape in) const {
    if (in.rank != 4) throw shape_error(std::string(Derived::kind) + ": expected (N, C, H, W), got " + in.str());
    pool_geometry g{in.n(), in.c(), in.h(), in.w(), opt.kernel, opt.kernel, opt.stride, opt.stride, opt.padding,
                    opt.padding};
    g.complete();
    if (g.p < 1 || g.q < 1 || 2 * opt.padding > opt.kernel)
      throw shape_error(std::string(Derived::kind) + ": window " + describe() + " does not fit input " + in.str());
    return g;
  }
  pool_geometry geom_{};
  kept y_, dx_;
};
}  // namespace detail

/// torch.nn.MaxPool2d: x (N,C,H,W) -> y (N,C,P,Q), the largest value in each window (padding never
/// wins); backward sends each dy to that value's position. Built from pool_options.
struct max_pool2d : detail::pool2d<max_pool2d> {
  static constexpr const char* kind = "max_pool2d";
  using pool2d::pool2d;
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    max_pool2d_forward(ctx.backend, geom_, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    max_pool2d_backward(ctx.backend, geom_, x.data(), dy.data(), ctx[dx_].data());
    return ctx[dx_];
  }
};

/// torch.nn.AvgPool2d(count_include_pad=False): x (N,C,H,W) -> y (N,C,P,Q), the mean of each window
/// over its taps inside the input, so padding is never counted (PyTorch's default counts it).
/// Built from pool_options.
struct avg_pool2d : detail::pool2d<avg_pool2d> {
  static constexpr const char* kind = "avg_pool2d";
  using pool2d::pool2d;
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    avg_pool2d_forward(ctx.backend, geom_, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    avg_pool2d_backward(ctx.backend, geom_, dy.data(), ctx[dx_].data());
    return ctx[dx_];
  }
};

}  // namespace hush

namespace hush {

/// adaptive_avg_pool2d({.height = 7, .width = 7}): x (N,C,H,W) -> y (N,C,7,7) for any H, W, as
/// torch.nn.AdaptiveAvgPool2d((7, 7)); the identity when the input is 7×7 already.
struct adaptive_avg_pool2d {
  static constexpr const char* kind = "adaptive_avg_pool2d";
  /// adaptive_avg_pool2d's settings: the output's height and width (P, Q), both required and at
  /// least 1, as in `adaptive_avg_pool2d({.height = 7, .width = 7})`.
  struct options {
    std::int64_t height, width;
  };
  constexpr explicit adaptive_avg_pool2d(options o) : opt(o) {}
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank != 4) throw shape_error("adaptive_avg_pool2d: expected (N, C, H, W), got " + in.str());
    if (opt.height < 1 || opt.width < 1)
      throw shape_error("adaptive_avg_pool2d: the output size " + std::to_string(opt.height) + "x" + std::to_string(opt.width) +
                        " must be at least 1x1");
    return {in.n(), in.c(), opt.height, opt.width};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    geom_ = adaptive_pool_geometry{in.n(), in.c(), in.h(), in.w(), opt.height, opt.width};
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    adaptive_avg_pool2d_forward(ctx.backend, geom_, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    adaptive_avg_pool2d_backward(ctx.backend, geom_, dy.data(), ctx[dx_].data());
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}
  std::string describe() const { return std::to_string(opt.height) + "x" + std::to_string(opt.width); }

  options opt;

 private:
  adaptive_pool_geometry geom_{};
  kept y_, dx_;
};

/// global_avg_pool: x (N,C,H,W) -> y (N,C), the mean of each plane: torchvision's
/// AdaptiveAvgPool2d(1) followed by flatten. An average pool with the whole plane as its window.
/// It reads the cpu backend's blocked layout as it comes (core/layout.hpp), so the convolutions
/// of a ResNet's last stage hand each other blocked activations up to it; (N, C) is the same in
/// either layout.
struct global_avg_pool {
  static constexpr const char* kind = "global_avg_pool";
  static constexpr bool prefers_blocked(bool) { return true; }
  template <class Ctx>
  layout plan_layout(Ctx&, layout in, bool) {
    if (in == layout::blocked && !blocked_kernels<Ctx>)
      throw layout_error("global_avg_pool: a blocked input on a backend without the blocked layout");
    blocked_ = in == layout::blocked;
    return layout::nchw;
  }
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank != 4) throw shape_error("global_avg_pool: expected (N, C, H, W), got " + in.str());
    return {in.n(), in.c()};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    geom_ = pool_geometry{in.n(), in.c(), in.h(), in.w(), in.h(), in.w(), 1, 1};
    geom_.complete();
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    if constexpr (blocked_kernels<Ctx>) {
      if (blocked_) {
        global_avg_pool_blocked_forward(ctx.backend, geom_.n, geom_.c, geom_.h * geom_.w, x.data(), ctx[y_].data());
        return ctx[y_];
      }
    }
    avg_pool2d_forward(ctx.backend, geom_, x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    auto& dx = ctx[dx_];
    dx.set_layout(blocked_ ? layout::blocked : layout::nchw);
    if constexpr (blocked_kernels<Ctx>) {
      if (blocked_) {
        global_avg_pool_blocked_backward(ctx.backend, geom_.n, geom_.c, geom_.h * geom_.w, dy.data(), dx.data());
        return dx;
      }
    }
    avg_pool2d_backward(ctx.backend, geom_, dy.data(), dx.data());
    return dx;
  }
  template <class V>
  void visit(V&&) {}

 private:
  template <class Ctx>
  static constexpr bool blocked_kernels = provides_blocked_layout<typename Ctx::backend_type>;
  pool_geometry geom_{};
  bool blocked_ = false;  // planned at setup: the input comes in the blocked layout
  kept y_, dx_;
};

}  // namespace hush
