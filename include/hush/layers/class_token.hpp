#pragma once
// The ViT's class token (Dosovitskiy et al. 2021), a learned vector in front of the sequence:
//   class_token<Name>: x (N, T, C) -> (N, 1 + T, C), the token first; its parameter is `Name`
//     ("cls_token" in the MAE code, "class_token" in torchvision's), (1, 1, C), N(0, 0.02²).
//   take_class_token: x (N, T, C) -> (N, C), token 0: what a ViT's classifier head reads.
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/fixed_string.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/random.hpp"  // HUSH_HD
#include "hush/layers/init.hpp"

namespace hush {

namespace detail {
// The kernels, outside the class template: nvcc cannot name a device lambda inside a template
// with a string argument (the host code it generates cannot spell fixed_string's value).
template <class Backend>
void prepend_token(Backend backend, std::int64_t n, std::int64_t t, std::int64_t c, const float* token, const float* in,
                   float* y) {
  for_each_index(backend, n * (t + 1) * c, [=] HUSH_HD(std::int64_t i) {
    const std::int64_t ch = i % c, s = (i / c) % (t + 1), b = i / (c * (t + 1));
    y[i] = s == 0 ? token[ch] : in[(b * t + s - 1) * c + ch];
  });
}
/// dx from dy without the token's row; the token's gradient summed over the batch (a thread per channel).
template <class Backend>
void prepend_token_backward(Backend backend, std::int64_t n, std::int64_t t, std::int64_t c, const float* dy, float* dx,
                            float* dtoken) {
  for_each_index(backend, n * t * c, [=] HUSH_HD(std::int64_t i) {
    const std::int64_t ch = i % c, s = (i / c) % t, b = i / (c * t);
    dx[i] = dy[(b * (t + 1) + s + 1) * c + ch];
  });
  for_each_index(backend, c, [=] HUSH_HD(std::int64_t ch) {
    double sum = 0;
    for (std::int64_t b = 0; b < n; ++b) sum += dy[b * (t + 1) * c + ch];
    dtoken[ch] += static_cast<float>(sum);
  });
}
}  // namespace detail

/// The ViT's learned class token, put in front of each sequence: x (N, T, C) -> y (N, 1 + T, C).
/// The token is a (1, 1, C) parameter drawn from N(0, 0.02²); `Name` is its name in saved weights
/// ("cls_token" as in the MAE code, "class_token" as in torchvision's ViT).
template <fixed_string Name = "cls_token">
struct class_token {
  static constexpr const char* kind = "class_token";
  constexpr explicit class_token(std::int64_t width) : dim(width) {}
  constexpr std::int64_t parameter_count() const { return dim; }

  shape output_shape(shape in) const {
    if (in.rank != 3 || in[2] != dim)
      throw shape_error("class_token: expected (N, T, " + std::to_string(dim) + "), got " + in.str());
    return {in[0], in[1] + 1, in[2]};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    if (token.allocate(ctx, {1, 1, dim})) init_normal(ctx, token.value, ctx.next_stream(), 0.02f);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    detail::prepend_token(ctx.backend, x.shape()[0], x.shape()[1], dim, ctx[token.value].data(), x.data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    detail::prepend_token_backward(ctx.backend, x.shape()[0], x.shape()[1], dim, dy.data(), ctx[dx_].data(),
                                   ctx[token.grad].data());
    return ctx[dx_];
  }
  template <class V>
  void visit(V&& v) {
    v.parameter(std::string_view(Name), token);
  }
  std::string describe() const { return std::to_string(dim); }

  std::int64_t dim;
  parameter token;

 private:
  kept y_, dx_;
};

/// x (N, T, C) -> y (N, C), the first token of each sequence (torch: `x[:, 0]`): the class token
/// that a ViT's classifier head reads. Backward puts dy in row 0 and zeros in the other rows.
struct take_class_token {
  static constexpr const char* kind = "take_class_token";
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank != 3 || in[1] < 1) throw shape_error("take_class_token: expected (N, T, C), got " + in.str());
    return {in[0], in[2]};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const std::int64_t t = x.shape()[1], c = x.shape()[2];
    const float* in = x.data();
    float* y = ctx[y_].data();
    for_each_index(ctx.backend, ctx[y_].numel(), [=] HUSH_HD(std::int64_t i) { y[i] = in[(i / c) * t * c + i % c]; });
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const std::int64_t t = x.shape()[1], c = x.shape()[2];
    const float* g = dy.data();
    float* dx = ctx[dx_].data();
    for_each_index(ctx.backend, x.numel(), [=] HUSH_HD(std::int64_t i) {
      const std::int64_t s = (i / c) % t;
      dx[i] = s == 0 ? g[(i / (t * c)) * c + i % c] : 0.0f;
    });
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}

 private:
  kept y_, dx_;
};

}  // namespace hush
