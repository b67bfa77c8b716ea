#pragma once
// A small CNN for 28×28 grey images (Fashion-MNIST): two conv-relu-pool stages and two linear
// layers. x (N,1,28,28) -> logits (N,10). 421,642 parameters.
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/flatten.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/pool.hpp"

namespace hush::models {

/// A small classifier for Fashion-MNIST: two conv 3×3 - ReLU - max pool 2×2 stages, a linear layer
/// of 128 with ReLU, and a linear layer to the classes. x (N,1,28,28) -> logits (N,10) by default.
struct fashion_cnn : seq<conv2d, relu, max_pool2d, conv2d, relu, max_pool2d, flatten, linear, relu, linear> {
  static constexpr const char* kind = "fashion_cnn";
  /// Input channels, classes and `width`, the first convolution's channels (the second has twice as
  /// many); the first linear layer is sized for 28×28 images.
  struct options {
    std::int64_t channels = 1, classes = 10, width = 32;
  };
  constexpr fashion_cnn() : fashion_cnn(options{}) {}
  constexpr explicit fashion_cnn(options o)
      : seq(conv2d({.in = o.channels, .out = o.width, .kernel = 3, .padding = 1}), relu{}, max_pool2d({.kernel = 2}),
            conv2d({.in = o.width, .out = 2 * o.width, .kernel = 3, .padding = 1}), relu{}, max_pool2d({.kernel = 2}),
            flatten{}, linear({.in = 2 * o.width * 7 * 7, .out = 128}), relu{}, linear({.in = 128, .out = o.classes})) {}
};

static_assert(fashion_cnn{}.parameter_count() == 421'642, "fashion_cnn: parameter count changed");

}  // namespace hush::models
