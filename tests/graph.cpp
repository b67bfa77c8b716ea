// Composition laws, error paths, printing and compile-time parameter counts.
#include <doctest/doctest.h>

#include <sstream>

#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"
#include "hush/testing/gradcheck.hpp"

using hush::shape;

namespace {
hush::tensor random_tensor(shape s, std::uint64_t stream) {
  hush::tensor t(s);
  const hush::counter_rng rng{5};
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = rng.normal(stream, static_cast<std::uint64_t>(i));
  return t;
}
}  // namespace

TEST_CASE("seq<A, B>(x) == B(A(x)), forward and backward") {
  using A = hush::conv2d;
  using B = hush::tanh;
  const A a({.in = 2, .out = 3, .kernel = 3, .padding = 1});
  hush::seq<A, B> net(a, B{});
  A a2 = a;
  B b2;
  hush::context<hush::backend::cpu> ctx(9);
  net.setup(ctx, {2, 2, 5, 5});
  ctx.reset_streams();
  a2.setup(ctx, {2, 2, 5, 5});  // same stream, so the same initial weights
  b2.setup(ctx, {2, 3, 5, 5});
  const auto x = random_tensor({2, 2, 5, 5}, 1);
  const auto& y = net.forward(ctx, x);
  const auto& y2 = b2.forward(ctx, a2.forward(ctx, x));
  CHECK(std::equal(y.values().begin(), y.values().end(), y2.values().begin()));
  const auto dy = random_tensor(y.shape(), 2);
  const auto& dx = net.backward(ctx, x, dy);
  const auto& dx2 = a2.backward(ctx, x, b2.backward(ctx, a2.forward(ctx, x), dy));
  CHECK(std::equal(dx.values().begin(), dx.values().end(), dx2.values().begin()));
}

namespace {
/// seq<A, B> against A then B run apart, forward and backward, bit for bit: with B an activation
/// that runs in place over A's output (tests the in-place path against the plain one).
template <class A, class B>
void check_in_place(A a, B b, hush::shape in) {
  hush::seq<A, B> net(a, b);
  A a2 = a;
  B b2 = b;
  hush::context<hush::backend::cpu> ctx(9);
  net.setup(ctx, in);
  ctx.reset_streams();
  a2.setup(ctx, in);
  b2.setup(ctx, a2.output_shape(in));
  const auto x = random_tensor(in, 1);
  const hush::tensor y = net.forward(ctx, x);
  const hush::tensor a_out = a2.forward(ctx, x);
  const auto& y2 = b2.forward(ctx, a_out);
  CHECK(std::equal(y.values().begin(), y.values().end(), y2.values().begin()));
  const auto dy = random_tensor(y.shape(), 2);
  const hush::tensor dx = net.backward(ctx, x, dy);
  const auto& dx2 = a2.backward(ctx, x, b2.backward(ctx, a_out, dy));
  CHECK(std::equal(dx.values().begin(), dx.values().end(), dx2.values().begin()));
}
}  // namespace

TEST_CASE("an activation after a layer that never reads its output runs in place, with the same results") {
  const hush::conv2d conv({.in = 2, .out = 3, .kernel = 3, .padding = 1});
  check_in_place(conv, hush::relu{}, {2, 2, 5, 5});
  check_in_place(conv, hush::leaky_relu(0.1f), {2, 2, 5, 5});
  check_in_place(hush::batch_norm2d(2), hush::relu{}, {3, 2, 4, 4});
  check_in_place(hush::batch_norm2d(2), hush::leaky_relu(0.1f), {3, 2, 4, 4});  // and both backward passes in one
  check_in_place(hush::linear({.in = 6, .out = 4}), hush::leaky_relu(0.2f), {5, 6});
  CHECK(hush::relu{}.can_run_in_place());
  CHECK_FALSE(hush::leaky_relu(-0.5f).can_run_in_place());  // a negative slope flips the sign
  CHECK_FALSE(hush::tanh{}.can_run_in_place());               // its backward reads y
}

TEST_CASE("seq: gradcheck through a composition") {
  // Smooth parts only: a finite difference through an inner ReLU or max can cross its kink.
  hush::seq<hush::conv2d, hush::tanh, hush::avg_pool2d, hush::flatten, hush::linear> net(
      hush::conv2d({.in = 1, .out = 2, .kernel = 3, .padding = 1}), hush::tanh{}, hush::avg_pool2d({.kernel = 2}),
      hush::flatten{}, hush::linear({.in = 2 * 3 * 3, .out = 3}));
  const auto r = hush::testing::gradcheck(net, {2, 1, 6, 6});
  CHECK_MESSAGE(r.ok(), r.report());
}

