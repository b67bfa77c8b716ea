// The model zoo: parameter counts at compile time, torchvision's names, and eval-mode logits
// against torchvision for resnet18/34/50 and the CIFAR ResNet-20 (tests/reference/torchvision_resnets.py,
// whose weights both sides compute from one formula, so no weight file is committed).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>

#include "hush/hush.hpp"
#include "hush/losses/perceptual.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/dncnn.hpp"
#include "hush/models/fashion_cnn.hpp"
#include "hush/models/front_end.hpp"
#include "hush/models/mae.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/resnet_unet.hpp"
#include "hush/models/restoration_gans.hpp"
#include "hush/models/unet.hpp"
#include "hush/models/vgg.hpp"
#include "hush/models/vit.hpp"
#include "hush/optim/sgd.hpp"
#include "support.hpp"

namespace m = hush::models;

// Parameter counts are compile-time constants (tests/graph.cpp static_asserts small networks');
// these are checked at run time: g++ takes seconds to build a large network in constant evaluation.
TEST_CASE("parameter counts match torchvision's and the papers'") {
  CHECK(m::resnet50{}.parameter_count() == 25'557'032);  // torchvision's resnet50, 1000 classes
  CHECK(m::resnet18{}.parameter_count() == 11'689'512);
  CHECK(m::resnet34{}.parameter_count() == 21'797'672);
  CHECK(m::resnet20{}.parameter_count() == 272'474);     // He et al. §4.2: "0.27M"
  CHECK(m::resnet56{}.parameter_count() == 855'770);      // "0.85M"
  CHECK(m::resnet110{}.parameter_count() == 1'730'714);   // "1.7M"
  CHECK(m::resnet20({.channels = 1, .classes = 10}).parameter_count() == 272'474 - 2 * 16 * 9);
  // Options are set after each ResNet is built from constants (models/resnet.hpp): the stem and the head change.
  CHECK(m::resnet50({.channels = 1, .classes = 10}).parameter_count() == 25'557'032 - 2 * 64 * 49 - 990 * 2049);
  CHECK(m::dcgan_discriminator{}.parameter_count() == 11'213'697);    // its make_discriminator(256)
  CHECK(m::vgg16{}.parameter_count() == 138'357'544);  // torchvision.models.vgg16()
  CHECK(m::vgg19{}.parameter_count() == 143'667'240);
}

namespace {

template <class Net>
void check_logits(const char* name, Net net, std::int64_t size) {
  INFO(std::string(name));
  const auto ref = hush::io::read_safetensors(std::filesystem::path(HUSH_REFERENCE_DATA) / "resnets.safetensors");
  hush::model<Net, hush::backend::cpu> model({.seed = 1}, std::move(net));
  model.setup({2, 3, size, size});
  hush::test::fill_by_formula(model.net);
  hush::tensor x({2, 3, size, size});
  hush::test::formula("input", x);
  for (auto& v : x.values()) v += 0.5f;
  const auto& stored_x = ref.arrays.at(std::string(name) + ".input").values;
  REQUIRE(std::equal(stored_x.begin(), stored_x.end(), x.values().begin()));  // the same formula, bit for bit
  model.eval();
  const auto& logits = model.forward(x);
  const auto& want = ref.arrays.at(std::string(name) + ".logits").values;
  REQUIRE(static_cast<std::size_t>(logits.numel()) == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::abs(double(logits[std::int64_t(i)]) - want[i]) / std::max(1.0, std::abs(double(want[i]))));
  CHECK_MESSAGE(worst < 1e-3, name << ": worst relative logit error " << worst);
}

/// Eval-mode output of `net` against tests/reference/torchvision_vgg.py's: weights by the formula
/// times sqrt(6), input formula("input") x 16 + 0.5.
template <class Net>
void check_vgg(const std::string& name, Net net, hush::shape in) {
  INFO(name);
  const auto ref = hush::io::read_safetensors(std::filesystem::path(HUSH_REFERENCE_DATA) / "vgg.safetensors");
  hush::model<Net, hush::backend::cpu> model({.seed = 1}, std::move(net));
  model.setup(in);
  hush::test::fill_by_formula(model.net, std::sqrt(6.0f));
  hush::tensor x(in);
  hush::test::formula("input", x);
  for (auto& v : x.values()) v = v * 16.0f + 0.5f;
  const auto& stored_x = ref.arrays.at(name + ".input").values;
  REQUIRE(std::equal(stored_x.begin(), stored_x.end(), x.values().begin()));
  model.eval();
  const auto& out = model.forward(x);
  const auto& want = ref.arrays.at(name + ".output").values;
  REQUIRE(static_cast<std::size_t>(out.numel()) == want.size());
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::abs(double(want[i])));
  for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(double(out[std::int64_t(i)]) - want[i]) / scale);
  CHECK_MESSAGE(worst < 1e-4, name << ": worst error " << worst << " of the largest output " << scale);
}

}  // namespace

TEST_CASE("VGG-16 and VGG-19 match torchvision's: names, sizes, outputs (eval mode)") {
  hush::model<m::vgg19, hush::backend::cpu> model;
  model.setup({1, 3, 32, 32});
  std::vector<std::string> names;
  hush::for_each_parameter(model.net, [&](std::string_view n, hush::parameter&) { names.emplace_back(n); });
  REQUIRE(names.size() == 38);
  CHECK(names.front() == "features.0.weight");
  CHECK(names[2] == "features.2.weight");
  CHECK(names[4] == "features.5.weight");  // after a ReLU and a max pool
  CHECK(names[31] == "features.34.bias");
  CHECK(names[32] == "classifier.0.weight");
  CHECK(names.back() == "classifier.6.bias");
  check_vgg("vgg16", m::vgg16{}, {1, 3, 32, 32});
  check_vgg("vgg19", m::vgg19{}, {1, 3, 32, 32});
  check_vgg("vgg16_features", m::vgg_features<64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0>{},
            {1, 3, 64, 64});
  check_vgg("vgg19_features9", m::vgg_features<64, 64, 0, 128, 128>{}, {2, 3, 24, 20});
}

TEST_CASE("the content loss on VGG-19's first nine layers: value and gradient from PyTorch, colour and grey") {
  const auto ref = hush::io::read_safetensors(std::filesystem::path(HUSH_REFERENCE_DATA) / "vgg.safetensors");
  for (const auto& [name, channels] : {std::pair{std::string("perceptual"), 3}, std::pair{std::string("perceptual_grey"), 1}}) {
    INFO(name);
    const hush::shape in{2, channels, 24, 20};
    hush::perceptual_loss<m::vgg_features<64, 64, 0, 128, 128>, hush::backend::cpu> loss;
    loss.setup(in);
    hush::test::fill_by_formula(loss.features.net, std::sqrt(6.0f));
    hush::tensor pred(in), target(in);
    hush::test::formula(name + ".pred", pred), hush::test::formula(name + ".target", target);
    for (auto& v : pred.values()) v = v * 16.0f + 0.5f;
    for (auto& v : target.values()) v = v * 16.0f + 0.5f;
    const float value = loss.forward(loss.features.ctx, pred, target);
    CHECK(value == doctest::Approx(ref.arrays.at(name + ".loss").values[0]).epsilon(1e-4));
    const auto& grad = loss.backward(loss.features.ctx);
    const auto& want = ref.arrays.at(name + ".grad").values;
    REQUIRE(std::size_t(grad.numel()) == want.size());
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::abs(double(want[i])));
    for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(grad[std::int64_t(i)] - double(want[i])) / scale);
    CHECK_MESSAGE(worst < 1e-4, "worst gradient error " << worst << " of the largest " << scale);
  }
}

