// Every layer, and a small residual network, against PyTorch: forward, input gradient, parameter
// gradients and running statistics, from the vectors tests/reference/torch_layers.py wrote with
// Debian's python3-torch. Weights are loaded from PyTorch's own state_dict files, so this also
// checks that hush reads PyTorch's names and layouts. Run on all three backends.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/losses/masked_patch_mse.hpp"
#include "hush/models/mae.hpp"
#include "hush/models/restoration_gans.hpp"
#include "hush/models/vit.hpp"

namespace {

namespace fs = std::filesystem;
const fs::path data_dir = HUSH_REFERENCE_DATA;

hush::tensor as_tensor(const hush::io::stored_array& a) {
  hush::shape s;
  for (auto d : a.dims) s[s.rank++] = d;
  return hush::tensor(s, a.values);
}

void compare(const std::string& what, const hush::tensor& got, const hush::io::stored_array& want, double tolerance) {
  INFO(what);
  REQUIRE(got.shape() == as_tensor(want).shape());
  double worst = 0;
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double ref = want.values[static_cast<std::size_t>(i)];
    const double err = std::abs(got[i] - ref) / std::max(1.0, std::abs(ref));
    if (err > worst) worst = err, at = i;
  }
  CHECK_MESSAGE(worst <= tolerance, what << ": worst relative error " << worst << " at element " << at);
}

template <class Backend, class L>
void check_one(const std::string& name, L layer, hush::mode mode, double tolerance, Backend backend = {}) {
  INFO("case " << name << " on " << Backend::name);
  const auto io = hush::io::read_safetensors(data_dir / (name + ".io.safetensors"));
  const auto x = as_tensor(io.arrays.at("x")), dy = as_tensor(io.arrays.at("dy"));
  hush::context<Backend> ctx(1);
  ctx.backend = backend;
  ctx.mode = mode;
  layer.setup(ctx, x.shape());
  hush::load_weights(layer, data_dir / (name + ".weights.safetensors"));
  hush::zero_grad(layer);
  const auto& xb = hush::to(backend, x);  // in the backend's memory
  const auto& dyb = hush::to(backend, dy);
  compare("y", hush::to_host(layer.forward(ctx, xb)), io.arrays.at("y"), tolerance);
  compare("dx", hush::to_host(layer.backward(ctx, xb, dyb)), io.arrays.at("dx"), tolerance);
  hush::for_each_parameter(layer, [&](std::string_view p, hush::parameter& param) {
    compare("grad." + std::string(p), hush::to_host(param.grad), io.arrays.at("grad." + std::string(p)), tolerance);
  });
  hush::for_each_buffer(layer, [&](std::string_view b, hush::kept& t) {
    compare("after." + std::string(b), hush::to_host(t), io.arrays.at("after." + std::string(b)), tolerance);
  });
}

/// The case on every backend (the cpu one with each of its convolution algorithms). Float32 reductions in another order than PyTorch's differ in the
/// last bits; 1e-4 relative (to max(1, |value|)) is far below any real error.
template <class L>
void check(const std::string& name, const L& layer, hush::mode mode = hush::mode::train, double tolerance = 1e-4) {
  check_one<hush::backend::reference>(name, layer, mode, tolerance);
  for (const auto algorithm : hush::backend::cpu_conv_algorithms()) {
    INFO("cpu convolutions: " << hush::backend::name(algorithm));
    check_one(name, layer, mode, tolerance, hush::backend::cpu{.convolutions = algorithm});
  }
  check_one<hush::backend::thrust>(name, layer, mode, tolerance);
}

using hush::named;
using block_main = hush::seq<named<"conv1", hush::conv2d>, named<"bn1", hush::batch_norm2d>, hush::relu,
                             named<"conv2", hush::conv2d>, named<"bn2", hush::batch_norm2d>>;
