// Every layer: backward against finite differences, and the cpu backend against the reference.
#include <doctest/doctest.h>

#include <cmath>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/testing/gradcheck.hpp"
#include "support.hpp"

namespace {

using hush::test::difference;

using hush::shape;

/// Runs forward and backward of `layer` on Backend with fixed random x and dy; returns y, dx and
/// the parameter gradients, concatenated.
template <class Backend, class L>
std::vector<float> run(L layer, shape in, Backend backend = {}) {
  hush::context<Backend> ctx(3);
  ctx.backend = backend;
  layer.setup(ctx, in);
  hush::tensor x(in), dy(layer.output_shape(in));
  const hush::counter_rng rng{11};
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = rng.normal(1, static_cast<std::uint64_t>(i));
  for (std::int64_t i = 0; i < dy.numel(); ++i) dy[i] = rng.normal(2, static_cast<std::uint64_t>(i));
  hush::zero_grad(layer);
  const auto& xb = hush::to(backend, x);  // in the backend's memory
  const auto& dyb = hush::to(backend, dy);
  const auto y = hush::to_host(layer.forward(ctx, xb));
  std::vector<float> out(y.values().begin(), y.values().end());
  const auto dx = hush::to_host(layer.backward(ctx, xb, dyb));
  out.insert(out.end(), dx.values().begin(), dx.values().end());
  hush::for_each_parameter(layer, [&](std::string_view, hush::parameter& p) {
    const auto g = hush::to_host(p.grad);
    out.insert(out.end(), g.values().begin(), g.values().end());
  });
  return out;
}

/// All checks for one layer: gradcheck on the reference backend, then cpu (with each convolution
/// algorithm it has) and thrust against the reference (forward, input gradient and parameter
/// gradients).
template <class L>
void check_layer(const L& layer, shape in, hush::testing::gradcheck_options opt = {}) {
  const auto r = hush::testing::gradcheck(layer, in, opt);
  CHECK_MESSAGE(r.ok(), r.report());
  const auto ref = run<hush::backend::reference>(layer, in);
  for (const auto algorithm : hush::backend::cpu_conv_algorithms()) {
    const double cpu = difference(ref, run(layer, in, hush::backend::cpu{.convolutions = algorithm}));
    CHECK_MESSAGE(cpu < 1e-4, "cpu (" << hush::backend::name(algorithm) << " convolutions) differs from reference by " << cpu);
  }
  const double thrust = difference(ref, run<hush::backend::thrust>(layer, in));
  CHECK_MESSAGE(thrust < 1e-4, "thrust differs from reference by " << thrust);
}

}  // namespace

TEST_CASE("conv2d: plain, strided, padded, dilated, grouped, pointwise, without bias") {
  using hush::conv2d;
  SUBCASE("3x3 pad 1") { check_layer(conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}), {2, 3, 6, 5}); }
  SUBCASE("stride 2") { check_layer(conv2d({.in = 2, .out = 3, .kernel = 3, .stride = 2, .padding = 1}), {2, 2, 7, 7}); }
  SUBCASE("dilation 2") { check_layer(conv2d({.in = 2, .out = 2, .kernel = 3, .padding = 2, .dilation = 2}), {1, 2, 6, 6}); }
  SUBCASE("groups 2") { check_layer(conv2d({.in = 4, .out = 6, .kernel = 3, .padding = 1, .groups = 2}), {2, 4, 5, 5}); }
  SUBCASE("1x1") { check_layer(conv2d({.in = 5, .out = 3, .kernel = 1}), {2, 5, 4, 4}); }
  // ResNet's downsample shortcut: the last row and column of an even image are never reached
  // (oneDNN's right padding is negative).
  SUBCASE("1x1 stride 2, even size") { check_layer(conv2d({.in = 4, .out = 6, .kernel = 1, .stride = 2, .bias = false}), {2, 4, 8, 6}); }
  SUBCASE("3x3 stride 2, even size") { check_layer(conv2d({.in = 3, .out = 4, .kernel = 3, .stride = 2, .padding = 1}), {2, 3, 8, 8}); }
  SUBCASE("7x7 stride 2 no bias") {
    check_layer(conv2d({.in = 3, .out = 2, .kernel = 7, .stride = 2, .padding = 3, .bias = false}), {1, 3, 9, 9});
  }
}