TEST_CASE("the content loss takes a torchvision file's tensors by name, and names a file that does not fit") {
  hush::test::temp_dir dir("perceptual");
  // A "torchvision" file: VGG-19's first two convolutions and a classifier tensor the loss ignores.
  hush::model<m::vgg_features<64, 64>, hush::backend::cpu> source({.seed = 7});
  source.setup({1, 3, 8, 8});
  hush::io::safetensors_writer w;
  hush::add_weights(w, source.net);
  const std::vector<float> extra(10, 1.0f);
  w.add("classifier.6.bias", {10}, extra.data());
  w.write(dir.path / "vgg.safetensors");
  hush::perceptual_loss<m::vgg_features<64, 64>, hush::backend::cpu> loss({.weights = dir.path / "vgg.safetensors"});
  loss.setup({1, 3, 8, 8});
  std::vector<float> a, b;
  hush::for_each_parameter(source.net, [&](std::string_view, hush::parameter& p) { a.insert(a.end(), p.value.host().values().begin(), p.value.host().values().end()); });
  hush::for_each_parameter(loss.features.net, [&](std::string_view, hush::parameter& p) { b.insert(b.end(), p.value.host().values().begin(), p.value.host().values().end()); });
  CHECK(a == b);
  hush::perceptual_loss<m::vgg_features<64, 64, 0, 128>, hush::backend::cpu> deeper({.weights = dir.path / "vgg.safetensors"});
  CHECK_THROWS_WITH_AS(deeper.setup({1, 3, 8, 8}), doctest::Contains("missing tensor 'features.5.weight'"), hush::io_error);
}

