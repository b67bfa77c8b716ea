#pragma once
// DnCNN (Zhang, Zuo, Chen, Meng & Zhang 2017), the classic learned denoiser and hush's baseline:
// a plain stack of 3×3 convolutions at full resolution that predicts the noise, which is then
// subtracted from the input ("residual learning"). DnCNN-17 is the paper's depth for Gaussian
// denoising at a known level (DnCNN-S): conv + ReLU, 15 × (conv + batch norm + ReLU), conv.
// x (N,C,H,W) -> y = x - f(x) (N,C,H,W), any H and W. Parameter names: head, body.<i>.conv,
// body.<i>.bn, tail (bench/torch_denoisers.py's DnCNN).
#include <cstddef>
#include <cstdint>

#include "hush/graph/named.hpp"
#include "hush/graph/repeat.hpp"
#include "hush/graph/residual.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/norm.hpp"

namespace hush::models {

/// DnCNN's image channels (in and out) and `width`, the channels of its hidden convolutions (64 in
/// the paper).
struct dncnn_options {
  std::int64_t channels = 3, width = 64;
};

/// conv 3×3 (no bias: batch norm follows) - batch norm - ReLU, at `width` channels.
using dncnn_block = seq<named<"conv", conv2d>, named<"bn", batch_norm2d>, relu>;

/// DnCNN with `Depth` convolutions (Depth - 2 of them in the body).
template <std::size_t Depth>
struct dncnn : residual<seq<named<"head", conv2d>, relu, named<"body", repeat<Depth - 2, dncnn_block>>,
                            named<"tail", conv2d>, scale>> {
  static_assert(Depth >= 3, "DnCNN needs a head, a body and a tail");
  using path = seq<named<"head", conv2d>, relu, named<"body", repeat<Depth - 2, dncnn_block>>, named<"tail", conv2d>, scale>;
  /// Any size works: every convolution keeps H and W.
  static constexpr std::int64_t size_multiple = 1;

  constexpr explicit dncnn(dncnn_options o)
      : residual<path>(path(conv(o.channels, o.width, true), relu{},
                            repeat<Depth - 2, dncnn_block>(dncnn_block(conv(o.width, o.width, false),
                                                                       batch_norm2d(o.width), relu{})),
                            conv(o.width, o.channels, true), scale(-1.0f))) {}

 private:
  static constexpr conv2d conv(std::int64_t in, std::int64_t out, bool bias) {
    return conv2d({.in = in, .out = out, .kernel = 3, .padding = 1, .bias = bias});
  }
};

/// DnCNN-17, the paper's depth for Gaussian noise of a known level (DnCNN-S): 17 convolutions,
/// 15 of them with batch norm. x (N,C,H,W) -> x - f(x), any H and W.
struct dncnn17 : dncnn<17> {
  static constexpr const char* kind = "dncnn17";
  constexpr dncnn17() : dncnn17(dncnn_options{}) {}
  constexpr explicit dncnn17(dncnn_options o) : dncnn(o) {}
};

}  // namespace hush::models