TEST_CASE("conv2d: a wrong channel count names both shapes") {
  hush::conv2d c({.in = 3, .out = 8, .kernel = 3});
  CHECK_THROWS_WITH(c.output_shape({1, 4, 8, 8}), "conv2d: expected (N, 3, H, W), got (1, 4, 8, 8)");
  CHECK_THROWS_WITH(c.output_shape({1, 3, 2, 2}), "conv2d: a 3x3 kernel does not fit input (1, 3, 2, 2)");
}

TEST_CASE("linear") {
  check_layer(hush::linear({.in = 7, .out = 5}), {3, 7});
  check_layer(hush::linear({.in = 4, .out = 2, .bias = false}), {2, 4});
  check_layer(hush::linear({.in = 4, .out = 6}), {2, 3, 4});  // over the last axis of tokens
  CHECK_THROWS_WITH(hush::linear({.in = 7, .out = 5}).output_shape({3, 8}), "linear: expected (N, 7), got (3, 8)");
  CHECK_THROWS_WITH(hush::linear({.in = 7, .out = 5}).output_shape({3, 4, 8}), "linear: expected (N, ..., 7), got (3, 4, 8)");
}

TEST_CASE("gradcheck checks at most max_checks elements of each tensor, and refuses none") {
  // linear 10 -> 10 on (10, 10): input 100 elements, weight 100, bias 10.
  const auto r = hush::testing::gradcheck(hush::linear({.in = 10, .out = 10}), {10, 10}, {.max_checks = 64});
  CHECK(r.ok());
  CHECK(r.checked == 50 + 50 + 10);  // every second element of the 100s, all of the bias
  CHECK(hush::testing::gradcheck(hush::linear({.in = 10, .out = 10}), {10, 10}, {.max_checks = 7}).checked == 7 + 7 + 5);
  CHECK_THROWS_WITH(hush::testing::gradcheck(hush::linear({.in = 2, .out = 2}), {1, 2}, {.max_checks = 0}),
                    doctest::Contains("max_checks must be at least 1"));
}

TEST_CASE("attention: the fused kernel, one head and several, and the block with its projections") {
  check_layer(hush::scaled_dot_product_attention({.heads = 1}), {2, 5, 3 * 4});
  check_layer(hush::scaled_dot_product_attention({.heads = 3}), {2, 7, 3 * 3 * 2});
  check_layer(hush::scaled_dot_product_attention({.heads = 2}), {1, 1, 3 * 2 * 3});  // one token: the softmax is 1
  check_layer(hush::self_attention({.dim = 6, .heads = 2}), {2, 4, 6});
  check_layer(hush::self_attention({.dim = 4, .heads = 1, .qkv_bias = false}), {1, 3, 4});
  CHECK_THROWS_WITH(hush::scaled_dot_product_attention({.heads = 2}).output_shape({2, 5, 9}),
                    "scaled_dot_product_attention: expected (N, T, 3·heads·D) with 2 heads, got (2, 5, 9)");
}

TEST_CASE("tokens: image to tokens, patch embedding, patches back to an image, class token, position embeddings") {
  check_layer(hush::to_tokens{}, {2, 3, 4, 5});
  check_layer(hush::patch_embed({.channels = 3, .dim = 6, .patch = 2}), {2, 3, 4, 6});
  check_layer(hush::unpatchify({.patch = 2, .channels = 3}), {2, 4, 12});
  check_layer(hush::unpatchify({.patch = 2, .channels = 1, .rows = 2}), {1, 6, 4});  // a 2x3 grid
  check_layer(hush::class_token(5), {3, 4, 5});
  check_layer(hush::take_class_token{}, {3, 4, 5});
  check_layer(hush::position_embedding({.tokens = 4, .dim = 6}), {2, 4, 6});
  check_layer(hush::sincos_position_embedding({.grid = 2, .dim = 8}), {2, 4, 8});
  check_layer(hush::sincos_position_embedding({.grid = 2, .dim = 8}), {2, 5, 8});
  CHECK_THROWS_WITH(hush::unpatchify({.patch = 2, .channels = 3}).output_shape({2, 5, 12}),
                    "unpatchify: expected (N, T, 12) with T a square, got (2, 5, 12)");
}