using downsample = named<"downsample", hush::seq<hush::conv2d, hush::batch_norm2d>>;
/// torchvision's BasicBlock with a projection shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)).
using basic_block = hush::residual<block_main, downsample, hush::relu>;
/// The network of torch_layers.py's SmallResNet, with the same state_dict names.
struct small_resnet : hush::seq<named<"conv1", hush::conv2d>, named<"bn1", hush::batch_norm2d>, hush::relu,
                                named<"layer1", basic_block>, hush::global_avg_pool, named<"fc", hush::linear>> {
  static constexpr const char* kind = "small_resnet";
  constexpr small_resnet()
      : seq(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1, .bias = false}), hush::batch_norm2d(4),
            hush::relu{},
            basic_block(block_main(hush::conv2d({.in = 4, .out = 8, .kernel = 3, .stride = 2, .padding = 1, .bias = false}),
                                   hush::batch_norm2d(8), hush::relu{},
                                   hush::conv2d({.in = 8, .out = 8, .kernel = 3, .padding = 1, .bias = false}),
                                   hush::batch_norm2d(8)),
                        downsample(hush::seq<hush::conv2d, hush::batch_norm2d>(
                            hush::conv2d({.in = 4, .out = 8, .kernel = 1, .stride = 2, .bias = false}), hush::batch_norm2d(8))),
                        hush::relu{}),
            hush::global_avg_pool{}, hush::linear({.in = 8, .out = 3})) {}
};

}  // namespace

TEST_CASE("convolutions and linear against PyTorch") {
  check("conv2d_3x3_pad1", hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}));
  check("conv2d_strided_dilated_grouped",
        hush::conv2d({.in = 4, .out = 6, .kernel = 3, .stride = 2, .padding = 2, .dilation = 2, .groups = 2}));
  check("conv2d_1x1_no_bias", hush::conv2d({.in = 5, .out = 3, .kernel = 1, .bias = false}));
  check("conv2d_7x7_stride2", hush::conv2d({.in = 3, .out = 4, .kernel = 7, .stride = 2, .padding = 3, .bias = false}));
  check("conv_transpose2d", hush::conv_transpose2d({.in = 4, .out = 3, .kernel = 4, .stride = 2, .padding = 1}));
  check("conv_transpose2d_output_padding_groups",
        hush::conv_transpose2d({.in = 4, .out = 6, .kernel = 3, .stride = 2, .padding = 1, .output_padding = 1, .groups = 2}));
  check("linear", hush::linear({.in = 7, .out = 5}));
}

TEST_CASE("normalisation against PyTorch: batch norm in train and eval mode, layer norm") {
  // Train: batch statistics, running statistics updated with momentum 0.1 and the unbiased
  // variance. Eval: the running statistics, nothing updated.
  check("batch_norm2d_train", hush::batch_norm2d(3));
  check("batch_norm2d_eval", hush::batch_norm2d(3), hush::mode::eval);
  check("layer_norm", hush::layer_norm(6));
}

TEST_CASE("activations, softmax, pooling, upsampling and flatten against PyTorch") {
  check("relu", hush::relu{});
  check("leaky_relu", hush::leaky_relu(0.2f));
  check("tanh", hush::tanh{});
  check("sigmoid", hush::sigmoid{});
  check("gelu", hush::gelu{});
  check("softmax", hush::softmax{});
  check("max_pool2d_2", hush::max_pool2d({.kernel = 2}));
  check("max_pool2d_3_stride2_pad1", hush::max_pool2d({.kernel = 3, .stride = 2, .padding = 1}));
  check("avg_pool2d_3_stride2_pad1", hush::avg_pool2d({.kernel = 3, .stride = 2, .padding = 1}));
  check("global_avg_pool", hush::global_avg_pool{});
  check("adaptive_avg_pool2d_overlapping", hush::adaptive_avg_pool2d({.height = 4, .width = 3}));
  check("adaptive_avg_pool2d_7_from_3x2", hush::adaptive_avg_pool2d({.height = 7, .width = 7}));
  check("upsample_nearest_2", hush::upsample({.scale = 2}));
  check("upsample_bilinear_2", hush::upsample({.scale = 2, .interpolation = hush::upsample::interpolation::bilinear}));
  check("upsample_bilinear_4", hush::upsample({.scale = 4, .interpolation = hush::upsample::interpolation::bilinear}));
  check("flatten", hush::flatten{});
}

TEST_CASE("a small residual network against PyTorch, in train and eval mode") {
  check("small_resnet_train", small_resnet{});
  check("small_resnet_eval", small_resnet{}, hush::mode::eval);
  small_resnet net;
  hush::context<hush::backend::cpu> ctx;
  net.setup(ctx, {1, 3, 8, 8});
  hush::load_weights(net, data_dir / "small_resnet_train.weights.safetensors");
  std::int64_t tracked = -1;
  struct visitor {
    std::int64_t& tracked;
    void parameter(std::string_view, hush::parameter&) {}
    void buffer(std::string_view, hush::kept&) {}
    void counter(std::string_view name, std::int64_t& c) {
      if (name == "layer1.bn2.num_batches_tracked") tracked = c;
    }
  } v{tracked};
  net.visit(v);
  CHECK(tracked == 0);  // PyTorch's counter, loaded as an integer
}