TEST_CASE("torchvision's state_dict names") {
  hush::model<m::resnet50, hush::backend::cpu> model;
  model.setup({1, 3, 32, 32});
  std::vector<std::string> names;
  hush::for_each_parameter(model.net, [&](std::string_view n, hush::parameter&) { names.emplace_back(n); });
  CHECK(names.size() == 161);
  CHECK(names.front() == "conv1.weight");
  CHECK(names[5] == "layer1.0.bn1.bias");
  CHECK(names[12] == "layer1.0.downsample.0.weight");
  CHECK(names.back() == "fc.bias");
}

TEST_CASE("eval-mode logits match torchvision") {
  check_logits("resnet18", m::resnet18{}, 64);
  check_logits("resnet34", m::resnet34{}, 64);
  check_logits("resnet50", m::resnet50{}, 64);
  check_logits("resnet20", m::resnet20{}, 32);
  check_logits("resnet56", m::resnet56{}, 32);  // seed 004's deeper CIFAR ResNets
  check_logits("resnet110", m::resnet110{}, 32);
}

TEST_CASE("the Noise2Noise U-Net and the DCGAN discriminator match PyTorch's (eval mode)") {
  check_logits("unet", m::noise2noise_unet{}, 64);
  check_logits("dcgan_discriminator", m::dcgan_discriminator({.size = 64}), 64);
}

