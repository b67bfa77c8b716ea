#pragma once
// Seed 002's networks for restoring coarse images (Fashion-MNIST's 28×28 here), as types. Every
// generator takes the coarse image brought back to full size (nearest, so its blocks are the
// coarse pixels) and gives an image in [0, 1]:
//   mlp_generator      the plain GAN's shallow generator: two fully connected layers
//   conv_generator     DCGAN's (and WGAN's; CGAN's with the class planes as extra input
//                      channels): two 4×4/2 convolutions down to a quarter of the size, two 4×4/2
//                      transposed convolutions (DCGAN's "deconvolution layers") back up, batch
//                      norm after all but the first, then a 3×3 convolution and a sigmoid. Its
//                      view spans the whole 28-pixel image, as a restorer of 4×4-pixel inputs
//                      needs (a stack of 3×3 convolutions at full size sees 7 pixels)
//   resgan_generator   ResGAN's X_g = f(g(X_r) ⊕ X_r): g (the conv_generator's trunk) sees the
//                      coarse image X_r, its features are concatenated with X_r itself (the
//                      pass-through channel of the seed's Fig. 2), and f, a 3×3 convolution and a
//                      sigmoid, maps both to the image
// and the discriminators, whose `outputs` is 1 + K with a classifier of K classes beside the
// real/generated logit (ResGAN's embedded classifier, train/adversarial.hpp's `classes`):
//   mlp_discriminator    the plain GAN's: two fully connected layers
//   small_discriminator  DCGAN's for small images: two 4×4/2 convolutions (batch norm on the
//                        second), leaky ReLU 0.2, a linear layer
// The seed gives no layer sizes; these are DCGAN's conventions at Fashion-MNIST's scale. The
// convolutional generators take sizes that are multiples of 4.
#include <cstdint>

#include "hush/graph/parallel.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/conv_transpose.hpp"
#include "hush/layers/flatten.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"

