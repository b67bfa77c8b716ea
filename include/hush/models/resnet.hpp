#pragma once
// Residual networks (He, Zhang, Ren & Sun 2016), as types.
//   resnet18, resnet34, resnet50: torchvision's ImageNet models, with torchvision's parameter
//     names (conv1, bn1, layer1.0.conv1, ..., layer1.0.downsample.0, fc) and its choices: the
//     bottleneck strides on its 3×3 convolution, projection shortcuts where shapes change.
//   resnet20, resnet56, resnet110: the CIFAR models of the paper's §4.2 (seed 004): a 3×3 stem,
//     three stages of 16/32/64 channels with n = 3, 9, 18 basic blocks, global pooling, fc.
//     Where a stage changes shape the shortcut is a 1×1 projection with batch norm (the paper's
//     option B), named like torchvision's.
// Options: input channels (1 for Fashion-MNIST, 3 for photos) and classes.
#include <cstdint>

#include "hush/graph/named.hpp"
#include "hush/graph/repeat.hpp"
#include "hush/graph/residual.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"
#include "hush/layers/pool.hpp"

namespace hush::models {

namespace detail {
constexpr conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1) {
  return conv2d({.in = in, .out = out, .kernel = kernel, .stride = stride, .padding = kernel / 2, .bias = false});
}
using projection = named<"downsample", seq<conv2d, batch_norm2d>>;
constexpr projection project(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return projection(seq<conv2d, batch_norm2d>(conv(in, out, 1, stride), batch_norm2d(out)));
}
}  // namespace detail

/// conv3×3-bn-relu-conv3×3-bn, plus the shortcut, then relu (torchvision's BasicBlock).
using basic_path = seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, named<"conv2", conv2d>, named<"bn2", batch_norm2d>>;
/// The path of a BasicBlock from `in` to `out` channels, its first convolution strided by `stride`.
constexpr basic_path basic(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return basic_path(detail::conv(in, out, 3, stride), batch_norm2d(out), relu{}, detail::conv(out, out, 3), batch_norm2d(out));
}
/// torchvision's BasicBlock where the shape stays: `channels` in and out, stride 1, identity shortcut.
struct basic_block : residual<basic_path, identity, relu> {
  static constexpr const char* kind = "basic_block";
  constexpr explicit basic_block(std::int64_t channels) : residual(basic(channels, channels, 1)) {}
};
/// torchvision's BasicBlock that changes the shape (`in` to `out` channels, first convolution strided
/// by `stride`): its shortcut is a 1×1 convolution and batch norm, named downsample.
struct basic_block_down : residual<basic_path, detail::projection, relu> {
  static constexpr const char* kind = "basic_block";
  constexpr basic_block_down(std::int64_t in, std::int64_t out, std::int64_t stride)
      : residual(basic(in, out, stride), detail::project(in, out, stride)) {}
};

/// conv1×1-bn-relu-conv3×3(stride)-bn-relu-conv1×1(×4)-bn, plus the shortcut, then relu
/// (torchvision's Bottleneck, "ResNet v1.5").
using bottleneck_path = seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, named<"conv2", conv2d>,
                            named<"bn2", batch_norm2d>, relu, named<"conv3", conv2d>, named<"bn3", batch_norm2d>>;
/// The path of a Bottleneck from `in` to 4·`width` channels through `width`, its 3×3 convolution
/// strided by `stride`.
constexpr bottleneck_path bottle(std::int64_t in, std::int64_t width, std::int64_t stride) {
  return bottleneck_path(detail::conv(in, width, 1), batch_norm2d(width), relu{}, detail::conv(width, width, 3, stride),
                         batch_norm2d(width), relu{}, detail::conv(width, 4 * width, 1), batch_norm2d(4 * width));
}
/// torchvision's Bottleneck where the shape stays: 4·`width` channels in and out, 1×1 convolutions
/// around a 3×3 one of `width` channels, identity shortcut.
struct bottleneck : residual<bottleneck_path, identity, relu> {
  static constexpr const char* kind = "bottleneck";
  constexpr explicit bottleneck(std::int64_t width) : residual(bottle(4 * width, width, 1)) {}
};
/// torchvision's Bottleneck that changes the shape: `in` to 4·`width` channels, the 3×3 convolution
/// strided by `stride`, and a 1×1 convolution and batch norm as shortcut (downsample).
struct bottleneck_down : residual<bottleneck_path, detail::projection, relu> {
  static constexpr const char* kind = "bottleneck";
  constexpr bottleneck_down(std::int64_t in, std::int64_t width, std::int64_t stride)
      : residual(bottle(in, width, stride), detail::project(in, 4 * width, stride)) {}
};

