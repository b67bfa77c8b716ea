// hush-infer: runs a ResNet, a VGG or a ViT-B/16 from a safetensors state_dict (torchvision's
// names) on a tensor file or on images.
//   hush-infer --model resnet50 --weights resnet50.safetensors --input x.safetensors --output y.safetensors
//   hush-infer --model vgg16 --weights vgg16.safetensors --image cat.jpg dog.png
//   hush-infer --model resnet50 --weights resnet50.safetensors --bf16 --image *.jpg --output logits.safetensors
//   hush-infer --model vit_b_16 --weights vit_b_16.safetensors --image cat.jpg     (224 x 224 input only)
// Input channels and classes are read from the weights (the first convolution's and the last
// linear layer's). scripts/torchvision_weights.py writes torchvision's models in this form.
// --image prints the top 5 classes by name: --classes FILE, else the names the weights carry
// (hush-robustness and hush-front-ends store Fashion-MNIST's or their folders'), else
// ImageNet's for 1000 classes (share/imagenet_classes.txt, from torchvision); else indices. Images
// are prepared as the weights' card says the model was trained (data/model_card.hpp: its side,
// pixels in [0, 1]), else with torchvision's evaluation transform.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "hush/backend/devices.hpp"
#include "hush/data/model_card.hpp"
#include "hush/hush.hpp"
#include "hush/io/opencv.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/vgg.hpp"
#include "hush/models/vit.hpp"

namespace {

namespace m = hush::models;

/// torchvision's evaluation transform: resize the shorter side to `resize`, centre crop `crop`,
/// scale to [0, 1], normalise with ImageNet's mean and standard deviation (unless `imagenet` is
/// off: a hush-trained model's card says it saw pixels in [0, 1]).
hush::tensor preprocess(const std::string& path, int resize, int crop, std::int64_t channels, std::int64_t max_pixels,
                        bool imagenet = true) {
  cv::Mat image = hush::io::read_image(path, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR, max_pixels);
  const double scale = double(resize) / std::min(image.rows, image.cols);
  cv::resize(image, image, cv::Size(std::max(crop, int(std::lround(image.cols * scale))), std::max(crop, int(std::lround(image.rows * scale)))),
             0, 0, cv::INTER_LINEAR);
  image = image(cv::Rect((image.cols - crop) / 2, (image.rows - crop) / 2, crop, crop)).clone();
  auto t = hush::io::to_tensor(image);
  if (!imagenet) return t;
  const float mean[] = {0.485f, 0.456f, 0.406f}, stdev[] = {0.229f, 0.224f, 0.225f};
  const auto plane = std::int64_t(crop) * crop;
  for (std::int64_t c = 0; c < t.shape()[0]; ++c)
    for (std::int64_t i = 0; i < plane; ++i) t[c * plane + i] = (t[c * plane + i] - mean[c % 3]) / stdev[c % 3];
  return t;
}

/// What the weights say about the network: its input channels and classes.
struct io_sizes {
  std::int64_t channels, classes;
};

/// The names of the classes, by label: --classes FILE, else the weights' own ("hush.class_names":
/// hush's trainers write them), else ImageNet's for a 1000-class network; none: print indices.
std::vector<std::string> class_names(const std::string& file, const hush::io::safetensors_file& weights,
                                     const std::string& weights_path, std::int64_t classes, const char* argv0) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  std::string from;
  if (!file.empty()) {
    names = hush::data::read_class_names(file), from = file;
  } else if (const auto it = weights.metadata.find(hush::data::class_names_key); it != weights.metadata.end()) {
    names = hush::data::split_class_names(it->second, weights_path + "'s " + hush::data::class_names_key);
    from = weights_path;
  } else if (classes == 1000) {
    const fs::path rel = "imagenet_classes.txt";
    std::error_code ec;
    const auto exe = fs::canonical("/proc/self/exe", ec);
    fs::path path = (ec ? fs::path(argv0) : exe).parent_path().parent_path() / "share" / "hush" / rel;  // installed
    if (!fs::exists(path)) path = fs::path(HUSH_SOURCE_SHARE) / rel;                                    // the build tree
    if (!fs::exists(path)) return {};
    names = hush::data::read_class_names(path), from = path.string();
  }
  if (!names.empty() && std::int64_t(names.size()) != classes)
    throw hush::io_error(from + ": " + std::to_string(names.size()) + " class names for a network of " +
                         std::to_string(classes) + " classes");
  return names;
}

