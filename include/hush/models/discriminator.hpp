#pragma once
// A DCGAN-style discriminator (Radford et al. 2016; seed 001's "five groups of convolution, batch
// normalisation and leaky ReLU"): five 4×4 stride-2 convolutions, each followed by batch norm and
// leaky ReLU (slope 0.2), channels doubling from `width`, then one linear layer to a logit.
// x (N,C,S,S) -> logit (N,1) (or (N,outputs)), S = the image size given in the options (a multiple of 32).
#include <cstdint>

#include "hush/graph/repeat.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/flatten.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"

namespace hush::models {

/// dcgan_discriminator's input channels, image `size` (a multiple of 32; 256 by default), `width`
/// (the first convolution's channels, doubled by each of the next four) and `outputs`.
struct discriminator_options {
  std::int64_t channels = 3, size = 256, width = 64;
  /// Scores per image: 1 (real or generated), or 1 + K with a classifier of K classes beside it
  /// (AC-GAN; seed 002's ResGAN).
  std::int64_t outputs = 1;
};

/// conv 4×4/2 (no bias: batch norm follows) - batch norm - leaky ReLU(0.2): halves the image.
using down_block = seq<conv2d, batch_norm2d, leaky_relu>;
/// A down_block from `in` to `out` channels.
constexpr down_block down(std::int64_t in, std::int64_t out) {
  return down_block(conv2d({.in = in, .out = out, .kernel = 4, .stride = 2, .padding = 1, .bias = false}),
                    batch_norm2d(out), leaky_relu(0.2f));
}

/// Seed 001's DCGAN-style discriminator: five down blocks (conv 4×4/2, batch norm, leaky ReLU 0.2),
/// then a linear layer. x (N,C,S,S) -> scores (N,outputs).
struct dcgan_discriminator : seq<down_block, down_block, down_block, down_block, down_block, flatten, linear> {
  static constexpr const char* kind = "dcgan_discriminator";
  using base = seq<down_block, down_block, down_block, down_block, down_block, flatten, linear>;

  constexpr dcgan_discriminator() : dcgan_discriminator(discriminator_options{}) {}
  constexpr explicit dcgan_discriminator(discriminator_options o)
      : base(down(o.channels, o.width), down(o.width, 2 * o.width), down(2 * o.width, 4 * o.width),
             down(4 * o.width, 8 * o.width), down(8 * o.width, 16 * o.width), flatten{},
             linear({.in = 16 * o.width * (o.size / 32) * (o.size / 32), .out = o.outputs})) {}
};

}  // namespace hush::models
