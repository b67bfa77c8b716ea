// Composition laws, error paths, printing and compile-time parameter counts.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "hush/backend/thrust.hpp"
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

namespace {
// A small trained-looking front end (convolution, batch norm, ReLU, convolution) and a classifier.
using front_net = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d>;
using head_net = hush::seq<hush::conv2d, hush::relu, hush::global_avg_pool, hush::flatten, hush::linear>;
front_net front() {
  return front_net(hush::conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}), hush::batch_norm2d({.channels = 4}),
                   hush::relu{}, hush::conv2d({.in = 4, .out = 1, .kernel = 3, .padding = 1}));
}
head_net head() {
  return head_net(hush::conv2d({.in = 1, .out = 6, .kernel = 3, .padding = 1}), hush::relu{}, hush::global_avg_pool{},
                  hush::flatten{}, hush::linear({.in = 6, .out = 3}));
}
using frozen_pair = hush::seq<hush::named<"front_end", hush::frozen<front_net>>, hush::named<"classifier", head_net>>;
using trained_pair = hush::seq<hush::named<"front_end", front_net>, hush::named<"classifier", head_net>>;

double max_difference(const hush::tensor& a, const hush::tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  return worst;
}
double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  return worst;
}

/// Every parameter's gradient, in visiting order, on the host.
template <class M>
std::vector<float> gradients_of(M& m) {
  std::vector<float> all;
  hush::for_each_parameter(m.net, [&](std::string_view, hush::parameter& p) {
    const auto h = hush::to_host(m.ctx[p.grad]);
    all.insert(all.end(), h.values().begin(), h.values().end());
  });
  return all;
}

/// Every parameter's value (or every buffer's), in visiting order, on the host.
template <class M>
std::vector<float> weights_of(M& m, bool buffers) {
  std::vector<float> all;
  const auto add = [&](std::string_view, const hush::kept& k) {
    const auto h = hush::to_host(m.ctx[k]);
    all.insert(all.end(), h.values().begin(), h.values().end());
  };
  if (buffers) hush::for_each_buffer(m.net, [&](std::string_view n, hush::kept& k) { add(n, k); });
  else hush::for_each_parameter(m.net, [&](std::string_view n, hush::parameter& p) { add(n, p.value); });
  return all;
}
}  // namespace

