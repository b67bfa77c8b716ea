#pragma once
// Seed 001's generator: a residual U-Net (pix2pix's U-Net, Isola et al. 2017, cut to five levels),
// whose output is added to its input, so it learns the correction rather than the image.
//   encoder block k: conv 4×4/2, batch norm (not on the first), leaky ReLU(0.2)   halves H, W
//   decoder block k: transposed conv 4×4/2, batch norm, ReLU                      doubles H, W
// Level k concatenates (skip first) the output of its encoder with what comes back up, as
// pix2pix's UnetSkipConnectionBlock; a 3×3 convolution maps the top decoder's `width` channels
// back to the image's, and the input is added: y = x + out(...). Channels double from `width` up
// to 8·width (64 → 512 as in pix2pix: 16.8 M parameters; the seed reports "almost 20 millions").
// x (N,C,H,W) -> y (N,C,H,W), H and W multiples of 32. Parameter names: enc1.conv ... enc5.bn,
// dec5.conv ... dec1.bn, out (bench/torch_denoisers.py's ResidualUNet).
#include <cstdint>
#include <utility>

#include "hush/graph/named.hpp"
#include "hush/graph/parallel.hpp"
#include "hush/graph/residual.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/conv_transpose.hpp"
#include "hush/layers/norm.hpp"

namespace hush::models {

namespace runet {
using first_encoder = seq<named<"conv", conv2d>, leaky_relu>;
using encoder = seq<named<"conv", conv2d>, named<"bn", batch_norm2d>, leaky_relu>;
using decoder = seq<named<"conv", conv_transpose2d>, named<"bn", batch_norm2d>, relu>;

constexpr conv2d down(std::int64_t in, std::int64_t out, bool bias) {
  return conv2d({.in = in, .out = out, .kernel = 4, .stride = 2, .padding = 1, .bias = bias});
}
constexpr encoder enc(std::int64_t in, std::int64_t out) {
  return encoder(down(in, out, false), batch_norm2d(out), leaky_relu(0.2f));
}
constexpr decoder dec(std::int64_t in, std::int64_t out) {
  return decoder(conv_transpose2d({.in = in, .out = out, .kernel = 4, .stride = 2, .padding = 1, .bias = false}),
                 batch_norm2d(out), relu{});
}

/// The levels, innermost first: level k runs enc<k>, the skip around level k+1, dec<k>.
using level5 = seq<named<"enc5", encoder>, named<"dec5", decoder>>;
using level4 = seq<named<"enc4", encoder>, flat_skip<level5>, named<"dec4", decoder>>;
using level3 = seq<named<"enc3", encoder>, flat_skip<level4>, named<"dec3", decoder>>;
using level2 = seq<named<"enc2", encoder>, flat_skip<level3>, named<"dec2", decoder>>;
using level1 = seq<named<"enc1", first_encoder>, flat_skip<level2>, named<"dec1", decoder>>;
using path = seq<named<"", level1>, named<"out", conv2d>>;
}  // namespace runet

/// residual_unet's image channels (in and out) and `width`, its first level's channels, which
/// double down to 8·width (64 in pix2pix).
struct residual_unet_options {
  std::int64_t channels = 3, width = 64;
};

/// Seed 001's generator: a five-level pix2pix U-Net (4×4/2 convolutions down, 4×4/2 transposed ones
/// up, skips by concatenation) whose output is added to its input, so it learns the correction.
/// x (N,C,H,W) -> (N,C,H,W).
struct residual_unet : residual<runet::path> {
  static constexpr const char* kind = "residual_unet";
  /// H and W must be multiples of this (five halvings); hush-denoise pads to it.
  static constexpr std::int64_t size_multiple = 32;

  constexpr residual_unet() : residual_unet(residual_unet_options{}) {}
  constexpr explicit residual_unet(residual_unet_options o) : residual(make(o)) {}

 private:
  static constexpr runet::path make(residual_unet_options o) {
    using namespace runet;
    const auto w = o.width;
    const level5 l5(enc(8 * w, 8 * w), dec(8 * w, 8 * w));
    const level4 l4(enc(4 * w, 8 * w), flat_skip_over(l5), dec(16 * w, 4 * w));
    const level3 l3(enc(2 * w, 4 * w), flat_skip_over(l4), dec(8 * w, 2 * w));
    const level2 l2(enc(w, 2 * w), flat_skip_over(l3), dec(4 * w, w));
    const level1 l1(first_encoder(down(o.channels, w, true), leaky_relu(0.2f)), flat_skip_over(l2), dec(2 * w, w));
    return path(l1, conv2d({.in = w, .out = o.channels, .kernel = 3, .padding = 1}));
  }
};

}  // namespace hush::models
