// Builds, sets up and runs a tiny network from an installed hush.
#include <hush/hush.hpp>

#include <cstdio>

struct tiny : hush::seq<hush::conv2d, hush::relu, hush::flatten, hush::linear> {
  constexpr tiny() : seq(hush::conv2d({.in = 1, .out = 2, .kernel = 3}), hush::relu{}, hush::flatten{},
               hush::linear({.in = 2 * 4 * 4, .out = 3})) {}
};
static_assert(tiny{}.parameter_count() == (2 * 9 + 2) + (32 * 3 + 3));

int main() {
  hush::model<tiny, hush::backend::cpu> m({.seed = 1});
  hush::tensor x({2, 1, 6, 6}, 0.5f);
  const auto& y = m.forward(x);
  std::printf("hush %s: logits %s, y[0] = %.4f\n", hush::version_string, y.shape().str().c_str(), y[0]);
  return y.shape() == hush::shape{2, 3} ? 0 : 1;
}