namespace hush::models {

/// mlp_generator's input and output channels, image `size` (28, Fashion-MNIST's) and `hidden` width.
struct mlp_generator_options {
  std::int64_t in_channels = 1, out_channels = 1, size = 28, hidden = 512;
};
/// Seed 002's plain-GAN generator: two fully connected layers (ReLU between, sigmoid after) from the
/// upscaled coarse image to an image in [0, 1]. (N,in,S,S) -> (N,out,S,S).
struct mlp_generator : seq<flatten, linear, relu, linear, sigmoid, unflatten> {
  static constexpr const char* kind = "mlp_generator";
  using base = seq<flatten, linear, relu, linear, sigmoid, unflatten>;
  constexpr mlp_generator() : mlp_generator(mlp_generator_options{}) {}
  constexpr explicit mlp_generator(mlp_generator_options o)
      : base(flatten{}, linear({.in = o.in_channels * o.size * o.size, .out = o.hidden}), relu{},
             linear({.in = o.hidden, .out = o.out_channels * o.size * o.size}), sigmoid{},
             unflatten({.channels = o.out_channels, .height = o.size, .width = o.size})) {}
};

/// conv_generator's input channels (CGAN adds the class planes here), output channels and `width`,
/// its trunk's channels (twice as many at a quarter of the size).
struct conv_generator_options {
  std::int64_t in_channels = 1, out_channels = 1, width = 64;
};
namespace gan_detail {
/// Down by 4 and back: (N, in, S, S) -> (N, width, S, S), S a multiple of 4. Leaky ReLU going
/// down and ReLU coming up, as DCGAN's discriminator and generator; no bias before batch norm.
using trunk = seq<conv2d, leaky_relu, conv2d, batch_norm2d, leaky_relu,  //
                  conv_transpose2d, batch_norm2d, relu, conv_transpose2d, batch_norm2d, relu>;
constexpr trunk make_trunk(std::int64_t in, std::int64_t width) {
  const auto down = [](std::int64_t from, std::int64_t to, bool bias) {
    return conv2d({.in = from, .out = to, .kernel = 4, .stride = 2, .padding = 1, .bias = bias});
  };
  const auto up = [](std::int64_t from, std::int64_t to) {
    return conv_transpose2d({.in = from, .out = to, .kernel = 4, .stride = 2, .padding = 1, .bias = false});
  };
  return trunk(down(in, width, true), leaky_relu(0.2f), down(width, 2 * width, false), batch_norm2d(2 * width), leaky_relu(0.2f),
               up(2 * width, width), batch_norm2d(width), relu{}, up(width, width), batch_norm2d(width), relu{});
}
constexpr conv2d head(std::int64_t in, std::int64_t out) { return conv2d({.in = in, .out = out, .kernel = 3, .padding = 1}); }
}  // namespace gan_detail

/// Seed 002's DCGAN-style generator: two 4×4/2 convolutions down, two 4×4/2 transposed convolutions
/// back up, then a 3×3 convolution and a sigmoid. (N,in,S,S) -> (N,out,S,S) in [0, 1], S a multiple of 4.
struct conv_generator : seq<gan_detail::trunk, conv2d, sigmoid> {
  static constexpr const char* kind = "conv_generator";
  using base = seq<gan_detail::trunk, conv2d, sigmoid>;
  constexpr conv_generator() : conv_generator(conv_generator_options{}) {}
  constexpr explicit conv_generator(conv_generator_options o)
      : base(gan_detail::make_trunk(o.in_channels, o.width), gan_detail::head(o.width, o.out_channels), sigmoid{}) {}
};

/// resgan_generator's image channels (in and out) and its trunk's `width`.
struct resgan_generator_options {
  std::int64_t channels = 1, width = 64;
};
/// f(g(X_r) ⊕ X_r): concat_skip puts X_r first, then g's `width` channels.
struct resgan_generator : seq<concat_skip<gan_detail::trunk>, conv2d, sigmoid> {
  static constexpr const char* kind = "resgan_generator";
  using base = seq<concat_skip<gan_detail::trunk>, conv2d, sigmoid>;
  constexpr resgan_generator() : resgan_generator(resgan_generator_options{}) {}
  constexpr explicit resgan_generator(resgan_generator_options o)
      : base(concat_skip<gan_detail::trunk>(gan_detail::make_trunk(o.channels, o.width)),
             gan_detail::head(o.channels + o.width, o.channels), sigmoid{}) {}
};

/// The small discriminators' input channels, image `size` (28), `width` and `outputs` (1, or 1 + K
/// with a classifier of K classes beside the real/generated logit).
struct small_discriminator_options {
  std::int64_t channels = 1, size = 28, width = 64, outputs = 1;
};
/// Seed 002's plain-GAN discriminator: flatten, a linear layer of 8·`width` (512 by default), leaky
/// ReLU 0.2, a linear layer to `outputs`. x (N,C,S,S) -> (N,outputs).
struct mlp_discriminator : seq<flatten, linear, leaky_relu, linear> {
  static constexpr const char* kind = "mlp_discriminator";
  using base = seq<flatten, linear, leaky_relu, linear>;
  constexpr mlp_discriminator() : mlp_discriminator(small_discriminator_options{}) {}
  /// Its hidden layer has 8·`width` units (512 at the default width of 64).
  constexpr explicit mlp_discriminator(small_discriminator_options o)
      : base(flatten{}, linear({.in = o.channels * o.size * o.size, .out = 8 * o.width}), leaky_relu(0.2f),
             linear({.in = 8 * o.width, .out = o.outputs})) {}
};

/// x (N, C, S, S) -> (N, outputs), S a multiple of 4.
struct small_discriminator
    : seq<conv2d, leaky_relu, conv2d, batch_norm2d, leaky_relu, flatten, linear> {
  static constexpr const char* kind = "small_discriminator";
  using base = seq<conv2d, leaky_relu, conv2d, batch_norm2d, leaky_relu, flatten, linear>;
  constexpr small_discriminator() : small_discriminator(small_discriminator_options{}) {}
  constexpr explicit small_discriminator(small_discriminator_options o)
      : base(conv2d({.in = o.channels, .out = o.width, .kernel = 4, .stride = 2, .padding = 1}), leaky_relu(0.2f),
             conv2d({.in = o.width, .out = 2 * o.width, .kernel = 4, .stride = 2, .padding = 1, .bias = false}),
             batch_norm2d(2 * o.width), leaky_relu(0.2f), flatten{},
             linear({.in = 2 * o.width * (o.size / 4) * (o.size / 4), .out = o.outputs})) {}
};

}  // namespace hush::models
