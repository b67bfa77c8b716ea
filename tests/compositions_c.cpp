// The composition property test, part c (tests/compositions.hpp): repeat, named and classifier heads, and the cases issue 14 reported.
#include "compositions.hpp"

using namespace compositions;

TEST_CASE("compositions: repeat, named, a classifier head") {
  over<repeated, HUSH_COMPOSITION_PAIRS>::check();
  over<names, HUSH_COMPOSITION_PAIRS>::check();
  over<classifier, HUSH_COMPOSITION_PAIRS>::check();
  MESSAGE(counted() << " compositions against the reference");
  CHECK(counted() == 63);
}

namespace {
struct pool2 : hush::max_pool2d {
  explicit pool2(std::int64_t) : max_pool2d({.kernel = 2}) {}
};
struct half_head : hush::linear {  // after a 2x2 pooling of 6x6
  explicit half_head(std::int64_t c) : linear({.in = c * 9, .out = 3}) {}
};
struct deconv_up : hush::conv_transpose2d {  // pix2pix's up-convolution: 3x3 -> 6x6
  explicit deconv_up(std::int64_t c) : conv_transpose2d({.in = c, .out = c, .kernel = 4, .stride = 2, .padding = 1}) {}
};
}  // namespace

TEST_CASE("compositions: the ones the cpu backend got wrong before layouts were planned (issue 14)") {
  counted() = 0;
  check<seq<conv3, seq<hush::relu, pool2>>>(16);                         // forward and dx were off by ~2
  check<seq<conv3, seq<hush::tanh, hush::flatten>>>(16);                 // ~1.3
  check<seq<conv3, seq<hush::relu, pool2, deconv_up, bnorm>>>(32);        // pix2pix's up block: ~5-8
  check<seq<conv3, gated_conv, conv3, bnorm>>(16);                       // a hand-written composite reading NCHW
  check<seq<conv3, seq<hush::relu, seq<identity, seq<pool2>>>, hush::flatten, half_head>>(48);
  check<seq<seq<conv3, hush::relu>, seq<pool2, hush::flatten, half_head>>>(16);
  CHECK(counted() == 6);
}