TEST_CASE("the U-Net's parameters carry the paper's flat layer names") {
  hush::model<m::noise2noise_unet, hush::backend::cpu> model;
  model.setup({1, 3, 32, 32});
  std::vector<std::string> names;
  hush::for_each_parameter(model.net, [&](std::string_view n, hush::parameter&) { names.emplace_back(n); });
  CHECK(model.net.parameter_count() == 991'203);  // bench/torch_peer.py's N2NUNet (concat_skip is not constexpr)
  REQUIRE(names.size() == 36);
  CHECK(names.front() == "enc_conv0.weight");
  CHECK(names[14] == "dec_conv5a.weight");
  CHECK(names.back() == "dec_conv1c.bias");
  // Five poolings: a side that is not a multiple of 32 cannot come back up to join its skip.
  CHECK_THROWS_WITH(model.setup({1, 3, 48, 48}), doctest::Contains("cannot join"));
}

TEST_CASE("a PyTorch state_dict file loads into resnet20 and gives PyTorch's logits") {
  const std::filesystem::path dir = HUSH_REFERENCE_DATA;
  const auto ref = hush::io::read_safetensors(dir / "resnets.safetensors");
  const auto in = hush::io::read_safetensors(dir / "resnet20_input.safetensors").arrays.at("images");
  hush::model<m::resnet20, hush::backend::cpu> model;
  model.setup({in.dims[0], in.dims[1], in.dims[2], in.dims[3]});
  hush::load_weights(model.net, dir / "resnet20.weights.safetensors");
  model.eval();
  const auto& logits = model.forward(hush::tensor({in.dims[0], in.dims[1], in.dims[2], in.dims[3]}, in.values));
  const auto& want = ref.arrays.at("resnet20.logits").values;
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(logits[std::int64_t(i)] == doctest::Approx(want[i]).epsilon(1e-3));
  // The wrong model for the file: the message names the file and the first tensor that does not fit.
  hush::model<m::resnet56, hush::backend::cpu> other;
  other.setup({1, 3, 32, 32});
  CHECK_THROWS_WITH(hush::load_weights(other.net, dir / "resnet20.weights.safetensors"),
                    doctest::Contains("resnet20.weights.safetensors: missing tensor 'layer1.3.conv1.weight'"));
}

namespace {
/// Batch-norm statistics and affine parameters away from their initial 0/1, so folding matters.
template <class Net>
void vary_norms(Net& net) {
  int k = 0;
  hush::for_each_buffer(net, [&](std::string_view n, hush::kept& buffer) {
    auto& t = buffer.host();
    for (auto& v : t.values()) v = n.ends_with("running_var") ? 0.5f + 0.02f * float(k++ % 37) : 0.05f * float(k++ % 11 - 5);
  });
  hush::for_each_parameter(net, [&](std::string_view n, hush::parameter& p) {
    if (p.value.shape().rank == 1 && !n.starts_with("fc"))
      for (auto& v : p.value.host().values()) v = n.ends_with("weight") ? 0.6f + 0.03f * float(k++ % 29) : 0.02f * float(k++ % 13 - 6);
  });
}

template <class Backend, class Net>
void check_inference_equals_eval(Net net, hush::shape in, Backend backend = {}) {
  hush::model<Net, Backend> model({.seed = 1, .backend = backend}, std::move(net));
  model.setup(in);
  vary_norms(model.net);
  hush::tensor x(in);
  hush::init_uniform(x, hush::counter_rng(3), 0, 1.0f);
  model.eval();
  const hush::tensor eval = model.forward(x);
  model.infer();
  const hush::tensor fused = model.forward(x);
  double worst = 0;
  for (std::int64_t i = 0; i < eval.numel(); ++i)
    worst = std::max(worst, std::abs(double(eval[i]) - fused[i]) / std::max(1.0, std::abs(double(eval[i]))));
  CHECK_MESSAGE(worst < 1e-4, "worst relative difference " << worst);
  // No backward after fused layers; the weights refold after a change and another infer().
  CHECK_THROWS_WITH(model.backward(eval), doctest::Contains("backward after an inference-mode forward"));
  hush::for_each_buffer(model.net, [](std::string_view n, hush::kept& k) {
    auto& t = k.host();
    if (n.ends_with("running_mean")) t.fill(0.3f);
  });
  model.eval();
  const hush::tensor eval2 = model.forward(x);
  model.infer();
  const hush::tensor fused2 = model.forward(x);
  for (std::int64_t i = 0; i < eval2.numel(); ++i) REQUIRE(fused2[i] == doctest::Approx(eval2[i]).epsilon(1e-4));
}
}  // namespace

TEST_CASE("inference mode: conv + batch norm + ReLU fused, the same logits as eval mode") {
  SUBCASE("cpu, resnet50") { check_inference_equals_eval<hush::backend::cpu>(m::resnet50({.channels = 3, .classes = 10}), {2, 3, 64, 64}); }
  SUBCASE("cpu, resnet20") { check_inference_equals_eval<hush::backend::cpu>(m::resnet20{}, {3, 3, 32, 32}); }
  SUBCASE("cpu, every convolution algorithm") {
    for (auto algorithm : hush::backend::cpu_conv_algorithms()) {
      check_inference_equals_eval(m::resnet20{}, {2, 3, 32, 32}, hush::backend::cpu{.convolutions = algorithm});
    }
  }
  SUBCASE("reference, resnet20") { check_inference_equals_eval<hush::backend::reference>(m::resnet20{}, {1, 3, 16, 16}); }
  // 48 channels fill oneDNN's blocks: convolutions hand blocked activations to each other, and
  // NCHW to the pooling, the concatenations and the upsampling between them (core/layout.hpp).
  SUBCASE("cpu, noise2noise_unet") {
    check_inference_equals_eval<hush::backend::cpu>(m::noise2noise_unet{}, {1, 3, 32, 32});
  }
}

namespace {
/// A model's inference on two cpu backends' settings (fp32 and bf16, direct and Winograd), from
/// the same weights and input: the relative L2 distance between their outputs. Train mode must
/// not change (bit for bit).
template <class Net>
double inference_distance(Net net, hush::shape in, hush::backend::cpu a_backend, hush::backend::cpu b_backend) {
  using hush::backend::cpu;
  hush::model<Net, cpu> a_model({.seed = 1, .backend = a_backend}, net), b_model({.seed = 1, .backend = b_backend}, net);
  a_model.setup(in), b_model.setup(in);
  vary_norms(a_model.net), vary_norms(b_model.net);
  hush::tensor x(in);
  hush::init_uniform(x, hush::counter_rng(3), 0, 1.0f);
  a_model.train(), b_model.train();
  const hush::tensor a_train = a_model.forward(x), b_train = b_model.forward(x);
  CHECK(std::memcmp(a_train.data(), b_train.data(), sizeof(float) * std::size_t(a_train.numel())) == 0);
  vary_norms(a_model.net), vary_norms(b_model.net);  // the train pass moved the running statistics
  a_model.infer(), b_model.infer();
  const hush::tensor a = a_model.forward(x), b = b_model.forward(x);
  double num = 0, den = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]), den += double(a[i]) * a[i];
  return std::sqrt(num / den);
}

