#pragma once
// A tiny classifier and its data, for the trainer's tests: 8×8 grey images of two classes.
#include <cstdint>

#include "hush/core/random.hpp"
#include "hush/data/labelled_source.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"
#include "hush/layers/pool.hpp"

namespace hush::test {

/// A tiny network for trainer tests: 8×8 grey images, two classes.
struct tiny_net : hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::global_avg_pool, hush::linear> {
  static constexpr const char* kind = "tiny_net";
  tiny_net()
      : seq(hush::conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}), hush::batch_norm2d(4), hush::relu{},
            hush::global_avg_pool{}, hush::linear({.in = 4, .out = 2})) {}
};

/// Class 0: dark images, class 1: bright ones, with a little structure; n of them.
inline hush::data::labelled_images two_classes(std::int64_t n, std::uint64_t seed) {
  hush::data::labelled_images set{hush::tensor({n, 1, 8, 8}), hush::index_tensor({n})};
  const hush::counter_rng rng{seed};
  for (std::int64_t i = 0; i < n; ++i) {
    const auto label = std::int32_t(i % 2);
    set.labels[i] = label;
    for (std::int64_t j = 0; j < 64; ++j)
      set.images[i * 64 + j] = 0.2f + 0.5f * label * float(j % 8 > 2) + 0.3f * rng.uniform(std::uint64_t(i), std::uint64_t(j));
  }
  return set;
}

}  // namespace hush::test