TEST_CASE("a shape mismatch names the layer's path and both shapes") {
  hush::models::fashion_cnn net;
  CHECK_THROWS_WITH(net.output_shape({8, 3, 28, 28}), "0: conv2d: expected (N, 1, H, W), got (8, 3, 28, 28)");
  // 20x20 input: after two pools 5x5, so the first linear gets 64·5·5 = 1600 features, not 3136.
  CHECK_THROWS_WITH(net.output_shape({8, 1, 20, 20}), "7: linear: expected (N, 3136), got (8, 1600)");
  hush::context<hush::backend::cpu> ctx;
  hush::seq<hush::named<"features", hush::models::fashion_cnn>> outer;
  CHECK_THROWS_WITH(outer.setup(ctx, {8, 1, 20, 20}), "features/7: linear: expected (N, 3136), got (8, 1600)");
}

TEST_CASE("parameter counts are compile-time constants, names follow the tree") {
  static_assert(hush::models::fashion_cnn{}.parameter_count() == 421'642);
  static_assert(hush::models::fashion_cnn({.width = 8}).parameter_count() ==
                (1 * 8 * 9 + 8) + (8 * 16 * 9 + 16) + (16 * 49 * 128 + 128) + (128 * 10 + 10));
  hush::model<hush::seq<hush::named<"conv1", hush::conv2d>, hush::relu, hush::named<"fc", hush::linear>>,
              hush::backend::cpu>
      m({}, decltype(m.net)(hush::conv2d({.in = 1, .out = 2, .kernel = 3}), hush::relu{}, hush::linear({.in = 2, .out = 2})));
  std::vector<std::string> names;
  hush::for_each_parameter(m.net, [&](std::string_view n, hush::parameter&) { names.emplace_back(n); });
  CHECK(names == std::vector<std::string>{"conv1.weight", "conv1.bias", "fc.weight", "fc.bias"});
}

TEST_CASE("print shows the tree with output shapes and parameter counts") {
  std::ostringstream os;
  hush::print(hush::models::fashion_cnn{}, {4, 1, 28, 28}, os);
  const auto text = os.str();
  CHECK(text.find("fashion_cnn") != std::string::npos);
  CHECK(text.find("3: conv2d (32->64, 3x3, pad 1)") != std::string::npos);
  CHECK(text.find("(4, 64, 14, 14)") != std::string::npos);
  CHECK(text.find("401,536") != std::string::npos);
  CHECK(text.find("total parameters: 421,642") != std::string::npos);
}

TEST_CASE("initial weights depend only on the seed") {
  hush::model<hush::models::fashion_cnn, hush::backend::cpu> a({.seed = 3}), b({.seed = 3}), c({.seed = 4});
  for (auto* m : {&a, &b, &c}) m->setup({2, 1, 28, 28});
  const auto& wa = a.net.get<0>().weight.value.host();
  CHECK(std::equal(wa.values().begin(), wa.values().end(), b.net.get<0>().weight.value.host().values().begin()));
  CHECK_FALSE(std::equal(wa.values().begin(), wa.values().end(), c.net.get<0>().weight.value.host().values().begin()));
}

namespace {
/// The main path of a basic ResNet block: two 3×3 convolutions with batch norm. The activation
/// is tanh, not ReLU: batch norm couples every activation to every weight, so a finite
/// difference of any weight crosses some ReLU kink and measures neither side's derivative.
using block_main = hush::seq<hush::conv2d, hush::batch_norm2d, hush::tanh, hush::conv2d, hush::batch_norm2d>;
constexpr block_main block_path(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return block_main(hush::conv2d({.in = in, .out = out, .kernel = 3, .stride = stride, .padding = 1, .bias = false}),
                    hush::batch_norm2d(out), hush::tanh{},
                    hush::conv2d({.in = out, .out = out, .kernel = 3, .padding = 1, .bias = false}),
                    hush::batch_norm2d(out));
}
using projection = hush::named<"downsample", hush::seq<hush::conv2d, hush::batch_norm2d>>;
}  // namespace

TEST_CASE("residual<F>(x) == F(x) + x, and gradcheck with identity and projection shortcuts") {
  hush::residual<block_main> net(block_path(3, 3, 1));
  hush::context<hush::backend::cpu> ctx(4);
  net.setup(ctx, {2, 3, 5, 5});
  const auto x = random_tensor({2, 3, 5, 5}, 1);
  const std::vector<float> y(net.forward(ctx, x).values().begin(), net.forward(ctx, x).values().end());
  const auto& fx = net.main.forward(ctx, x);
  for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(y[static_cast<std::size_t>(i)] == fx[i] + x[i]);

  CHECK_MESSAGE(hush::testing::gradcheck(hush::residual<block_main>(block_path(3, 3, 1)), {2, 3, 5, 5}).ok(), "identity");
  const auto r = hush::testing::gradcheck(
      hush::residual<block_main, projection>(
          block_path(2, 4, 2), projection(hush::seq<hush::conv2d, hush::batch_norm2d>(
                                   hush::conv2d({.in = 2, .out = 4, .kernel = 1, .stride = 2, .bias = false}),
                                   hush::batch_norm2d(4)))),
      {2, 2, 6, 6});
  CHECK_MESSAGE(r.ok(), r.report());
}

TEST_CASE("residual: torchvision's names, and a shortcut that does not fit names both shapes") {
  hush::residual<block_main, projection> block(
      block_path(2, 4, 2),
      projection(hush::seq<hush::conv2d, hush::batch_norm2d>(
          hush::conv2d({.in = 2, .out = 4, .kernel = 1, .stride = 2, .bias = false}), hush::batch_norm2d(4))));
  hush::context<hush::backend::cpu> ctx;
  block.setup(ctx, {1, 2, 8, 8});
  std::vector<std::string> names;
  hush::for_each_parameter(block, [&](std::string_view n, hush::parameter&) { names.emplace_back(n); });
  CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias",
                                          "downsample.0.weight", "downsample.1.weight", "downsample.1.bias"});
  hush::residual<block_main> no_projection(block_path(2, 4, 2));
  CHECK_THROWS_WITH(no_projection.output_shape({1, 2, 8, 8}),
                    "residual: the main path gives (1, 4, 4, 4) but the shortcut gives (1, 2, 8, 8) (a projection "
                    "shortcut would match them)");
}

