// The denoisers as types: their sizes, their PyTorch names, and eval-mode outputs against the same
// networks in PyTorch (bench/torch_denoisers.py, via tests/reference/denoisers.py, with weights
// both sides compute from one formula).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hush/hush.hpp"
#include "hush/models/dncnn.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/resnet_unet.hpp"
#include "support.hpp"

namespace m = hush::models;

namespace {

const std::filesystem::path reference = std::filesystem::path(HUSH_REFERENCE_DATA) / "denoisers.safetensors";

template <class Net>
std::vector<std::string> parameter_names(Net net, hush::shape in) {
  hush::model<Net, hush::backend::cpu> model({}, std::move(net));
  model.setup(in);
  std::vector<std::string> names;
  hush::for_each_parameter(model.net, [&](std::string_view n, hush::parameter&) { names.emplace_back(n); });
  return names;
}

/// Eval-mode y - x of `net` against PyTorch's, both from the formula's weights (×sqrt(6)).
template <class Net>
void check_correction(const std::string& name, Net net) {
  INFO(name);
  const auto ref = hush::io::read_safetensors(reference);
  const auto& in = ref.arrays.at(name + ".input");
  const hush::shape s{in.dims[0], in.dims[1], in.dims[2], in.dims[3]};
  hush::model<Net, hush::backend::cpu> model({}, std::move(net));
  model.setup(s);
  hush::test::fill_by_formula(model.net, static_cast<float>(std::sqrt(6.0)));
  hush::tensor x(s);
  hush::test::formula("input", x);
  for (auto& v : x.values()) v += 0.5f;
  REQUIRE(std::equal(in.values.begin(), in.values.end(), x.values().begin()));  // the same formula, bit for bit
  model.eval();
  const auto& y = model.forward(x);
  const auto& want = ref.arrays.at(name + ".correction").values;
  REQUIRE(static_cast<std::size_t>(y.numel()) == want.size());
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto k = std::int64_t(i);
    worst = std::max(worst, std::abs(double(y[k]) - double(x[k]) - want[i]));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  // A 1% change of the deepest stage's weights moves the correction by 1.6e-4 of its size
  // (tests/reference/denoisers.py); float rounding stays near 1e-6.
  CHECK_MESSAGE(worst < 2e-5 * scale, name << ": worst error " << worst << " against a correction of " << scale);
}

}  // namespace

TEST_CASE("the denoisers give PyTorch's outputs for the same weights (eval mode)") {
  check_correction("dncnn17", m::dncnn17({.channels = 1, .width = 16}));
  check_correction("residual_unet", m::residual_unet({.channels = 3, .width = 8}));
  check_correction("resnet18_unet", m::resnet18_unet{});
  check_correction("resnet50_unet", m::resnet50_unet{});
}