template <class Net>
double bf16_distance(Net net, hush::shape in) {
  return inference_distance(std::move(net), in, {}, {.inference_precision = hush::backend::cpu_precision::bf16});
}
}  // namespace

// bf16 keeps 8 bits of mantissa: each rounding costs up to 2^-9 (2e-3) of a value, and what
// a network adds up of those stays around 1e-2. Above 0 proves the bf16 kernels ran.
TEST_CASE("bf16 inference: within bf16's rounding of fp32, training untouched, refused where it cannot run") {
  using hush::backend::cpu;
  const cpu bf16{.inference_precision = hush::backend::cpu_precision::bf16};
  if (hush::backend::cpu_conv_algorithms().size() < 2) {  // built without oneDNN
    hush::model<m::resnet20, cpu> model({.backend = bf16});
    CHECK_THROWS_WITH(model.setup({1, 3, 32, 32}), doctest::Contains("this build has none"));
    return;
  }
  {
    hush::model<m::resnet20, cpu> model({.backend = {.convolutions = hush::backend::cpu_conv_algorithm::im2col,
                                                     .inference_precision = hush::backend::cpu_precision::bf16}});
    CHECK_THROWS_WITH(model.setup({1, 3, 32, 32}), doctest::Contains("not im2col"));
  }
#if HUSH_WITH_DNNL
  if (!hush::backend::dnnl_detail::cpu_has_bf16()) {
    hush::model<m::resnet20, cpu> model({.backend = bf16});
    CHECK_THROWS_WITH(model.setup({1, 3, 32, 32}), doctest::Contains("needs a CPU that multiplies bf16"));
    MESSAGE("this CPU does not multiply bf16: only the refusal is tested");
    return;
  }
  // A 3-channel first convolution stays fp32 where oneDNN has no bf16 kernel for it; strided
  // projections, the blocked last stage and the global pool that reads it; LeakyReLU and
  // concatenations in the U-Net; a grouped, dilated convolution in a composition nobody ships.
  SUBCASE("resnet50") {
    const double d = bf16_distance(m::resnet50({.channels = 3, .classes = 10}), {2, 3, 64, 64});
    CHECK(d > 0);
    CHECK(d < 3e-2);
  }
  SUBCASE("noise2noise_unet") {
    const double d = bf16_distance(m::noise2noise_unet{}, {1, 3, 32, 32});
    CHECK(d > 0);
    CHECK(d < 3e-2);
  }
  SUBCASE("a grouped, dilated, strided composition") {
    using net = hush::seq<hush::conv2d, hush::batch_norm2d, hush::leaky_relu, hush::conv2d, hush::relu, hush::global_avg_pool>;
    const double d = bf16_distance(net(hush::conv2d({.in = 5, .out = 32, .kernel = 3, .stride = 2, .padding = 1, .bias = false}),
                                       hush::batch_norm2d(32), hush::leaky_relu(0.1f),
                                       hush::conv2d({.in = 32, .out = 48, .kernel = 3, .padding = 2, .dilation = 2, .groups = 4}),
                                       hush::relu{}, hush::global_avg_pool{}),
                                   {3, 5, 19, 17});
    CHECK(d > 0);
    CHECK(d < 3e-2);
  }
#endif
}

