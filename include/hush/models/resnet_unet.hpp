#pragma once
// Seed 003's question, a denoiser on a ResNet backbone: torchvision's ResNet trunk (conv1, bn1,
// layer1 ... layer4, with torchvision's names, so an ImageNet state_dict loads into it) as the
// encoder, and a U-Net decoder that climbs back up: at each scale, upsample (nearest, ×2), concat
// with the trunk's feature map of that scale (skip first), two 3×3 conv + batch norm + ReLU
// (decoder4 ... decoder1). The last decoder (decoder0) sees the image itself, a 3×3 convolution
// (out) gives the correction, and the input is added: y = x + out(...).
//   scale  1/2 (conv1)  1/4 (layer1)  1/8 (layer2)  1/16 (layer3)  1/32 (layer4)
// decoder channels     256 (1/16), 128 (1/8), 64 (1/4), 32 (1/2), 16 (1/1)
// x (N,C,H,W) -> y (N,C,H,W), H and W multiples of 32 (bench/torch_denoisers.py's ResNetUNet).
#include <cstdint>

#include "hush/graph/named.hpp"
#include "hush/graph/parallel.hpp"
#include "hush/graph/residual.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/norm.hpp"
#include "hush/layers/pool.hpp"
#include "hush/layers/upsample.hpp"
#include "hush/models/resnet.hpp"

namespace hush::models {

namespace resunet {
/// (conv 3×3 - batch norm - ReLU) × 2: merges the upsampled features with the skip.
using decoder = seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, named<"conv2", conv2d>,
                    named<"bn2", batch_norm2d>, relu>;
constexpr conv2d conv3(std::int64_t in, std::int64_t out) {
  return conv2d({.in = in, .out = out, .kernel = 3, .padding = 1, .bias = false});
}
constexpr decoder dec(std::int64_t in, std::int64_t out) {
  return decoder(conv3(in, out), batch_norm2d(out), relu{}, conv3(out, out), batch_norm2d(out), relu{});
}
constexpr upsample up() { return upsample({.scale = 2}); }
constexpr std::int64_t width[5] = {16, 32, 64, 128, 256};  // decoder0 ... decoder4

/// Each level runs the trunk down one stage, the skip around the deeper levels, its decoder, up.
template <class T>
struct levels {
  using l5 = seq<typename T::layer4, upsample>;
  using l4 = seq<typename T::layer3, flat_skip<l5>, named<"decoder4", decoder>, upsample>;
  using l3 = seq<typename T::layer2, flat_skip<l4>, named<"decoder3", decoder>, upsample>;
  using l2 = seq<max_pool2d, typename T::layer1, flat_skip<l3>, named<"decoder2", decoder>, upsample>;
  using l1 = seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, flat_skip<l2>, named<"decoder1", decoder>,
                 upsample>;
  using path = seq<flat_skip<l1>, named<"decoder0", decoder>, named<"out", conv2d>>;
};
}  // namespace resunet

/// A ResNet-backbone U-Net's image channels (in and out); the decoder's widths are fixed.
struct resnet_unet_options {
  std::int64_t channels = 3;
};

/// A denoiser on a torchvision ResNet trunk (`Trunk`, e.g. resnet18_trunk): the trunk encodes, a
/// U-Net decoder climbs back up through its skips, and the input is added: y = x + out(...).
/// x (N,C,H,W) -> (N,C,H,W); an ImageNet state_dict loads into the trunk.
template <class Trunk>
struct resnet_unet : residual<typename resunet::levels<Trunk>::path> {
  using lv = resunet::levels<Trunk>;
  using path = typename lv::path;
  /// H and W must be multiples of this (the trunk halves five times); hush-denoise pads to it.
  static constexpr std::int64_t size_multiple = 32;

  constexpr explicit resnet_unet(resnet_unet_options o) : residual<path>(make(o)) {}

 private:
  static constexpr path make(resnet_unet_options o) {
    using namespace resunet;
    constexpr auto& c = Trunk::out;
    const typename lv::l5 l5(Trunk::make_layer4(), up());
    const typename lv::l4 l4(Trunk::make_layer3(), flat_skip_over(l5), dec(c[3] + c[4], width[4]), up());
    const typename lv::l3 l3(Trunk::make_layer2(), flat_skip_over(l4), dec(c[2] + width[4], width[3]), up());
    const typename lv::l2 l2(detail::stem_pool(), Trunk::make_layer1(), flat_skip_over(l3),
                             dec(c[1] + width[3], width[2]), up());
    const typename lv::l1 l1(detail::stem_conv(o.channels), batch_norm2d(c[0]), relu{}, flat_skip_over(l2),
                             dec(c[0] + width[2], width[1]), up());
    return path(flat_skip_over(l1), dec(o.channels + width[1], width[0]),
                conv2d({.in = width[0], .out = o.channels, .kernel = 3, .padding = 1}));
  }
};

/// resnet_unet on ResNet-18's trunk (BasicBlocks, 512 channels at 1/32 scale).
struct resnet18_unet : resnet_unet<resnet18_trunk> {
  static constexpr const char* kind = "resnet18_unet";
  constexpr resnet18_unet() : resnet18_unet(resnet_unet_options{}) {}
  constexpr explicit resnet18_unet(resnet_unet_options o) : resnet_unet(o) {}
};
/// resnet_unet on ResNet-50's trunk (Bottlenecks, 2048 channels at 1/32 scale).
struct resnet50_unet : resnet_unet<resnet50_trunk> {
  static constexpr const char* kind = "resnet50_unet";
  constexpr resnet50_unet() : resnet50_unet(resnet_unet_options{}) {}
  constexpr explicit resnet50_unet(resnet_unet_options o) : resnet_unet(o) {}
};

}  // namespace hush::models