/// A ResNet's input channels (1 for Fashion-MNIST, 3 for photos) and classes. The defaults are
/// ImageNet's; the CIFAR ResNets' default constructors ask for 10 classes instead.
struct resnet_options {
  std::int64_t channels = 3, classes = 1000;
};

// Each ResNet is built from constants (its `build()`), then its two run-time numbers, input
// channels and classes, are set on the result. Building the nested object from a run-time value
// instead crashes nvcc 13.0's front end (docs/gpu.md, "nvcc's crash").
namespace detail {
template <class Net>
constexpr void set_io(Net& net, resnet_options o) {
  net.template get<0>().opt.in = o.channels;
  net.template get<Net::size - 1>().opt.out = o.classes;
}

/// The ImageNet stem: conv 7×7/2, bn, relu, max pool 3×3/2.
template <class... Stages>
using imagenet_resnet = seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, max_pool2d, Stages...,
                            global_avg_pool, named<"fc", linear>>;
template <std::size_t N>
using basic_stage = repeat<N, basic_block, basic_block_down>;
template <std::size_t N>
using bottleneck_stage = repeat<N, bottleneck, bottleneck_down>;
}  // namespace detail

/// The four stages of an ImageNet ResNet, with torchvision's names: their types, how to build
/// them (from constants), and the channels each stage's output has (`out[0]` is the stem's).
/// The ResNets here and the ResNet-backbone denoiser (models/resnet_unet.hpp) share them.
template <std::size_t N1, std::size_t N2, std::size_t N3, std::size_t N4>
struct basic_trunk {
  using layer1 = named<"layer1", repeat<N1, basic_block>>;
  using layer2 = named<"layer2", detail::basic_stage<N2>>;
  using layer3 = named<"layer3", detail::basic_stage<N3>>;
  using layer4 = named<"layer4", detail::basic_stage<N4>>;
  static constexpr std::int64_t out[5] = {64, 64, 128, 256, 512};
  static constexpr layer1 make_layer1() { return repeat<N1, basic_block>(basic_block(64)); }
  static constexpr layer2 make_layer2() { return detail::basic_stage<N2>(basic_block_down(64, 128, 2), basic_block(128)); }
  static constexpr layer3 make_layer3() { return detail::basic_stage<N3>(basic_block_down(128, 256, 2), basic_block(256)); }
  static constexpr layer4 make_layer4() { return detail::basic_stage<N4>(basic_block_down(256, 512, 2), basic_block(512)); }
};
/// The four Bottleneck stages of an ImageNet ResNet (ResNet-50's kind), as basic_trunk gives the
/// BasicBlock ones: stage outputs of 256, 512, 1024 and 2048 channels; every stage starts with a
/// projecting block (layer1's at stride 1, from the stem's 64 channels).
template <std::size_t N1, std::size_t N2, std::size_t N3, std::size_t N4>
struct bottleneck_trunk {
  using layer1 = named<"layer1", detail::bottleneck_stage<N1>>;
  using layer2 = named<"layer2", detail::bottleneck_stage<N2>>;
  using layer3 = named<"layer3", detail::bottleneck_stage<N3>>;
  using layer4 = named<"layer4", detail::bottleneck_stage<N4>>;
  static constexpr std::int64_t out[5] = {64, 256, 512, 1024, 2048};
  static constexpr layer1 make_layer1() { return detail::bottleneck_stage<N1>(bottleneck_down(64, 64, 1), bottleneck(64)); }
  static constexpr layer2 make_layer2() { return detail::bottleneck_stage<N2>(bottleneck_down(256, 128, 2), bottleneck(128)); }
  static constexpr layer3 make_layer3() { return detail::bottleneck_stage<N3>(bottleneck_down(512, 256, 2), bottleneck(256)); }
  static constexpr layer4 make_layer4() { return detail::bottleneck_stage<N4>(bottleneck_down(1024, 512, 2), bottleneck(512)); }
};
/// ResNet-18's four stages (2, 2, 2, 2 BasicBlocks), with torchvision's names.
using resnet18_trunk = basic_trunk<2, 2, 2, 2>;
/// ResNet-34's four stages (3, 4, 6, 3 BasicBlocks), with torchvision's names.
using resnet34_trunk = basic_trunk<3, 4, 6, 3>;
/// ResNet-50's four stages (3, 4, 6, 3 Bottlenecks), with torchvision's names.
using resnet50_trunk = bottleneck_trunk<3, 4, 6, 3>;

namespace detail {
/// The ImageNet stem's first convolution (7×7/2, 64 channels) and max pool (3×3/2).
constexpr conv2d stem_conv(std::int64_t channels) { return conv(channels, 64, 7, 2); }
constexpr max_pool2d stem_pool() { return max_pool2d({.kernel = 3, .stride = 2, .padding = 1}); }
}  // namespace detail