// Winograd's transforms add a few roundings per convolution to the direct kernel's; in fp32 the
// outputs stay within 1e-7 to 3e-7 of the direct kernels' (relative L2, these three). Above 0
// proves the Winograd kernels ran, where oneDNN has them (AVX-512); elsewhere the direct kernels
// run either way and the distance is 0. Direct against direct gives the same bits.
TEST_CASE("Winograd inference: within fp32's rounding of the direct kernels, training untouched") {
#if HUSH_WITH_DNNL
  const bool has_winograd = hush::backend::dnnl_detail::activation_block() == 16;  // oneDNN's are AVX-512 only
  if (!has_winograd) MESSAGE("oneDNN has no Winograd kernels on this CPU (no AVX-512): only the fallback is tested");
  const auto ran = [&](double d) { return has_winograd ? d > 0 : d == 0; };
#else
  if (hush::backend::cpu_conv_algorithms().size() < 2) return;  // built without oneDNN: im2col only
  const auto ran = [](double) { return true; };
#endif
  const hush::backend::cpu direct{.winograd_inference = false}, winograd{.winograd_inference = true};
  SUBCASE("resnet50") {
    const double d = inference_distance(m::resnet50({.channels = 3, .classes = 10}), {2, 3, 64, 64}, direct, winograd);
    CHECK(ran(d));
    CHECK_MESSAGE(d < 1e-5, "relative distance " << d);
  }
  SUBCASE("noise2noise_unet: concatenations, LeakyReLU, 48 and 96 channels") {
    const double d = inference_distance(m::noise2noise_unet{}, {1, 3, 32, 32}, direct, winograd);
    CHECK(ran(d));
    CHECK_MESSAGE(d < 1e-5, "relative distance " << d);
  }
  SUBCASE("a composition nobody ships: 3x3 convolutions with and without bias, a residual sum, odd sizes") {
    using block = hush::residual<hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::batch_norm2d>>;
    using net = hush::seq<hush::conv2d, hush::relu, block, hush::relu, hush::conv2d, hush::global_avg_pool>;
    const auto make = [] {
      return net(hush::conv2d({.in = 3, .out = 32, .kernel = 3, .padding = 1}), hush::relu{},
                 block(hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::batch_norm2d>(
                     hush::conv2d({.in = 32, .out = 32, .kernel = 3, .padding = 1, .bias = false}), hush::batch_norm2d(32),
                     hush::relu{}, hush::conv2d({.in = 32, .out = 32, .kernel = 3, .padding = 1, .bias = false}),
                     hush::batch_norm2d(32))),
                 hush::relu{}, hush::conv2d({.in = 32, .out = 48, .kernel = 3, .padding = 1}), hush::global_avg_pool{});
    };
    const double d = inference_distance(make(), {3, 3, 13, 11}, direct, winograd);
    CHECK(ran(d));
    CHECK_MESSAGE(d < 1e-5, "relative distance " << d);
    CHECK(inference_distance(make(), {3, 3, 13, 11}, direct, direct) == 0);
  }
}

