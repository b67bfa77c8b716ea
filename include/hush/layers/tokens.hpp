#pragma once
// Between images and token sequences (the ViT and MAE layouts):
//   to_tokens: x (N, C, H, W) -> (N, H·W, C), one token per pixel, row by row:
//     x.flatten(2).transpose(1, 2) in PyTorch.
//   patch_embed: a p×p convolution of stride p to `dim` channels, then to_tokens: the ViT's patch
//     embedding (the MAE code's names: proj.weight).
//   unpatchify: (N, h·w, p·p·C) -> (N, C, h·p, w·p), each token's values as (row in the patch,
//     column, channel), the MAE code's unpatchify; patchify (a function, for targets) its inverse.
// They move values and nothing else: forward gathers y[i] = x[source(i)], backward scatters the
// gradient back through the same one-to-one map (no two writes meet, so no atomics).
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/random.hpp"  // HUSH_HD
#include "hush/graph/named.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/conv.hpp"

namespace hush {

namespace detail {
/// A layer that permutes its input: Derived gives kind, output_shape and index_map(in), a
/// device-callable object whose operator()(i) is the input index of output element i.
template <class Derived>
struct permute_copy {
  constexpr std::int64_t parameter_count() const { return 0; }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, self().output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto source = self().index_map(x.shape());
    const float* in = x.data();
    float* out = ctx[y_].data();
    for_each_index(ctx.backend, x.numel(), [=] HUSH_HD(std::int64_t i) { out[i] = in[source(i)]; });
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const auto source = self().index_map(x.shape());
    const float* g = dy.data();
    float* dx = ctx[dx_].data();
    for_each_index(ctx.backend, x.numel(), [=] HUSH_HD(std::int64_t i) { dx[source(i)] = g[i]; });
    return ctx[dx_];
  }
  template <class V>
  void visit(V&&) {}

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  kept y_, dx_;
};

/// Token (n, t) channel c of (N, T, C) comes from pixel t of channel c of (N, C, H·W).
struct tokens_from_image {
  std::int64_t c, hw;
  HUSH_HD std::int64_t operator()(std::int64_t i) const {
    const std::int64_t ch = i % c, t = (i / c) % hw, n = i / (c * hw);
    return (n * c + ch) * hw + t;
  }
};

/// Pixel (n, c, y, x) of the image comes from token (y/p)·w + x/p of (N, h·w, p·p·C), value
/// ((y mod p)·p + x mod p)·C + c.
struct image_from_patches {
  std::int64_t c, p, h, w;  // channels, patch side, patches down and across
  HUSH_HD std::int64_t operator()(std::int64_t i) const {
    const std::int64_t width = w * p, height = h * p;
    const std::int64_t x = i % width, y = (i / width) % height, ch = (i / (width * height)) % c,
                       n = i / (width * height * c);
    const std::int64_t token = (y / p) * w + x / p;
    return ((n * h * w + token) * p * p + (y % p) * p + x % p) * c + ch;
  }
};
}  // namespace detail

/// x (N, C, H, W) -> y (N, H·W, C): one token per pixel, row by row, its C channels as the token's
/// values (`x.flatten(2).transpose(1, 2)` in PyTorch). A copy; no parameters.
struct to_tokens : detail::permute_copy<to_tokens> {
  static constexpr const char* kind = "to_tokens";
  shape output_shape(shape in) const {
    if (in.rank != 4) throw shape_error("to_tokens: expected (N, C, H, W), got " + in.str());
    return {in[0], in[2] * in[3], in[1]};
  }
  detail::tokens_from_image index_map(shape in) const { return {in[1], in[2] * in[3]}; }
};

/// The ViT's patch embedding: x (N, C, H, W) -> y (N, (H/p)·(W/p), dim), a p×p convolution of stride p
/// (named proj, as in the MAE code) followed by to_tokens: one token per patch, row by row.
struct patch_embed : seq<named<"proj", conv2d>, to_tokens> {
  /// patch_embed's settings, all required: the image's channels, the embedding width dim and the patch
  /// side p, as in `patch_embed({.channels = 3, .dim = 768, .patch = 16})`.
  struct options {
    std::int64_t channels, dim, patch;
  };
  static constexpr const char* kind = "patch_embed";
  constexpr explicit patch_embed(options o)
      : seq(conv2d({.in = o.channels, .out = o.dim, .kernel = o.patch, .stride = o.patch}), to_tokens{}) {}
};

/// The MAE's unpatchify: per-token patches (N, h·w, p·p·C) -> images (N, C, h·p, w·p), each token's
/// values read as (row in the patch, column, channel). The function patchify does the reverse, for
/// a reconstruction loss's targets.
struct unpatchify : detail::permute_copy<unpatchify> {
  /// unpatchify's settings: the patch side p and the channels C (required), and the grid's rows h:
  /// 0 (the default) for a square grid, else the number of tokens T must be a multiple of it.
  struct options {
    std::int64_t patch, channels;
    std::int64_t rows = 0;  ///< patches down the image; 0: a square grid
  };
  static constexpr const char* kind = "unpatchify";
  constexpr explicit unpatchify(options o) : opt(o) {}

  shape output_shape(shape in) const {
    const auto [h, w] = grid(in);
    return {in[0], opt.channels, h * opt.patch, w * opt.patch};
  }
  detail::image_from_patches index_map(shape in) const {
    const auto [h, w] = grid(in);
    return {opt.channels, opt.patch, h, w};
  }
  std::string describe() const { return "patch " + std::to_string(opt.patch) + ", " + std::to_string(opt.channels) + " channels"; }

  options opt;

 private:
  struct extent {
    std::int64_t h, w;
  };
  extent grid(shape in) const {
    const auto fail = [&] {
      return shape_error("unpatchify: expected (N, T, " + std::to_string(opt.patch * opt.patch * opt.channels) +
                         ") with T a " + (opt.rows ? "multiple of " + std::to_string(opt.rows) : std::string("square")) +
                         ", got " + in.str());
    };
    if (in.rank != 3 || in[2] != opt.patch * opt.patch * opt.channels || in[1] < 1) throw fail();
    if (opt.rows > 0) {
      if (in[1] % opt.rows) throw fail();
      return {opt.rows, in[1] / opt.rows};
    }
    const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(double(in[1]))));
    if (side * side != in[1]) throw fail();
    return {side, side};
  }
};

/// images (N, C, H, W) -> their patches (N, (H/p)·(W/p), p·p·C), unpatchify's layout: the target
/// a reconstruction loss compares the per-token predictions with.
template <class Backend, class Memory>
void patchify(Backend backend, const basic_tensor<Memory>& images, std::int64_t p, basic_tensor<Memory>& out) {
  const auto s = images.shape();
  if (s.rank != 4 || s.h() % p || s.w() % p)
    throw shape_error("patchify: expected (N, C, H, W) with H and W multiples of " + std::to_string(p) + ", got " + s.str());
  const shape want{s.n(), (s.h() / p) * (s.w() / p), p * p * s.c()};
  if (out.shape() != want) out = basic_tensor<Memory>(want);
  const detail::image_from_patches source{s.c(), p, s.h() / p, s.w() / p};
  const float* in = images.data();
  float* o = out.data();
  for_each_index(backend, images.numel(), [=] HUSH_HD(std::int64_t i) { o[source(i)] = in[i]; });
}

}  // namespace hush
