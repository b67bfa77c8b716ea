// Builds, sets up and runs a tiny network from an installed hush, with its data prepared and its
// logits read through xtensor (README, "Arrays in and out: xtensor").
#include <hush/hush.hpp>
#include <hush/interop/xtensor.hpp>

#include <cstdint>
#include <cstdio>

struct tiny : hush::seq<hush::conv2d, hush::relu, hush::flatten, hush::linear> {
  constexpr tiny() : seq(hush::conv2d({.in = 1, .out = 2, .kernel = 3}), hush::relu{}, hush::flatten{},
               hush::linear({.in = 2 * 4 * 4, .out = 3})) {}
};
static_assert(tiny{}.parameter_count() == (2 * 9 + 2) + (32 * 3 + 3));

int main() {
  hush::model<tiny, hush::backend::cpu> m({.seed = 1});

  // Two 6x6 grey images as 8-bit pixels, scaled to [0, 1] into a hush tensor of shape (2, 1, 6, 6).
  xt::xtensor<std::uint8_t, 4> pixels = xt::zeros<std::uint8_t>({2, 1, 6, 6});
  xt::view(pixels, 1, xt::all(), xt::range(0, 3), xt::all()) = std::uint8_t{255};  // the second: top half white
  const hush::tensor x = hush::to_tensor(xt::cast<float>(pixels) / 255.0f);

  // The logits (2, 3) as an xtensor expression, without a copy: the predicted class per image.
  const hush::tensor& y = m.forward(x);
  const auto logits = hush::as_xtensor<2>(y);
  const xt::xtensor<std::size_t, 1> predicted = xt::argmax(logits, 1);
  std::printf("hush %s: logits %s, y[0] = %.4f, predicted classes %zu %zu\n", hush::version_string,
              y.shape().str().c_str(), logits(0, 0), predicted(0), predicted(1));
  return logits.shape()[0] == 2 && logits.shape()[1] == 3 && predicted(0) < 3 ? 0 : 1;
}