namespace {
/// A training step's logits, input gradient and parameter gradients, all in one vector.
template <class Net>
std::vector<float> training_step(hush::shape in, hush::backend::cpu backend) {
  hush::model<Net, hush::backend::cpu> model({.seed = 4, .backend = backend});
  hush::tensor x(in);
  hush::init_uniform(x, hush::counter_rng(6), 0, 1.0f);
  model.train();
  const hush::tensor& y = model.forward(x);
  std::vector<float> all(y.values().begin(), y.values().end());
  hush::tensor dy(y.shape());
  hush::init_uniform(dy, hush::counter_rng(7), 0, 1.0f);
  model.zero_grad();
  const hush::tensor& dx = model.backward(dy);
  all.insert(all.end(), dx.values().begin(), dx.values().end());
  hush::for_each_parameter(model.net, [&](std::string_view, hush::parameter& p) {
    all.insert(all.end(), p.grad.host().values().begin(), p.grad.host().values().end());
  });
  return all;
}

/// The worst difference between two runs, relative where values exceed 1 (and where it is).
std::string worst_difference(const std::vector<float>& a, const std::vector<float>& b, double& worst) {
  REQUIRE(a.size() == b.size());
  worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(double(a[i]) - b[i]) / std::max(1.0, std::abs(double(b[i])));
    if (d > worst) worst = d, at = i;
  }
  return std::to_string(worst) + " at value " + std::to_string(at) + " of " + std::to_string(a.size()) + " (" +
         std::to_string(a[at]) + " against " + std::to_string(b[at]) + ")";
}

/// With oneDNN, activations stay in its blocked layout from convolution to convolution (through
/// batch norm, ReLU and residual sums; core/layout.hpp). The same convolutions with NCHW between
/// them must give the same step up to rounding, and im2col (NCHW, other kernels) within float
/// error grown through the network.
template <class Net>
void check_blocked_equals_nchw(hush::shape in, double against_im2col) {
  if (hush::backend::cpu_conv_algorithms().size() < 2) return;  // built without oneDNN
  using hush::backend::cpu_conv_algorithm;
  std::vector<float> blocked, nchw, im2col;
  blocked = training_step<Net>(in, {.convolutions = cpu_conv_algorithm::dnnl});
  nchw = training_step<Net>(in, {.convolutions = cpu_conv_algorithm::dnnl, .blocked_layout = false});
  im2col = training_step<Net>(in, {.convolutions = cpu_conv_algorithm::im2col});
  double layouts = 0, algorithms = 0;
  const auto where_layouts = worst_difference(blocked, nchw, layouts);
  const auto where_algorithms = worst_difference(blocked, im2col, algorithms);
  CHECK_MESSAGE(layouts < 1e-4, "blocked against NCHW: worst relative difference " << where_layouts);
  CHECK_MESSAGE(algorithms < against_im2col, "oneDNN against im2col: worst relative difference " << where_algorithms);
}
}  // namespace

TEST_CASE("training: blocked activations give the step that NCHW ones give (logits and every gradient)") {
  SUBCASE("resnet20 (16, 32, 64 channels: blocked throughout)") { check_blocked_equals_nchw<m::resnet20>({4, 3, 16, 16}, 1e-3); }
  SUBCASE("noise2noise_unet (48, 96 channels; pooling and concatenation in NCHW)") {
    check_blocked_equals_nchw<m::noise2noise_unet>({2, 3, 32, 32}, 1e-3);
  }
  SUBCASE("dcgan_discriminator") { check_blocked_equals_nchw<m::dcgan_discriminator>({2, 3, 256, 256}, 1e-2); }
}

