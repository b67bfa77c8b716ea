#pragma once
// The Noise2Noise U-Net (Lehtinen et al. 2018, appendix table 2; seed 003's baseline), as a type:
// five 3×3 convolution + max-pool levels down, five nearest-upsampling levels up, each level's
// input concatenated (skip first) with what comes back up, as one recursive block (pix2pix's
// UnetSkipConnectionBlock, here concat_skip). Every convolution but the last is followed by
// leaky ReLU (slope 0.1). x (N,C,H,W) -> y (N,C',H,W), H and W multiples of 32.
// Parameter names follow the paper's layer names (enc_conv0 ... dec_conv1c).
#include <cstdint>
#include <utility>

#include "hush/graph/named.hpp"
#include "hush/graph/parallel.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/pool.hpp"
#include "hush/layers/upsample.hpp"

namespace hush::models {

namespace n2n {
constexpr conv2d conv(std::int64_t in, std::int64_t out) {
  return conv2d({.in = in, .out = out, .kernel = 3, .padding = 1});
}
constexpr leaky_relu lrelu() { return leaky_relu(0.1f); }
constexpr max_pool2d pool() { return max_pool2d({.kernel = 2}); }
constexpr upsample up() { return upsample({.scale = 2}); }

/// The deepest level: enc_conv5, pool5, enc_conv6, up. (N,48,h,w) -> (N,48,h,w).
using bottom = seq<named<"enc_conv5", conv2d>, leaky_relu, max_pool2d, named<"enc_conv6", conv2d>, leaky_relu, upsample>;

/// A middle level around `Inner` (which returns `inner_out` channels): its encoder convolution and
/// pool, cat(skip, Inner), two decoder convolutions, up. (N,48,h,w) -> (N,96,h,w). The names come
/// as named<...> types: string literals passed through an alias template's own parameters make
/// nvcc 13.0's host-code generator write undeclared names (docs/gpu.md, "nvcc's crash").
template <class Enc, class Inner, class DecA, class DecB>
using level = seq<Enc, leaky_relu, max_pool2d, flat_skip<Inner>, DecA, leaky_relu, DecB, leaky_relu, upsample>;
template <class Level, class Inner>
constexpr Level make_level(std::int64_t width, Inner inner, std::int64_t inner_out) {
  return Level(conv(width, width), lrelu(), pool(), flat_skip_over(std::move(inner)), conv(width + inner_out, 2 * width),
               lrelu(), conv(2 * width, 2 * width), lrelu(), up());
}

using level4 = level<named<"enc_conv4", conv2d>, bottom, named<"dec_conv5a", conv2d>, named<"dec_conv5b", conv2d>>;
using level3 = level<named<"enc_conv3", conv2d>, level4, named<"dec_conv4a", conv2d>, named<"dec_conv4b", conv2d>>;
using level2 = level<named<"enc_conv2", conv2d>, level3, named<"dec_conv3a", conv2d>, named<"dec_conv3b", conv2d>>;
/// The top level has two encoder convolutions (enc_conv0 takes the image's channels).
using top = seq<named<"enc_conv0", conv2d>, leaky_relu, named<"enc_conv1", conv2d>, leaky_relu, max_pool2d,
                flat_skip<level2>, named<"dec_conv2a", conv2d>, leaky_relu, named<"dec_conv2b", conv2d>, leaky_relu,
                upsample>;
}  // namespace n2n

/// noise2noise_unet's input and output channels and `width`, its encoder's channels (48 in the
/// paper; the decoder has twice as many).
struct unet_options {
  std::int64_t channels = 3, out_channels = 3, width = 48;
};

/// Noise2Noise U-Net; H and W must be multiples of `size_multiple` (hush-denoise pads to it).
struct noise2noise_unet : seq<flat_skip<n2n::top>, named<"dec_conv1a", conv2d>, leaky_relu,
                              named<"dec_conv1b", conv2d>, leaky_relu, named<"dec_conv1c", conv2d>> {
  static constexpr const char* kind = "noise2noise_unet";
  using base = seq<flat_skip<n2n::top>, named<"dec_conv1a", conv2d>, leaky_relu, named<"dec_conv1b", conv2d>,
                   leaky_relu, named<"dec_conv1c", conv2d>>;
  static constexpr std::int64_t size_multiple = 32;

  constexpr noise2noise_unet() : noise2noise_unet(unet_options{}) {}
  constexpr explicit noise2noise_unet(unet_options o) : base(make(o)) {}

 private:
  static constexpr base make(unet_options o) {
    using namespace n2n;
    const auto w = o.width;
    const bottom b(conv(w, w), lrelu(), pool(), conv(w, w), lrelu(), up());
    const auto l4 = make_level<level4>(w, b, w);
    const auto l3 = make_level<level3>(w, l4, 2 * w);
    const auto l2 = make_level<level2>(w, l3, 2 * w);
    const top t(conv(o.channels, w), lrelu(), conv(w, w), lrelu(), pool(), flat_skip_over(l2),
                conv(w + 2 * w, 2 * w), lrelu(), conv(2 * w, 2 * w), lrelu(), up());
    return base(flat_skip_over(t), conv(o.channels + 2 * w, 64), lrelu(), conv(64, 32), lrelu(),
                conv(32, o.out_channels));
  }
};

}  // namespace hush::models
