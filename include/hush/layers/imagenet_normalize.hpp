#pragma once
// imagenet_normalize: x (N, C, H, W) in [0, 1] -> y (N, 3, H, W) = (x - mean) / std per channel,
// with ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225): what torchvision's
// pretrained networks expect of their input (its transforms.Normalize). A grey image (C = 1) is
// repeated to three channels first, as a VGG content loss on grey pictures needs. No parameters.
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/random.hpp"  // HUSH_HD

namespace hush {

namespace detail {
/// torchvision's ImageNet statistics, usable in device code.
struct imagenet_stats {
  HUSH_HD float mean(std::int64_t k) const { return k == 0 ? 0.485f : (k == 1 ? 0.456f : 0.406f); }
  HUSH_HD float std(std::int64_t k) const { return k == 0 ? 0.229f : (k == 1 ? 0.224f : 0.225f); }
};
}  // namespace detail

/// ImageNet's normalisation as a layer (torchvision's transforms.Normalize with ImageNet's mean and
/// std): x (N,C,H,W) in [0, 1], C = 1 or 3 -> y (N,3,H,W), a grey input repeated to three channels.
/// Goes in front of a pretrained torchvision network; no parameters, and backward gives dx.
struct imagenet_normalize {
  static constexpr const char* kind = "imagenet_normalize";
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank != 4 || (in.c() != 1 && in.c() != 3))
      throw shape_error("imagenet_normalize: expected (N, 1 or 3, H, W), got " + in.str());
    return {in.n(), 3, in.h(), in.w()};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    channels_ = in.c(), plane_ = in.h() * in.w();
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const detail::imagenet_stats s{};
    const auto c = channels_, hw = plane_;
    const float* xp = x.data();
    float* y = ctx[y_].data();
    for_each_index(ctx.backend, ctx[y_].numel(), [=] HUSH_HD(std::int64_t i) {
      const auto k = (i / hw) % 3, n = i / (3 * hw);
      y[i] = (xp[(n * c + (c == 1 ? 0 : k)) * hw + i % hw] - s.mean(k)) / s.std(k);
    });
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    const detail::imagenet_stats s{};
    const auto c = channels_, hw = plane_;
    const float* d = dy.data();
    float* dx = ctx[dx_].data();
    for_each_index(ctx.backend, ctx[dx_].numel(), [=] HUSH_HD(std::int64_t i) {
      const auto k = (i / hw) % c, n = i / (c * hw), at = i % hw;
      if (c == 1) {
        float sum = 0.0f;
        for (std::int64_t j = 0; j < 3; ++j) sum += d[(n * 3 + j) * hw + at] / s.std(j);
        dx[i] = sum;
      } else {
        dx[i] = d[i] / s.std(k);
      }
    });
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}

 private:
  std::int64_t channels_ = 3, plane_ = 0;
  kept y_, dx_;
};

}  // namespace hush