template <class Net, class Backend>
int run(Backend backend, const std::string& weights_path, Net net, io_sizes opt, const std::string& input,
        const std::string& output, const std::vector<std::string>& images, bool cifar, std::int64_t max_pixels,
        const std::vector<std::string>& names, const std::optional<hush::data::trained_input>& card) {
  hush::model<Net, Backend> model({.backend = backend}, std::move(net));
  hush::tensor x;
  if (!input.empty()) {
    const auto file = hush::io::read_safetensors(input);
    if (file.arrays.size() != 1)
      throw hush::io_error(input + ": expected exactly one tensor, found " + std::to_string(file.arrays.size()));
    const auto& a = file.arrays.begin()->second;
    if (a.dims.size() != 4 || a.dims[1] != opt.channels || a.numel() == 0)
      throw hush::io_error(input + ": tensor '" + file.arrays.begin()->first + "' must be (N, " +
                           std::to_string(opt.channels) + ", H, W) float32, none of them 0");
    x = hush::tensor({a.dims[0], a.dims[1], a.dims[2], a.dims[3]}, a.values);
    model.setup(x.shape());
    hush::load_weights(model.net, weights_path);
  } else {
    // As the model was trained: its card's side and [0, 1] pixels, else torchvision's transform.
    const int crop = card ? int(card->side) : cifar ? 32 : 224, resize = card ? crop : cifar ? 32 : 256;
    model.setup({std::int64_t(images.size()), opt.channels, crop, crop});
    hush::load_weights(model.net, weights_path);  // the weights are checked before any image is read
    x.resize(model.input_shape());
    for (std::size_t i = 0; i < images.size(); ++i) {
      const auto t = preprocess(images[i], resize, crop, opt.channels, max_pixels, !card);
      std::copy(t.values().begin(), t.values().end(), x.data() + std::int64_t(i) * t.numel());
    }
  }
  model.infer();
  const auto& xb = hush::to(backend, x);  // where the model runs
  const hush::tensor& logits = hush::to_host(model.forward(xb));
  if (!output.empty()) {
    hush::io::safetensors_writer w;
    w.add("logits", {logits.shape()[0], logits.shape()[1]}, logits.data());
    w.write(output);
    std::printf("%s: logits %s\n", output.c_str(), logits.shape().str().c_str());
    return 0;
  }
  const auto k = logits.shape()[1];
  for (std::size_t i = 0; i < images.size(); ++i) {
    const float* z = logits.data() + std::int64_t(i) * k;
    const float top = *std::max_element(z, z + k);
    std::vector<double> p(static_cast<std::size_t>(k));
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) sum += p[std::size_t(j)] = std::exp(double(z[j]) - top);
    std::vector<std::int64_t> order(static_cast<std::size_t>(k));
    std::iota(order.begin(), order.end(), 0);
    const auto n = std::min<std::size_t>(5, order.size());
    std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(n), order.end(),
                      [&](auto a, auto b) { return p[std::size_t(a)] > p[std::size_t(b)]; });
    std::printf("%s:", images[i].c_str());
    for (std::size_t r = 0; r < n; ++r) {
      const auto c = std::size_t(order[r]);
      if (names.empty()) std::printf("  class %lld %.4f", static_cast<long long>(order[r]), p[c] / sum);
      else std::printf("  %s (%lld) %.4f", names[c].c_str(), static_cast<long long>(order[r]), p[c] / sum);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a ResNet or a VGG from PyTorch weights (safetensors, torchvision's names) on a tensor file or on images"};
  std::string name, weights_path, input, output;
  std::vector<std::string> images;
  app.add_option("--model", name, "resnet18, resnet34, resnet50, resnet20, resnet56, resnet110, vgg16, vgg19 or vit_b_16")
      ->required()
      ->check(CLI::IsMember({"resnet18", "resnet34", "resnet50", "resnet20", "resnet56", "resnet110", "vgg16", "vgg19", "vit_b_16"}));
  app.add_option("--weights", weights_path,
                 "the state_dict as safetensors; F32, F64, F16 and BF16 tensors are read (converted to float32 exactly, "
                 "F64 rounded)")
      ->required();
  auto* in = app.add_option("--input", input, "a safetensors file holding one NCHW tensor (any float dtype, as --weights)");
  auto* out = app.add_option("--output", output, "where to write the logits (tensor 'logits'; with --image, instead of printing)");
  auto* img = app.add_option("--image", images, "image files: prints each one's top-5 classes");
  std::int64_t max_pixels = hush::io::default_max_pixels;
  app.add_option("--max-pixels", max_pixels, "refuse images above this many pixels, read from the header before decoding")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bool bf16 = false;
  app.add_flag("--bf16", bf16, "convolutions in bf16 (CPUs with AVX-512-BF16 or AMX)");
  std::string classes_file;
  app.add_option("--classes", classes_file,
                 "class names, one per line, to print instead of the weights' own (hush's trainers store them) or "
                 "ImageNet's (1000 classes)");
  in->needs(out);
  in->excludes(img);
  CLI11_PARSE(app, argc, argv);
  if (input.empty() && images.empty()) {
    std::fprintf(stderr, "hush-infer: give --input and --output, or --image FILE...\n");
    return 2;
  }
  try {
    const auto choice = hush::choose_device();  // HUSH_DEVICE, or the best device found
    std::printf("%s\n", choice.line().c_str());
    if (!output.empty()) {  // before any work, and never over an input
      hush::io::check_output_path(output);
      hush::io::check_not_input(output, input);
      hush::io::check_not_input(output, weights_path);
      for (const auto& image : images) hush::io::check_not_input(output, image);
    }
    const auto weights = hush::io::read_safetensors(weights_path);
    const auto dim = [&](const char* tensor, std::size_t axis) {
      const auto it = weights.arrays.find(tensor);
      if (it == weights.arrays.end() || it->second.dims.size() <= axis)
        throw hush::io_error(weights_path + ": missing tensor '" + tensor + "' (is this a " + name + "?)");
      return it->second.dims[axis];
    };
    const bool vgg = name.rfind("vgg", 0) == 0, vit = name == "vit_b_16";
    const io_sizes opt{.channels = dim(vgg ? "features.0.weight" : vit ? "conv_proj.weight" : "conv1.weight", 1),
                       .classes = dim(vgg ? "classifier.6.weight" : vit ? "heads.head.weight" : "fc.weight", 0)};
    if (opt.channels < 1 || opt.channels > 64 || opt.classes < 1)
      throw hush::io_error(weights_path + ": the first convolution gives " + std::to_string(opt.channels) +
                           " input channels and the last layer " + std::to_string(opt.classes) + " classes: not a " + name +
                           "'s weights");
    const auto names = images.empty() ? std::vector<std::string>{} : class_names(classes_file, weights, weights_path, opt.classes, argv[0]);
    std::optional<hush::data::trained_input> card;
    if (const auto it = weights.metadata.find(hush::data::input_key); it != weights.metadata.end() && !images.empty()) {
      card = hush::data::trained_input::parse(it->second, weights_path);
      if (card->mean_subtracted)
        throw hush::io_error(weights_path + ": trained on images with the training set's per-pixel mean subtracted, "
                             "which the file does not hold: run it on tensors prepared the same way (--input)");
    }
    const m::resnet_options resnet{.channels = opt.channels, .classes = opt.classes};
    const m::vgg_options vgg_sizes{.channels = opt.channels, .classes = opt.classes};
    return hush::with_device(choice, [&](auto backend) {
      if (bf16) hush::use_bf16_inference(backend);
      const auto go = [&](auto net, bool cifar) {
        return run(backend, weights_path, std::move(net), opt, input, output, images, cifar, max_pixels, names, card);
      };
      if (name == "resnet18") return go(m::resnet18(resnet), false);
      if (name == "resnet34") return go(m::resnet34(resnet), false);
      if (name == "resnet50") return go(m::resnet50(resnet), false);
      if (name == "resnet20") return go(m::resnet20(resnet), true);
      if (name == "resnet56") return go(m::resnet56(resnet), true);
      if (name == "resnet110") return go(m::resnet110(resnet), true);
      if (name == "vgg16") return go(m::vgg16(vgg_sizes), false);
      if (vit) return go(m::vit_b_16({.channels = opt.channels, .classes = opt.classes}), false);
      return go(m::vgg19(vgg_sizes), false);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-infer: %s\n", hush::explain(e).c_str());
    return 1;
  }
}
