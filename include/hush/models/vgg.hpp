#pragma once
// VGG-16 and VGG-19 (Simonyan & Zisserman 2015) as torchvision builds them, with its parameter
// names, so that a torchvision state_dict written as safetensors loads as it is:
//   features    3×3 convolutions (padding 1), each followed by a ReLU, and 2×2 max pools between
//               stages: "features.0.weight", "features.2.weight", ... (the index counts the
//               ReLUs and pools too, as nn.Sequential's)
//   avgpool     adaptive average pooling to 7×7, so any input of at least 32×32 runs
//   classifier  linear 25088→4096, ReLU, dropout 0.5, linear 4096→4096, ReLU, dropout,
//               linear 4096→classes ("classifier.0", ".3", ".6")
// A configuration lists the stages' convolutions by their channels, 0 for a max pool (the
// paper's table 1: vgg16 is configuration D, vgg19 E). vgg_features<Cfg...> is the start of
// `features` alone, the frozen network of a content (perceptual) loss: vgg_features<64, 64>
// ends at relu1_2 (torchvision's features[:4]), vgg_features<64, 64, 0, 128, 128> at relu2_2
// (features[:9]), and so on.
#include <cstdint>
#include <tuple>
#include <type_traits>

#include "hush/graph/named.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/dropout.hpp"
#include "hush/layers/flatten.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/pool.hpp"

namespace hush::models {

namespace vgg_detail {
template <class... Ls>
struct list {};
template <class... Lists>
struct join;
template <class... A>
struct join<list<A...>> {
  using type = list<A...>;
};
template <class... A, class... B, class... Rest>
struct join<list<A...>, list<B...>, Rest...> : join<list<A..., B...>, Rest...> {};

template <int Channels>
struct entry {
  using type = list<conv2d, relu>;
};
template <>
struct entry<0> {
  using type = list<max_pool2d>;
};

template <class List>
struct as_seq;
template <class... Ls>
struct as_seq<list<Ls...>> {
  using type = seq<Ls...>;
};

/// The layers of configuration Cfg..., as one seq.
template <int... Cfg>
using features = typename as_seq<typename join<typename entry<Cfg>::type...>::type>::type;

template <int... Cfg>
constexpr features<Cfg...> make_features(std::int64_t channels) {
  std::int64_t in = channels;
  const auto layers_of = [&]<int C>(std::integral_constant<int, C>) {
    if constexpr (C == 0) {
      return std::tuple<max_pool2d>(max_pool2d({.kernel = 2}));
    } else {
      const auto from = in;
      in = C;
      return std::tuple<conv2d, relu>(conv2d({.in = from, .out = C, .kernel = 3, .padding = 1}), relu{});
    }
  };
  const std::tuple parts{layers_of(std::integral_constant<int, Cfg>{})...};  // braces: left to right
  return std::make_from_tuple<features<Cfg...>>(std::apply([](const auto&... p) { return std::tuple_cat(p...); }, parts));
}

/// The channels of the last convolution in Cfg...
template <int... Cfg>
constexpr std::int64_t last_channels() {
  std::int64_t c = 0;
  ((c = Cfg != 0 ? Cfg : c), ...);
  return c;
}

using classifier = seq<linear, relu, dropout, linear, relu, dropout, linear>;
}  // namespace vgg_detail

/// A VGG's input channels and classes (ImageNet's 3 and 1000 by default).
struct vgg_options {
  std::int64_t channels = 3, classes = 1000;
};

/// The layers of the VGG of configuration `Cfg...` under torchvision's names: features, avgpool,
/// flatten, classifier (vgg_of builds them).
template <int... Cfg>
using vgg_net = seq<named<"features", vgg_detail::features<Cfg...>>, named<"avgpool", adaptive_avg_pool2d>, flatten,
                    named<"classifier", vgg_detail::classifier>>;

/// The VGG of configuration `Cfg...` (each entry a 3×3 convolution's channels, 0 a 2×2 max pool)
/// with torchvision's layout and names: features, avgpool (to 7×7), classifier.
template <int... Cfg>
struct vgg_of : vgg_net<Cfg...> {
  using base = vgg_net<Cfg...>;
  constexpr explicit vgg_of(vgg_options o)
      : base(vgg_detail::make_features<Cfg...>(o.channels), adaptive_avg_pool2d({.height = 7, .width = 7}), flatten{},
             vgg_detail::classifier(linear({.in = vgg_detail::last_channels<Cfg...>() * 7 * 7, .out = 4096}), relu{},
                                    dropout(0.5f), linear({.in = 4096, .out = 4096}), relu{}, dropout(0.5f),
                                    linear({.in = 4096, .out = o.classes}))) {}
};

/// VGG-16 (configuration D) as torchvision's vgg16: 13 convolutions and 3 linear layers.
struct vgg16 : vgg_of<64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0> {
  static constexpr const char* kind = "vgg16";
  constexpr vgg16() : vgg16(vgg_options{}) {}
  constexpr explicit vgg16(vgg_options o) : vgg_of(o) {}
};

/// VGG-19 (configuration E) as torchvision's vgg19: 16 convolutions and 3 linear layers.
struct vgg19 : vgg_of<64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0> {
  static constexpr const char* kind = "vgg19";
  constexpr vgg19() : vgg19(vgg_options{}) {}
  constexpr explicit vgg19(vgg_options o) : vgg_of(o) {}
};

/// The start of a VGG's `features`, under torchvision's names: vgg_features<64, 64> is
/// features[:4] (to relu1_2) of vgg16 and vgg19 alike.
template <int... Cfg>
struct vgg_features : seq<named<"features", vgg_detail::features<Cfg...>>> {
  static constexpr const char* kind = "vgg_features";
  constexpr vgg_features() : vgg_features(3) {}
  constexpr explicit vgg_features(std::int64_t channels)
      : seq<named<"features", vgg_detail::features<Cfg...>>>(vgg_detail::make_features<Cfg...>(channels)) {}
};

}  // namespace hush::models