TEST_CASE("patchify is unpatchify's inverse, in the MAE's patch layout") {
  hush::tensor images({2, 3, 4, 6});
  for (std::int64_t i = 0; i < images.numel(); ++i) images[i] = float(i);
  hush::tensor patches;
  hush::patchify(hush::backend::cpu{}, images, 2, patches);
  REQUIRE(patches.shape() == hush::shape{2, 6, 12});
  // Token 1 of image 0 is the patch at rows 0-1, columns 2-3; its values run (row, column, channel).
  const auto value = [&](int token, int v) { return patches[token * 12 + v]; };
  const auto pixel = [&](int c, int y, int x) { return images[(c * 4 + y) * 6 + x]; };
  CHECK(value(1, 0) == pixel(0, 0, 2));
  CHECK(value(1, 1) == pixel(1, 0, 2));
  CHECK(value(1, 3) == pixel(0, 0, 3));
  CHECK(value(1, 6) == pixel(0, 1, 2));
  CHECK(value(5, 11) == pixel(2, 3, 5));
  hush::context<hush::backend::cpu> ctx;
  hush::unpatchify back({.patch = 2, .channels = 3, .rows = 2});
  back.setup(ctx, patches.shape());
  const auto& round = back.forward(ctx, patches);
  CHECK(std::equal(round.values().begin(), round.values().end(), images.values().begin()));
}

TEST_CASE("the MAE's sine-cosine table: zero class row, sin and cos of the column then of the row") {
  const auto t = hush::sincos_table(3, 8);  // quarter 2: ω = 1, 1/100
  CHECK(t.shape() == hush::shape{1, 10, 8});
  for (int c = 0; c < 8; ++c) CHECK(t[c] == 0.0f);
  const float* patch = t.data() + (1 + 1 * 3 + 2) * 8;  // row 1, column 2
  CHECK(patch[0] == doctest::Approx(std::sin(2.0)));
  CHECK(patch[1] == doctest::Approx(std::sin(0.02)));
  CHECK(patch[2] == doctest::Approx(std::cos(2.0)));
  CHECK(patch[4] == doctest::Approx(std::sin(1.0)));
  CHECK(patch[7] == doctest::Approx(std::cos(0.01)));
}

TEST_CASE("activations") {
  const hush::testing::gradcheck_options kinked{.away_from_zero = true};
  check_layer(hush::relu{}, {2, 3, 4, 4}, kinked);
  check_layer(hush::leaky_relu{0.2f}, {2, 3, 4, 4}, kinked);
  check_layer(hush::tanh{}, {2, 3, 4, 4});
  check_layer(hush::sigmoid{}, {2, 3, 4, 4});
  check_layer(hush::gelu{}, {2, 3, 4, 4});
}

TEST_CASE("pooling and flatten") {
  check_layer(hush::max_pool2d({.kernel = 2}), {2, 3, 6, 6});
  check_layer(hush::max_pool2d({.kernel = 3, .stride = 2, .padding = 1}), {2, 2, 7, 7});
  check_layer(hush::avg_pool2d({.kernel = 2}), {2, 3, 6, 6});
  check_layer(hush::avg_pool2d({.kernel = 3, .stride = 2, .padding = 1}), {1, 2, 7, 7});
  check_layer(hush::adaptive_avg_pool2d({.height = 4, .width = 3}), {2, 3, 10, 9});  // overlapping windows
  check_layer(hush::adaptive_avg_pool2d({.height = 7, .width = 7}), {1, 2, 3, 2});   // rows and columns repeated
  check_layer(hush::imagenet_normalize{}, {2, 3, 4, 5});
  check_layer(hush::imagenet_normalize{}, {2, 1, 4, 5});  // grey, repeated to three channels
  check_layer(hush::flatten{}, {2, 3, 4, 4});
}

TEST_CASE_TEMPLATE("cross_entropy: value and gradient against a hand computation", Backend, hush::backend::reference,
                   hush::backend::cpu, hush::backend::thrust) {
  hush::context<Backend> ctx;
  const auto on = [&](const hush::tensor& t) { return hush::tensor_of<decltype(ctx)>(hush::to(ctx.backend, t)); };
  const auto logits = on(hush::tensor({2, 3}, std::vector<float>{1, 2, 3, 0, 0, 0}));
  const auto labels = hush::to(ctx.backend, hush::index_tensor({2}, {2, 0}));
  hush::cross_entropy ce;
  const double l0 = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0))), l1 = std::log(3.0);
  CHECK(ce.forward(ctx, logits, labels) == doctest::Approx((l0 + l1) / 2).epsilon(1e-6));
  CHECK(hush::to_host(ce.backward(ctx))[3] == doctest::Approx((1.0 / 3 - 1) / 2).epsilon(1e-6));
  CHECK(hush::metrics::correct(ctx.backend, logits, labels) == 2);  // row 1 ties: the first class wins
  hush::cross_entropy smooth({.label_smoothing = 0.1f});
  // With smoothing ε the target of a wrong class is ε/K: uniform logits give loss log K whatever ε.
  CHECK(smooth.forward(ctx, on(hush::tensor({1, 4}, 0.0f)), hush::to(ctx.backend, hush::index_tensor({1}, {0}))) ==
        doctest::Approx(std::log(4.0)).epsilon(1e-6));
}