TEST_CASE("seed 002's convolutional generators against PyTorch, in train and eval mode") {
  // Finite differences cannot check these closely (four batch norms before leaky ReLUs and ReLUs
  // put kinks within any useful step of some activation); PyTorch's own gradients can.
  namespace m = hush::models;
  check("resgan_generator_train", m::resgan_generator({.channels = 1, .width = 3}));
  check("conv_generator_train", m::conv_generator({.in_channels = 3, .width = 3}));
  check("conv_generator_eval", m::conv_generator({.in_channels = 3, .width = 3}), hush::mode::eval);
}

TEST_CASE("token layers, attention, the ViT's blocks and a small torchvision VisionTransformer against PyTorch") {
  namespace m = hush::models;
  check("linear_tokens", hush::linear({.in = 4, .out = 6}));
  check("self_attention", hush::self_attention({.dim = 6, .heads = 2}));
  check("patch_embed", hush::patch_embed({.channels = 3, .dim = 6, .patch = 2}));
  check("unpatchify", hush::unpatchify({.patch = 2, .channels = 3}));
  check("class_token", hush::class_token(5));
  check("sincos_position_embedding", hush::sincos_position_embedding({.grid = 3, .dim = 8}));
  check("vit_block", m::vit_block({.dim = 8, .heads = 2, .mlp = 16}));
  check("vision_transformer", m::vision_transformer<2>({.image = 16, .patch = 4, .dim = 8, .heads = 2, .mlp = 16, .classes = 5}));
  // The sincos case loads PyTorch's table over hush's: compare the two directly.
  const auto weights = hush::io::read_safetensors(data_dir / "sincos_position_embedding.weights.safetensors");
  compare("sincos_table", hush::sincos_table(3, 8), weights.arrays.at("pos_embed"), 1e-6);
}

namespace {
/// tests/reference/mae.py's model: the same weights and the same mask (hush's generator, which
/// the script re-implements), prediction, norm_pix loss and every gradient.
template <class Backend>
void check_mae(Backend backend = {}) {
  INFO("masked autoencoder on " << Backend::name);
  const auto io = hush::io::read_safetensors(data_dir / "mae.io.safetensors");
  const auto x = as_tensor(io.arrays.at("x"));
  hush::models::masked_autoencoder<2, 1> net({.image = 8, .patch = 2, .channels = 3, .dim = 8, .heads = 2, .mlp = 16,
                                               .decoder_dim = 8, .decoder_heads = 2, .decoder_mlp = 16});
  hush::context<Backend> ctx(1);
  ctx.backend = backend;
  net.setup(ctx, x.shape());
  hush::load_weights(net, data_dir / "mae.weights.safetensors");
  hush::zero_grad(net);
  const auto& xb = hush::to(backend, x);
  const auto& y = net.forward(ctx, xb);
  compare("y", hush::to_host(y), io.arrays.at("y"), 1e-4);
  compare("mask", hush::to_host(net.mask(ctx)), io.arrays.at("mask"), 0);
  hush::tensor_of<decltype(ctx)> patches;
  hush::patchify(backend, xb, 2, patches);
  hush::masked_patch_mse loss({.norm_pix = true});
  const float l = loss.forward(ctx, y, patches, net.mask(ctx));
  CHECK(l == doctest::Approx(io.arrays.at("loss").values[0]).epsilon(1e-5));
  compare("dx", hush::to_host(net.backward(ctx, xb, loss.backward(ctx))), io.arrays.at("dx"), 1e-4);
  hush::for_each_parameter(net, [&](std::string_view p, hush::parameter& param) {
    compare("grad." + std::string(p), hush::to_host(param.grad), io.arrays.at("grad." + std::string(p)), 1e-4);
  });
}
}  // namespace

TEST_CASE("a small masked autoencoder against PyTorch: its mask, prediction, norm_pix loss and gradients") {
  check_mae<hush::backend::reference>();
  check_mae<hush::backend::cpu>();
  check_mae<hush::backend::thrust>();
}