/// torchvision's ImageNet ResNet on `Trunk`'s stages: the stem (conv1 7×7/2, bn1, ReLU, max pool
/// 3×3/2), layer1 to layer4, global average pooling and fc, under torchvision's names.
/// x (N,C,H,W) -> logits (N,classes).
template <class Trunk>
struct imagenet_resnet_of : detail::imagenet_resnet<typename Trunk::layer1, typename Trunk::layer2,
                                                    typename Trunk::layer3, typename Trunk::layer4> {
  using base = detail::imagenet_resnet<typename Trunk::layer1, typename Trunk::layer2, typename Trunk::layer3,
                                       typename Trunk::layer4>;
  static constexpr base build() {
    return base(detail::stem_conv(3), batch_norm2d(64), relu{}, detail::stem_pool(), Trunk::make_layer1(),
                Trunk::make_layer2(), Trunk::make_layer3(), Trunk::make_layer4(), global_avg_pool{},
                linear({.in = Trunk::out[4], .out = 1000}));
  }
  constexpr explicit imagenet_resnet_of(resnet_options o) : base(build()) { detail::set_io(*this, o); }
};

/// ResNet-18 as torchvision's resnet18: 2, 2, 2, 2 BasicBlocks per stage.
struct resnet18 : imagenet_resnet_of<resnet18_trunk> {
  static constexpr const char* kind = "resnet18";
  constexpr resnet18() : resnet18(resnet_options{}) {}
  constexpr explicit resnet18(resnet_options o) : imagenet_resnet_of(o) {}
};
/// ResNet-34 as torchvision's resnet34: 3, 4, 6, 3 BasicBlocks per stage.
struct resnet34 : imagenet_resnet_of<resnet34_trunk> {
  static constexpr const char* kind = "resnet34";
  constexpr resnet34() : resnet34(resnet_options{}) {}
  constexpr explicit resnet34(resnet_options o) : imagenet_resnet_of(o) {}
};
/// ResNet-50 as torchvision's resnet50: 3, 4, 6, 3 Bottlenecks per stage, strided on their 3×3
/// convolutions (ResNet v1.5).
struct resnet50 : imagenet_resnet_of<resnet50_trunk> {
  static constexpr const char* kind = "resnet50";
  constexpr resnet50() : resnet50(resnet_options{}) {}
  constexpr explicit resnet50(resnet_options o) : imagenet_resnet_of(o) {}
};

/// The CIFAR ResNet of He et al. §4.2 with n blocks per stage: 6n + 2 layers.
template <std::size_t N>
struct cifar_resnet
    : seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, named<"layer1", repeat<N, basic_block>>,
          named<"layer2", detail::basic_stage<N>>, named<"layer3", detail::basic_stage<N>>, global_avg_pool,
          named<"fc", linear>> {
  using base = seq<named<"conv1", conv2d>, named<"bn1", batch_norm2d>, relu, named<"layer1", repeat<N, basic_block>>,
                   named<"layer2", detail::basic_stage<N>>, named<"layer3", detail::basic_stage<N>>, global_avg_pool,
                   named<"fc", linear>>;
  static constexpr base build() {
    return base(detail::conv(3, 16, 3), batch_norm2d(16), relu{}, repeat<N, basic_block>(basic_block(16)),
                detail::basic_stage<N>(basic_block_down(16, 32, 2), basic_block(32)),
                detail::basic_stage<N>(basic_block_down(32, 64, 2), basic_block(64)), global_avg_pool{},
                linear({.in = 64, .out = 10}));
  }
  constexpr explicit cifar_resnet(resnet_options o) : base(build()) { detail::set_io(*this, o); }
};

/// The CIFAR ResNet-20 of He et al. §4.2 (n = 3); 3 channels and 10 classes by default.
struct resnet20 : cifar_resnet<3> {
  static constexpr const char* kind = "resnet20";
  constexpr resnet20() : resnet20(resnet_options{.channels = 3, .classes = 10}) {}
  constexpr explicit resnet20(resnet_options o) : cifar_resnet(o) {}
};
/// The CIFAR ResNet-56 of He et al. §4.2 (n = 9); 3 channels and 10 classes by default.
struct resnet56 : cifar_resnet<9> {
  static constexpr const char* kind = "resnet56";
  constexpr resnet56() : resnet56(resnet_options{.channels = 3, .classes = 10}) {}
  constexpr explicit resnet56(resnet_options o) : cifar_resnet(o) {}
};
/// The CIFAR ResNet-110 of He et al. §4.2 (n = 18); 3 channels and 10 classes by default.
struct resnet110 : cifar_resnet<18> {
  static constexpr const char* kind = "resnet110";
  constexpr resnet110() : resnet110(resnet_options{.channels = 3, .classes = 10}) {}
  constexpr explicit resnet110(resnet_options o) : cifar_resnet(o) {}
};

}  // namespace hush::models