TEST_CASE("conv_transpose2d: plain, strided with output padding, grouped, dilated") {
  using hush::conv_transpose2d;
  check_layer(conv_transpose2d({.in = 3, .out = 2, .kernel = 3, .padding = 1}), {2, 3, 4, 5});
  check_layer(conv_transpose2d({.in = 2, .out = 3, .kernel = 4, .stride = 2, .padding = 1}), {2, 2, 3, 3});
  check_layer(conv_transpose2d({.in = 2, .out = 2, .kernel = 3, .stride = 2, .padding = 1, .output_padding = 1}),
              {1, 2, 3, 4});
  check_layer(conv_transpose2d({.in = 4, .out = 6, .kernel = 3, .groups = 2, .bias = false}), {1, 4, 3, 3});
  check_layer(conv_transpose2d({.in = 2, .out = 2, .kernel = 3, .dilation = 2}), {1, 2, 3, 3});
  CHECK(conv_transpose2d({.in = 8, .out = 4, .kernel = 4, .stride = 2, .padding = 1}).output_shape({1, 8, 16, 16}) ==
        hush::shape{1, 4, 32, 32});
}

TEST_CASE("batch_norm2d and layer_norm") {
  check_layer(hush::batch_norm2d(3), {4, 3, 3, 3});
  check_layer(hush::batch_norm2d(2), {4, 2, 3, 3}, {.mode = hush::mode::eval});
  check_layer(hush::layer_norm(6), {4, 6});
  check_layer(hush::layer_norm(5), {2, 3, 5});
  CHECK_THROWS_WITH(hush::batch_norm2d(3).output_shape({2, 4, 5, 5}),
                    "batch_norm2d: expected (N, 3, H, W), got (2, 4, 5, 5)");
}

TEST_CASE("softmax, global average pooling, upsampling, identity") {
  check_layer(hush::softmax{}, {3, 7});
  check_layer(hush::global_avg_pool{}, {2, 3, 4, 5});
  check_layer(hush::upsample({.scale = 2}), {2, 2, 3, 4});
  check_layer(hush::upsample({.scale = 3}), {1, 2, 3, 2});
  check_layer(hush::upsample({.scale = 2, .interpolation = hush::upsample::interpolation::bilinear}), {2, 2, 3, 4});
  check_layer(hush::upsample({.scale = 4, .interpolation = hush::upsample::interpolation::bilinear}), {1, 2, 3, 3});
  check_layer(hush::identity{}, {2, 3});
}

TEST_CASE("dropout: train masks and rescales, eval passes through, the mask depends on the step") {
  check_layer(hush::dropout(0.3f), {4, 50});
  hush::context<hush::backend::cpu> ctx(1);
  hush::dropout d(0.25f);
  d.setup(ctx, {1, 100000});
  hush::tensor x({1, 100000}, 1.0f);
  const std::vector<float> first(d.forward(ctx, x).values().begin(), d.forward(ctx, x).values().end());
  std::int64_t kept = 0, odd = 0;
  for (auto v : first) {
    kept += v != 0.0f;
    odd += v != 0.0f && std::abs(v - 1.0f / 0.75f) > 1e-6f;
  }
  CHECK(odd == 0);                                              // kept values are scaled by 1/(1-p)
  CHECK(double(kept) / 1e5 == doctest::Approx(0.75).epsilon(0.01));  // 6 standard errors
  ctx.step = 1;
  const auto& second = d.forward(ctx, x);
  CHECK(std::vector<float>(second.values().begin(), second.values().end()) != first);
  ctx.mode = hush::mode::eval;
  CHECK(&d.forward(ctx, x) == &x);
}