TEST_CASE_TEMPLATE("frozen<Net>: runs in eval mode, is never optimized, keeps no gradients, passes a zero gradient back",
                   Backend, hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  using hush::shape;
  const shape in{4, 1, 8, 8};
  hush::model<frozen_pair, Backend> m({.seed = 3}, frozen_pair(hush::frozen<front_net>(front()), head()));
  m.setup(in);
  // Only the classifier's parameters are trainable; the front end's are buffers under their names.
  CHECK(m.net.parameter_count() == head().parameter_count());
  std::vector<std::string> params, buffers;
  hush::for_each_parameter(m.net, [&](std::string_view n, hush::parameter&) { params.emplace_back(n); });
  hush::for_each_buffer(m.net, [&](std::string_view n, hush::kept&) { buffers.emplace_back(n); });
  CHECK(params.front() == "classifier.0.weight");
  CHECK(std::find(buffers.begin(), buffers.end(), "front_end.0.weight") != buffers.end());
  CHECK(std::find(buffers.begin(), buffers.end(), "front_end.1.running_mean") != buffers.end());
  // No gradient buffers in the front end: its parameters have none, and the whole model keeps the
  // classifier's input gradients; the frozen net's one zero tensor, written once, is a saved buffer.
  hush::for_each_parameter(m.net.template get<0>().net, [&](std::string_view n, hush::parameter& p) {
    CHECK_MESSAGE(m.ctx[p.grad].numel() == 0, n);
  });
  hush::model<head_net, Backend> alone({.seed = 3}, head());
  alone.setup(in);
  CHECK(m.buffers().input_gradient == alone.buffers().input_gradient);
  CHECK(m.buffers().saved >= alone.buffers().saved + in.numel() * std::int64_t(sizeof(float)));

  // Its output is front_net's in eval mode, with the same weights, while the model trains.
  hush::model<front_net, Backend> reference({.seed = 3}, front());
  reference.setup(in);
  hush::save_weights(reference.net, "frozen_front.safetensors");
  hush::load_weights(m.net.template get<0>(), "frozen_front.safetensors");  // a denoiser's own file
  std::filesystem::remove("frozen_front.safetensors");
  // Another network's file is refused naming the frozen network's own kind, not the wrapper's.
  using other_net = hush::seq<hush::linear>;
  hush::model<other_net, Backend> other({.seed = 3}, other_net(hush::linear({.in = 2, .out = 2})));
  other.setup({1, 2});
  hush::save_weights(other.net, "frozen_other.safetensors");
  CHECK_THROWS_WITH_AS(hush::load_weights(m.net.template get<0>(), "frozen_other.safetensors"),
                       doctest::Contains("than this network (seq, "), hush::io_error);
  std::filesystem::remove("frozen_other.safetensors");
  const auto x = hush::to(m.ctx.backend, random_tensor(in, 4));
  reference.eval();
  const auto expected = hush::to_host(reference.forward(x));
  m.train();
  const auto front_out = hush::to_host(m.net.template get<0>().forward(m.ctx, x));
  CHECK(m.ctx.mode == hush::mode::train);  // the model's mode is back
  CHECK(max_difference(front_out, expected) < 1e-6);

  // Training moves the classifier only: the front end's weights and statistics stay as loaded,
  // the gradient it passes back is zero, and the classifier's gradients are those of the
  // classifier alone on the front end's output.
  std::vector<const hush::kept*> head_values;  // the pair's trainable parameters: the classifier's, in order
  hush::for_each_parameter(m.net, [&](std::string_view, hush::parameter& q) { head_values.push_back(&q.value); });
  hush::for_each_parameter(alone.net, [&, i = std::size_t(0)](std::string_view, hush::parameter& p) mutable {
    alone.ctx[p.value] = m.ctx[*head_values.at(i++)];
  });
  const auto labels = hush::to(m.ctx.backend, hush::index_tensor({4}, {0, 1, 2, 0}));
  hush::cross_entropy loss, loss_alone;
  m.zero_grad(), alone.zero_grad();
  loss.forward(m.ctx, m.forward(x), labels);
  const auto dx = hush::to_host(m.backward(loss.backward(m.ctx)));
  CHECK(std::all_of(dx.values().begin(), dx.values().end(), [](float v) { return v == 0.0f; }));
  alone.train();
  const auto front_on_device = hush::to(alone.ctx.backend, front_out);  // alive until the backward
  loss_alone.forward(alone.ctx, alone.forward(front_on_device), labels);
  alone.backward(loss_alone.backward(alone.ctx));
  CHECK(max_difference(gradients_of(m), gradients_of(alone)) < 1e-5);
  const auto frozen_before = weights_of(m, true), head_before = weights_of(m, false);
  hush::sgd opt(m.net, {.lr = 0.1f, .momentum = 0.9f});
  for (int step = 0; step < 3; ++step) {
    m.zero_grad();
    loss.forward(m.ctx, m.forward(x), labels);
    m.backward(loss.backward(m.ctx));
    opt.step(m.ctx.backend);
  }
  CHECK(weights_of(m, true) == frozen_before);
  CHECK(weights_of(m, false) != head_before);

  // One weight file for both networks, under both names: the frozen and the trainable
  // composition read each other's, and give the same output in eval mode.
  hush::save_weights(m.net, "frozen_pair.safetensors");
  hush::model<trained_pair, Backend> end_to_end({.seed = 8}, trained_pair(front(), head()));
  end_to_end.setup(in);
  hush::load_weights(end_to_end.net, "frozen_pair.safetensors");
  std::filesystem::remove("frozen_pair.safetensors");
  m.eval(), end_to_end.eval();
  CHECK(max_difference(hush::to_host(end_to_end.forward(x)), hush::to_host(m.forward(x))) < 1e-6);
}

namespace {
/// A user's layer whose path depends on the batch size: it writes one buffer at batch 1 and
/// another above. The buffer plan's probe (batch 1) cannot have seen the second.
struct batch_dependent {
  static constexpr const char* kind = "batch_dependent";
  std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const { return in; }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(one_, in, hush::buffer_role::output);
    ctx.keep(more_, in, hush::buffer_role::output);
    ctx.keep(dx_, in, hush::buffer_role::input_gradient);
  }
  template <class Ctx>
  const hush::tensor_of<Ctx>& forward(Ctx& ctx, const hush::tensor_of<Ctx>& x) {
    auto& y = ctx[x.shape()[0] == 1 ? one_ : more_];
    std::copy(x.values().begin(), x.values().end(), y.values().begin());
    return y;
  }
  template <class Ctx>
  const hush::tensor_of<Ctx>& backward(Ctx& ctx, const hush::tensor_of<Ctx>&, const hush::tensor_of<Ctx>& dy) {
    auto& dx = ctx[dx_];
    std::copy(dy.values().begin(), dy.values().end(), dx.values().begin());
    return dx;
  }
  template <class V>
  void visit(V&&) {}