TEST_CASE("repeat<N, L> is N blocks in sequence, each with its own weights") {
  using net_t = hush::repeat<3, hush::residual<block_main>>;
  net_t net(hush::residual<block_main>(block_path(2, 2, 1)));
  static_assert(net_t(hush::residual<block_main>(block_path(2, 2, 1))).parameter_count() == 3 * 2 * (2 * 2 * 9 + 2 * 2));
  hush::context<hush::backend::cpu> ctx;
  net.setup(ctx, {1, 2, 4, 4});
  CHECK(net.head.main.get<0>().weight.value.host()[0] != std::get<0>(net.tail).main.get<0>().weight.value.host()[0]);
  // Six batch norms deep, the O(eps²) error of central differences needs a smaller step.
  const auto r =
      hush::testing::gradcheck(net_t(hush::residual<block_main>(block_path(2, 2, 1))), {2, 2, 4, 4}, {.eps = 3e-3});
  CHECK_MESSAGE(r.ok(), r.report());
}

TEST_CASE("parallel and concat_skip join along the channels") {
  using branch = hush::seq<hush::conv2d, hush::tanh>;
  hush::parallel<branch, hush::conv2d> p(branch(hush::conv2d({.in = 2, .out = 3, .kernel = 3, .padding = 1}), hush::tanh{}),
                                         hush::conv2d({.in = 2, .out = 1, .kernel = 1}));
  CHECK(p.output_shape({2, 2, 5, 5}) == shape{2, 4, 5, 5});
  const auto r = hush::testing::gradcheck(p, {2, 2, 5, 5});
  CHECK_MESSAGE(r.ok(), r.report());

  // A two-level U-Net skeleton: down, recurse, up, and the skip concatenation at each level.
  using inner = hush::seq<hush::conv2d, hush::tanh, hush::conv_transpose2d>;
  hush::concat_skip<inner> level(inner(hush::conv2d({.in = 2, .out = 4, .kernel = 4, .stride = 2, .padding = 1}),
                                       hush::tanh{},
                                       hush::conv_transpose2d({.in = 4, .out = 2, .kernel = 4, .stride = 2, .padding = 1})));
  CHECK(level.output_shape({1, 2, 8, 8}) == shape{1, 4, 8, 8});
  hush::context<hush::backend::cpu> ctx;
  level.setup(ctx, {1, 2, 8, 8});
  const auto x = random_tensor({1, 2, 8, 8}, 3);
  const auto& y = level.forward(ctx, x);
  for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(y[i] == x[i]);  // the first channels are x itself
  const auto r2 = hush::testing::gradcheck(level, {2, 2, 8, 8});
  CHECK_MESSAGE(r2.ok(), r2.report());
  hush::parallel<hush::identity, hush::max_pool2d> bad(hush::identity{}, hush::max_pool2d({.kernel = 2}));
  CHECK_THROWS_WITH(bad.output_shape({1, 2, 8, 8}),
                    "parallel: branch 1 gives (1, 2, 4, 4), which cannot join (1, 2, 8, 8) along the channels");
}