namespace {
/// The output of `net` in inference mode (a following batch norm folded into the convolution, the
/// activation fused into it) on Backend, with non-trivial running statistics.
template <class Backend, class Net>
std::vector<float> infer(Net net, shape in, Backend backend = {}) {
  hush::model<Net, Backend> model({.seed = 5, .backend = backend}, std::move(net));
  model.setup(in);
  int k = 0;
  hush::for_each_buffer(model.net, [&](std::string_view n, hush::kept& b) {
    hush::tensor t(b.shape());  // made on the host, copied to where the buffer lives
    for (auto& v : t.values()) v = n.ends_with("running_var") ? 0.5f + 0.1f * float(k++ % 7) : 0.1f * float(k++ % 5 - 2);
    hush::assign(b, t);
  });
  hush::tensor x(in);
  hush::init_uniform(x, hush::counter_rng(9), 0, 1.0f);
  model.infer();
  const auto y = hush::to_host(model.forward(hush::to(backend, x)));
  return {y.values().begin(), y.values().end()};
}

/// check_inference for a residual block, and whether the cpu backend with oneDNN ran its sum
/// inside the main path's last convolution, as `sums_in_conv` says it should.
template <class Net>
void check_residual_inference(const std::string& name, const Net& net, shape in, bool sums_in_conv);

template <class Net>
void check_inference(const std::string& name, const Net& net, shape in) {
  INFO(name);
  const auto ref = infer<hush::backend::reference>(net, in);
  for (const auto algorithm : hush::backend::cpu_conv_algorithms())
    CHECK(difference(ref, infer(net, in, hush::backend::cpu{.convolutions = algorithm})) < 1e-4);
  CHECK(difference(ref, infer<hush::backend::thrust>(net, in)) < 1e-4);
}

template <class Net>
void check_residual_inference(const std::string& name, const Net& net, shape in, bool sums_in_conv) {
  check_inference(name, net, in);
  INFO(name);
  hush::model<Net, hush::backend::cpu> model({.seed = 5}, net);
  model.setup(in);
  model.infer();
  model.forward(hush::tensor(in));
  const bool dnnl = hush::backend::cpu_conv_algorithms().size() > 1;
  CHECK(model.net.sums_in_conv(model.ctx) == (sums_in_conv && dnnl));
  hush::model<Net, hush::backend::reference> reference({.seed = 5}, net);
  reference.setup(in);
  reference.infer();
  CHECK_FALSE(reference.net.sums_in_conv(reference.ctx));
}
}  // namespace

TEST_CASE("inference mode: convolution with a folded batch norm and a fused (leaky) ReLU, every backend") {
  const auto conv = [](bool bias) { return hush::conv2d({.in = 3, .out = 5, .kernel = 3, .padding = 1, .bias = bias}); };
  using cbr = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu>;
  check_inference("conv, batch norm, ReLU", cbr(conv(false), hush::batch_norm2d(5), {}), {2, 3, 6, 6});
  using cb = hush::seq<hush::conv2d, hush::batch_norm2d>;
  check_inference("conv, batch norm", cb(conv(true), hush::batch_norm2d(5)), {2, 3, 6, 6});
  using cl = hush::seq<hush::conv2d, hush::leaky_relu>;
  check_inference("conv, leaky ReLU", cl(conv(true), hush::leaky_relu(0.2f)), {2, 3, 6, 6});
  using cr = hush::seq<hush::conv2d, hush::relu>;
  check_inference("conv without bias, ReLU", cr(conv(false), {}), {2, 3, 6, 6});
  // Residual blocks: on oneDNN, where the main path ends in a convolution and its batch norm,
  // the sum (and a ReLU after it) run inside that convolution; elsewhere apart. Blocked (16, 32
  // channels) and NCHW (8 channels), identity and projection shortcuts, ReLU, leaky ReLU and no
  // activation after the sum, and a main path that cannot take the sum.
  const auto c = [](std::int64_t in, std::int64_t out, std::int64_t k = 3, std::int64_t stride = 1) {
    return hush::conv2d({.in = in, .out = out, .kernel = k, .stride = stride, .padding = k / 2, .bias = false});
  };
  using path = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::batch_norm2d>;
  using projection = hush::seq<hush::conv2d, hush::batch_norm2d>;
  using block = hush::residual<path, hush::identity, hush::relu>;
  const auto make_path = [&](std::int64_t in, std::int64_t out, std::int64_t stride) {
    return path(c(in, out, 3, stride), hush::batch_norm2d(out), {}, c(out, out), hush::batch_norm2d(out));
  };
  check_residual_inference("identity shortcut, ReLU, blocked", block(make_path(16, 16, 1)), {2, 16, 8, 8}, true);
  using down = hush::residual<path, projection, hush::relu>;
  check_residual_inference("projection shortcut, stride 2, blocked",
                           down(make_path(16, 32, 2), projection(c(16, 32, 1, 2), hush::batch_norm2d(32))), {2, 16, 9, 7}, true);
  using leaky = hush::residual<projection, hush::identity, hush::leaky_relu>;
  check_residual_inference("leaky ReLU after the sum, NCHW", leaky(projection(c(8, 8), hush::batch_norm2d(8)), {}, hush::leaky_relu(0.1f)),
                           {2, 8, 6, 6}, true);
  using bare = hush::residual<projection, hush::identity>;
  check_residual_inference("nothing after the sum", bare(projection(c(16, 16), hush::batch_norm2d(16))), {1, 16, 5, 5}, true);
  using ends_in_relu = hush::residual<hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu>, hush::identity, hush::relu>;
  check_residual_inference("a main path ending in a ReLU: the sum apart",
                           ends_in_relu(hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu>(c(16, 16), hush::batch_norm2d(16), {})),
                           {2, 16, 6, 6}, false);
  using negative = hush::residual<projection, hush::identity, hush::leaky_relu>;
  check_residual_inference("a leaky ReLU of negative slope: the sum apart",
                           negative(projection(c(16, 16), hush::batch_norm2d(16)), {}, hush::leaky_relu(-0.2f)), {2, 16, 6, 6}, false);
  // Attention keeps its softmax weights in the context's scratch when no backward follows.
  using tokens = hush::seq<hush::patch_embed, hush::self_attention>;
  check_inference("patch embedding, attention", tokens(hush::patch_embed({.channels = 3, .dim = 6, .patch = 2}),
                                                       hush::self_attention({.dim = 6, .heads = 3})), {2, 3, 6, 8});
}