TEST_CASE("the denoisers' sizes and PyTorch names") {
  CHECK(m::dncnn17{}.parameter_count() == 558'403);  // bench/torch_denoisers.py's DnCNN(): 15 conv-bn blocks at 64, head, tail
  CHECK(m::residual_unet{}.parameter_count() == 16'786'947);  // bench/torch_denoisers.py's ResidualUNet()
  CHECK(m::resnet18_unet{}.parameter_count() == 14'328'931);
  CHECK(m::resnet50_unet{}.parameter_count() == 32'521'827);

  const auto dn = parameter_names(m::dncnn17{}, {1, 3, 8, 8});
  REQUIRE(dn.size() == 2 + 15 * 3 + 2);
  CHECK(dn[0] == "head.weight");
  CHECK(dn[2] == "body.0.conv.weight");
  CHECK(dn[3] == "body.0.bn.weight");
  CHECK(dn.back() == "tail.bias");

  const auto ru = parameter_names(m::residual_unet({.width = 8}), {1, 3, 32, 32});
  CHECK(ru.front() == "enc1.conv.weight");
  CHECK(ru[2] == "enc2.conv.weight");
  CHECK(std::count(ru.begin(), ru.end(), "dec5.bn.weight") == 1);
  CHECK(ru.back() == "out.bias");

  // The trunk carries torchvision's names, so an ImageNet state_dict finds its tensors.
  const auto rn = parameter_names(m::resnet18_unet{}, {1, 3, 32, 32});
  CHECK(rn.front() == "conv1.weight");
  CHECK(rn[1] == "bn1.weight");
  CHECK(std::count(rn.begin(), rn.end(), "layer4.1.bn2.bias") == 1);
  CHECK(std::count(rn.begin(), rn.end(), "layer2.0.downsample.0.weight") == 1);
  CHECK(std::count(rn.begin(), rn.end(), "decoder4.conv1.weight") == 1);
  CHECK(rn.back() == "out.bias");
}

TEST_CASE("sizes: DnCNN takes any, the U-Nets a multiple of 32 with a message") {
  hush::model<m::dncnn17, hush::backend::cpu> dn({}, m::dncnn17({.channels = 1, .width = 4}));
  dn.setup({1, 1, 13, 7});
  CHECK(dn.forward(hush::tensor({1, 1, 13, 7})).shape() == hush::shape{1, 1, 13, 7});
  hush::model<m::residual_unet, hush::backend::cpu> ru({}, m::residual_unet({.width = 4}));
  CHECK_THROWS_AS(ru.setup({1, 3, 48, 48}), hush::shape_error);
  hush::model<m::resnet18_unet, hush::backend::cpu> rn;
  CHECK_THROWS_AS(rn.setup({1, 3, 48, 48}), hush::shape_error);
}

namespace {
/// Every parameter and buffer of a host network, by name.
template <class Net>
std::map<std::string, std::vector<float>> tensors_of(Net& net) {
  std::map<std::string, std::vector<float>> out;
  const auto take = [&](std::string_view n, const hush::tensor& t) { out[std::string(n)].assign(t.values().begin(), t.values().end()); };
  hush::for_each_parameter(net, [&](std::string_view n, hush::parameter& p) { take(n, p.value.host()); });
  hush::for_each_buffer(net, [&](std::string_view n, hush::kept& k) { take(n, k.host()); });
  return out;
}
}  // namespace

TEST_CASE("a torchvision ResNet's weights load into the denoiser's trunk, the decoder kept") {
  const auto dir = std::filesystem::temp_directory_path() / "hush-test-trunk";
  std::filesystem::create_directories(dir);
  const auto file = dir / "resnet18.safetensors";
  hush::model<m::resnet18, hush::backend::cpu> classifier;
  classifier.setup({1, 3, 32, 32});
  hush::test::fill_by_formula(classifier.net);
  hush::save_weights(classifier.net, file);  // torchvision's names, fc included

  hush::model<m::resnet18_unet, hush::backend::cpu> denoiser;
  denoiser.setup({1, 3, 32, 32});
  const auto before = tensors_of(denoiser.net);
  // Strictly, the file lacks the decoder and has a classifier's fc: refused, nothing changed.
  CHECK_THROWS_WITH(hush::load_weights(denoiser.net, file), doctest::Contains("missing tensor 'decoder"));
  CHECK(tensors_of(denoiser.net) == before);

  const auto report = hush::load_weights(denoiser.net, file, {.strict = false, .check_structure = false, .partial = true});
  CHECK(report.loaded == std::int64_t(hush::io::read_safetensors(file).arrays.size()) - 2);  // all but fc
  CHECK(std::count(report.kept.begin(), report.kept.end(), "decoder0.conv1.weight") == 1);
  CHECK(std::count(report.kept.begin(), report.kept.end(), "out.bias") == 1);
  const auto trunk = tensors_of(classifier.net), after = tensors_of(denoiser.net);
  for (const char* n : {"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer4.1.conv2.weight",
                        "layer2.0.downsample.1.running_mean"})
    CHECK_MESSAGE(after.at(n) == trunk.at(n), n);
  for (const char* n : {"decoder4.conv1.weight", "decoder0.bn2.weight", "out.weight"}) CHECK_MESSAGE(after.at(n) == before.at(n), n);

  // A file with nothing for the network is an error even when partial.
  hush::model<m::dncnn17, hush::backend::cpu> other({}, m::dncnn17({.channels = 3, .width = 4}));
  other.setup({1, 3, 8, 8});
  CHECK_THROWS_WITH(hush::load_weights(other.net, file, {.strict = false, .check_structure = false, .partial = true}),
                    doctest::Contains("no tensor of the network is in the file"));
  std::filesystem::remove_all(dir);
}