namespace {
/// Two SGD steps in train mode, an eval-mode forward and backward, an inference and another
/// train-mode forward: every output, input gradient and the weights, in one vector.
template <class Net>
std::vector<float> steps(const Net& net, hush::shape in, bool plan_buffers, std::int64_t& arena, hush::buffer_ledger& kept) {
  hush::model<Net, hush::backend::cpu> model({.seed = 5, .plan_buffers = plan_buffers}, net);
  hush::sgd opt(model.net, {.lr = 0.01f, .momentum = 0.9f});
  hush::tensor x(in);
  hush::init_uniform(x, hush::counter_rng(8), 0, 1.0f);
  std::vector<float> all;
  const auto append = [&](const hush::tensor& t) { all.insert(all.end(), t.values().begin(), t.values().end()); };
  const auto forward_backward = [&](std::uint64_t seed) {
    model.zero_grad();
    const hush::tensor& y = model.forward(x);
    append(y);
    hush::tensor dy(y.shape());
    hush::init_uniform(dy, hush::counter_rng(seed), 0, 1.0f);
    append(model.backward(dy));
  };
  model.train();
  for (std::uint64_t step = 0; step < 2; ++step, ++model.ctx.step) {
    forward_backward(9 + step);
    opt.step(model.ctx.backend);
  }
  hush::for_each_parameter(model.net, [&](std::string_view, hush::parameter& p) { append(p.value.host()); });
  model.eval();
  forward_backward(12);
  model.infer();
  append(model.forward(x));
  model.train();
  append(model.forward(x));
  arena = model.arena_bytes();
  kept = model.buffers();
  return all;
}

/// The buffer plan (core/buffer_plan.hpp) gives every value that the network gives without it,
/// bit for bit, in an arena smaller than the buffers it shares.
template <class Net>
void check_buffer_plan(const Net& net, hush::shape in) {
  std::int64_t arena = 0, unplanned_arena = 0;
  hush::buffer_ledger kept, unplanned_kept;
  const auto planned = steps(net, in, true, arena, kept);
  const auto unplanned = steps(net, in, false, unplanned_arena, unplanned_kept);
  CHECK(unplanned_arena == 0);
  REQUIRE(planned.size() == unplanned.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < planned.size(); ++i) differ += std::memcmp(&planned[i], &unplanned[i], sizeof(float)) != 0;
  CHECK_MESSAGE(differ == 0, differ << " of " << planned.size() << " values differ");
  const auto shared = kept.output + kept.input_gradient;
  MESSAGE(std::string(Net::kind) << " " << in.str() << ": outputs and input gradients " << shared / 1024 << " KiB, arena "
                    << arena / 1024 << " KiB");
  CHECK(arena > 0);
  CHECK(arena < shared);
}
}  // namespace

TEST_CASE("the buffer plan: every shipped model's steps bit for bit as without it, in less memory") {
  SUBCASE("fashion_cnn") { check_buffer_plan(m::fashion_cnn{}, {4, 1, 28, 28}); }
  SUBCASE("resnet20") { check_buffer_plan(m::resnet20{}, {4, 3, 16, 16}); }
  SUBCASE("resnet18") { check_buffer_plan(m::resnet18({.channels = 3, .classes = 10}), {2, 3, 32, 32}); }
  SUBCASE("resnet50") { check_buffer_plan(m::resnet50({.channels = 3, .classes = 10}), {2, 3, 64, 64}); }
  SUBCASE("noise2noise_unet") { check_buffer_plan(m::noise2noise_unet{}, {2, 3, 32, 32}); }
  SUBCASE("residual_unet") { check_buffer_plan(m::residual_unet({.channels = 3, .width = 16}), {2, 3, 32, 32}); }
  SUBCASE("dncnn17") { check_buffer_plan(m::dncnn17({.channels = 1, .width = 16}), {2, 1, 20, 20}); }
  SUBCASE("resnet18_unet") { check_buffer_plan(m::resnet18_unet{}, {1, 3, 32, 32}); }
  SUBCASE("dcgan_discriminator") { check_buffer_plan(m::dcgan_discriminator({.channels = 3, .size = 64, .width = 16}), {2, 3, 64, 64}); }
  SUBCASE("conv and resgan generators") {
    check_buffer_plan(m::conv_generator{}, {2, 1, 28, 28});
    check_buffer_plan(m::resgan_generator{}, {2, 1, 28, 28});
  }
  SUBCASE("vision_transformer") {
    check_buffer_plan(m::vision_transformer<2>({.image = 32, .patch = 8, .dim = 32, .heads = 2, .mlp = 64, .classes = 10}),
                      {2, 3, 32, 32});
  }
  SUBCASE("masked_autoencoder") {
    check_buffer_plan(m::masked_autoencoder<2, 1>({.image = 16, .patch = 4, .channels = 1, .dim = 32, .heads = 2, .mlp = 64,
                                                   .decoder_dim = 16, .decoder_heads = 2, .decoder_mlp = 32}),
                      {2, 1, 16, 16});
  }
  SUBCASE("a classifier behind a frozen denoiser") {
    check_buffer_plan(m::behind_frozen<m::dncnn<5>, m::resnet20>(hush::frozen(m::dncnn<5>({.channels = 1, .width = 16})),
                                                                   m::resnet20({.channels = 1, .classes = 10})),
                      {2, 1, 16, 16});
  }
}