TEST_CASE("inference mode: the folded weights, freed once oneDNN holds its copy, are folded again where it holds none") {
  // With oneDNN a convolution hands its batch-norm-folded weights to the kernel, which keeps them
  // in its own layout, and frees them. A new batch size (new kernels), infer() after new weights,
  // and the residual sum's kernel must fold again. The oracle folds nothing: the reference
  // backend in eval mode, the batch norms as layers of their own.
  const auto c = [](std::int64_t k) { return hush::conv2d({.in = 16, .out = 16, .kernel = k, .padding = k / 2, .bias = false}); };
  using path = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::batch_norm2d>;
  using block = hush::residual<path, hush::identity, hush::relu>;
  const block net(path(c(3), hush::batch_norm2d(16), {}, c(1), hush::batch_norm2d(16)));
  hush::model<block, hush::backend::cpu> fast({.seed = 5}, net);
  hush::model<block, hush::backend::reference> slow({.seed = 5}, net);
  const auto vary = [](auto& model) {
    int k = 0;
    hush::for_each_buffer(model.net, [&](std::string_view n, hush::kept& b) {
      hush::tensor t(b.shape());
      for (auto& v : t.values()) v = n.ends_with("running_var") ? 0.5f + 0.1f * float(k++ % 7) : 0.1f * float(k++ % 5 - 2);
      hush::assign(b, t);
    });
  };
  fast.setup({1, 16, 8, 8}), slow.setup({1, 16, 8, 8});
  vary(fast), vary(slow);
  fast.infer(), slow.eval();
  std::vector<float> last;
  const auto both = [&](std::int64_t batch) {  // the largest difference between the backends
    hush::tensor x({batch, 16, 8, 8});
    hush::init_uniform(x, hush::counter_rng(9), 0, 1.0f);
    const hush::tensor a = fast.forward(x), b = slow.forward(x);
    last.assign(a.values().begin(), a.values().end());
    return difference({b.values().begin(), b.values().end()}, last);
  };
  CHECK(both(1) < 1e-4);  // the first pass (and at batch 1 the buffer plan's probe) folds, hands over, frees
  CHECK(both(2) < 1e-4);  // batch 2's kernels (its probe at batch 1 reuses batch 1's) fold again
  CHECK(both(2) < 1e-4);  // from the kernels' own copies
  CHECK(both(3) < 1e-4);
  const auto before = last;
  CHECK(both(2) < 1e-4);
  for (auto* m : {&fast.net.main.get<0>().weight, &slow.net.main.get<0>().weight})
    for (auto& v : m->value.host().values()) v += 0.05f;
  fast.infer();
  CHECK(both(3) < 1e-4);
  CHECK(difference(before, last) > 1e-2);  // the new weights were used
}