 private:
  hush::kept one_, more_, dx_;
};
using planned_net = hush::seq<hush::conv2d, hush::relu, hush::conv2d, hush::batch_norm2d, hush::relu>;
planned_net make_planned() {
  return planned_net(hush::conv2d({.in = 2, .out = 16, .kernel = 3, .padding = 1}), hush::relu{},
                     hush::conv2d({.in = 16, .out = 2, .kernel = 3, .padding = 1}), hush::batch_norm2d(2), hush::relu{});
}
}  // namespace

TEST_CASE("a temporary input is kept by the model until the backward that reads it") {
  const shape in{3, 2, 6, 6};
  const auto x = random_tensor(in, 1), dy = random_tensor(in, 2);
  // The reference backend reads the caller's tensor itself (the cpu backend may copy it into a
  // blocked layout first).
  hush::model<planned_net, hush::backend::reference> kept({.seed = 2}, make_planned()), given({.seed = 2}, make_planned());
  given.forward(x);
  const hush::tensor expected = given.backward(dy);
  kept.forward(hush::tensor(x));  // destroyed at the semicolon but for the model's copy
  hush::tensor scribble = random_tensor(in, 3);  // likely to take the freed memory if it were freed
  const hush::tensor got = kept.backward(dy);
  CHECK(std::equal(got.values().begin(), got.values().end(), expected.values().begin()));
  CHECK(scribble.numel() == in.numel());
}

TEST_CASE("buffer plan: what a caller sees (a second backward, an output fed back, copies, a path the probe missed)") {
  const shape in{3, 2, 6, 6};
  const auto x = random_tensor(in, 1), dy = random_tensor(in, 2);
  hush::model<planned_net, hush::backend::cpu> m({.seed = 2}, make_planned()), alone({.seed = 2, .plan_buffers = false}, make_planned());
  m.forward(x);
  CHECK(m.arena_bytes() > 0);
  CHECK(m.arena_bytes() < m.buffers().output + m.buffers().input_gradient);
  m.backward(dy);
  // The first backward gave the activations' memory to the gradients.
  CHECK_THROWS_WITH(m.backward(dy), doctest::Contains("no forward since the last backward"));
  alone.forward(x);
  alone.backward(dy);
  CHECK_NOTHROW(alone.backward(dy));

  // Its own output as its next input (it lives in the arena the pass writes): copied first.
  m.eval(), alone.eval();
  const hush::tensor expected = alone.forward(alone.forward(x));
  const hush::tensor got = m.forward(m.forward(x));
  CHECK(std::equal(got.values().begin(), got.values().end(), expected.values().begin()));

  // A copy and a moved-to model set up again, with plans of their own.
  auto copy = m;
  auto moved = std::move(copy);
  const hush::tensor again = moved.forward(moved.forward(x));
  CHECK(std::equal(again.values().begin(), again.values().end(), expected.values().begin()));
  CHECK(moved.arena_bytes() > 0);

  // Between passes, a layer run by hand through the model's context is refused the arena.
  CHECK_THROWS_WITH(m.net.get<0>().forward(m.ctx, x), doctest::Contains("ran outside the model's forward and backward"));
  // A path the batch-1 probe did not take throws before it runs on another buffer's memory.
  using odd_net = hush::seq<hush::conv2d, batch_dependent, hush::relu>;
  const odd_net odd_layers(hush::conv2d({.in = 2, .out = 2, .kernel = 1}), batch_dependent{}, hush::relu{});
  hush::model<odd_net, hush::backend::cpu> odd({}, odd_layers), without({.plan_buffers = false}, odd_layers);
  CHECK_THROWS_WITH(odd.forward(x), doctest::Contains("another order than the probe pass"));
  CHECK_NOTHROW(without.forward(x));
}
