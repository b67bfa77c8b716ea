// hush-resgan: seed 002's study on Fashion-MNIST. One of five GANs learns to restore images
// brought down by a whole factor (x4: 7 x 7 pixels; x7: 4 x 4) to their 28 x 28 originals; its
// generator is then scored on the test images. Writes into OUT:
//   log.csv, curves.png, grids/epoch_NNN.png, checkpoint.safetensors, generator.safetensors,
//   discriminator.safetensors      the run (train/gan.hpp's fit_gan; resumes with --resume)
//   score.json                     the last epoch's losses, the embedded classifier's accuracy
//                                  (ResGAN), and on the test images PSNR/SSIM against the
//                                  originals and a classifier's accuracy, for the coarse input,
//                                  its bicubic enlargement and the restoration
// and `hush-resgan table` gathers runs' score.json files into seed 002's Table 1 (markdown).
//
//   build/bin/hush-resgan train --variant resgan --factor 7 --classifier W --out results/seed002/resgan-x7
//   build/bin/hush-resgan table --out results/seed002/table.md results/seed002/*/
//
// The variants (models/restoration_gans.hpp), as seed 002 names them:
//   gan     a fully connected generator and discriminator (the "shallow" GAN)
//   dcgan   DCGAN's convolutional generator and discriminator
//   wgan    the same networks, the critic's Wasserstein loss, 5 critic updates per generator
//           update, weights clipped to 0.01, Adam with beta1 = 0 (RMSProp-like, as WGAN's)
//   cgan    DCGAN's networks with the class given to both as 10 one-hot planes
//   resgan  the concatenation-residual generator f(g(X_r) + X_r) and a discriminator that also
//           classifies (1 + 10 outputs, trained on the real and the generated images' labels)
// Every generator sees the coarse image enlarged (nearest) to 28 x 28 and is trained on an L1
// content term beside the adversarial one (weights 1 and 0.01, pix2pix's ratio): the seed gives
// neither losses' weights nor layer sizes; docs/results.md says how this departs from it.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hush/backend/devices.hpp"
#include "hush/data/idx.hpp"
#include "hush/distributed/launch.hpp"
#include "hush/hush.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/image_grid.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/restoration_gans.hpp"
#include "hush/noise/spec.hpp"
#include "hush/train/classifier.hpp"  // test_accuracy
#include "hush/train/gan.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t classes = 10, side = 28;

struct train_args {
  std::string variant = "resgan", data_dir = hush::data::default_fashion_mnist_dir, out, classifier;
  std::int64_t factor = 7, batch = 64, width = 32, validation = 5000, test_limit = 0;
  int epochs = 4;
  std::int64_t steps = 500;
  float lr = 2e-4f, content_weight = 1.0f, adversarial_weight = 0.01f;
  std::uint64_t seed = 1;
  bool resume = false;
  hush::distributed::communicator* comm = nullptr;  // mpirun -np N: N processes share each batch
  double bucket_mb = 4;
};

/// One-hot rows (N, 10) of class labels.
hush::tensor one_hot(const hush::index_tensor& labels) {
  hush::tensor out({labels.numel(), classes});
  for (std::int64_t i = 0; i < labels.numel(); ++i) out[i * classes + labels[i]] = 1.0f;
  return out;
}

/// What each image of a set looks like coarse: low_res at the factor, nearest (the generators'
/// input) or bicubic (the classic enlargement, a baseline).
hush::tensor coarse(const hush::tensor& images, std::int64_t factor, const char* upsampling) {
  hush::tensor out;
  const auto spec = hush::noise::parse_spec("low_res(factor=" + std::to_string(factor) + ", upsampling=" + upsampling + ")");
  hush::noise::apply_to_batch(hush::backend::cpu{}, spec, hush::counter_rng{0}, images, out);
  return out;
}

/// A generator's input for a batch: the coarse images, and for the conditional GAN the class planes.
hush::tensor generator_input(const hush::tensor& coarse_images, const hush::index_tensor& labels, bool conditional) {
  if (!conditional) return coarse_images;
  hush::tensor joined;
  hush::train::detail::join_condition(hush::backend::cpu{}, coarse_images, one_hot(labels), joined);
  return joined;
}

struct quality {
  double psnr = 0, ssim = 0, accuracy = std::numeric_limits<double>::quiet_NaN();
};

/// Mean per-image PSNR and SSIM of `images` against `originals`, and a classifier's accuracy on them.
template <class Classify>
quality score(const hush::tensor& originals, const hush::tensor& images, const hush::index_tensor& labels, Classify classify) {
  quality q;
  const auto n = originals.shape()[0], plane = side * side;
  for (std::int64_t i = 0; i < n; ++i) {
    const hush::tensor a({1, side, side}, std::vector<float>(originals.values().begin() + i * plane,
                                                             originals.values().begin() + (i + 1) * plane));
    const hush::tensor b({1, side, side}, std::vector<float>(images.values().begin() + i * plane,
                                                             images.values().begin() + (i + 1) * plane));
    q.psnr += std::min(hush::metrics::psnr(a, b), 100.0), q.ssim += hush::metrics::ssim(a, b);
  }
  q.psnr /= double(n), q.ssim /= double(n);
  if (auto accuracy = classify(images, labels)) q.accuracy = *accuracy;
  return q;
}

nlohmann::json to_json(const quality& q) {
  nlohmann::json j{{"psnr", q.psnr}, {"ssim", q.ssim}};
  j["accuracy"] = std::isnan(q.accuracy) ? nlohmann::json(nullptr) : nlohmann::json(q.accuracy);
  return j;
}

template <class Backend>
int train(Backend backend, const train_args& a) {
  using namespace hush::models;
  const auto all = hush::data::fashion_mnist(a.data_dir, "train");
  if (a.validation < 10 || a.validation >= all.size())
    throw hush::error("--validation " + std::to_string(a.validation) + ": expected 10 to " + std::to_string(all.size() - 1) + " images");
  const auto train_set = all.slice(0, all.size() - a.validation), val_set = all.slice(all.size() - a.validation, all.size());
  auto test_set = hush::data::fashion_mnist(a.data_dir, "t10k");
  if (a.test_limit > 0 && a.test_limit < test_set.size()) test_set = test_set.slice(0, a.test_limit);
  const bool conditional = a.variant == "cgan", classifier_in_d = a.variant == "resgan";
  const auto train_coarse = coarse(train_set.images, a.factor, "nearest");
  const auto val_coarse = coarse(val_set.images, a.factor, "nearest");
  const auto val_input = generator_input(val_coarse, val_set.labels, conditional);

  hush::train::gan_options o;
  o.epochs = a.epochs, o.steps = a.steps, o.seed = a.seed, o.out = a.out, o.resume = a.resume;
  o.title = a.variant + " x" + std::to_string(a.factor);
  o.comm = a.comm, o.bucket_bytes = static_cast<std::size_t>(a.bucket_mb * 1024 * 1024);
  o.content_weight = a.content_weight, o.adversarial_weight = a.adversarial_weight;
  o.generator = {.lr = a.lr, .beta1 = 0.5f};
  o.discriminator = {.lr = a.lr, .beta1 = 0.5f};
  o.update = hush::train::critic_update::joint;
  if (a.variant == "wgan") {
    o.adversarial = hush::train::adversarial_kind::wasserstein;
    o.critic_steps = 5, o.clip = 0.01f;
    o.discriminator = {.lr = 5e-5f, .beta1 = 0.0f, .beta2 = 0.9f};
  }
  if (classifier_in_d) o.classes = classes;
  o.metadata = {{"hush.gan", a.variant}, {"hush.factor", std::to_string(a.factor)}};
  o.data = "Fashion-MNIST, " + std::to_string(train_set.size()) + " training images at x" + std::to_string(a.factor) +
           ", batch " + std::to_string(a.batch);

  const auto run = [&](auto g_net, auto d_net) {
    using G = decltype(g_net);
    using D = decltype(d_net);
    hush::model<G, Backend> g({.seed = a.seed, .backend = backend}, std::move(g_net));
    hush::model<D, Backend> d({.seed = a.seed + 1, .backend = backend}, std::move(d_net));
    const hush::counter_rng rng{a.seed};
    hush::train::gan_data<G, Backend> data;
    const auto n = train_set.size();
    // Batch k: images drawn uniformly (with replacement) by the key k alone.
    const auto pick = [&, n](std::uint64_t k, std::int64_t j) {
      return std::min<std::int64_t>(n - 1, std::int64_t(rng.uniform(k, std::uint64_t(j)) * float(n)));
    };
    const std::int64_t plane = side * side;
    data.batch = [&, plane](std::uint64_t k, hush::tensor& input, hush::tensor& real) {
      hush::tensor low({a.batch, 1, side, side});
      hush::index_tensor labels({a.batch});
      real.resize({a.batch, 1, side, side});
      for (std::int64_t j = 0; j < a.batch; ++j) {
        const auto i = pick(k, j);
        std::copy_n(train_set.images.data() + i * plane, plane, real.data() + j * plane);
        std::copy_n(train_coarse.data() + i * plane, plane, low.data() + j * plane);
        labels[j] = train_set.labels[i];
      }
      input = generator_input(low, labels, conditional);
    };
    const auto batch_labels = [&](std::uint64_t k, hush::index_tensor& labels) {
      labels.resize({a.batch});
      for (std::int64_t j = 0; j < a.batch; ++j) labels[j] = train_set.labels[pick(k, j)];
    };
    if (conditional) data.condition = [&](std::uint64_t k, hush::tensor& c) {
        hush::index_tensor l;
        batch_labels(k, l);
        c = one_hot(l);
      };
    if (classifier_in_d) data.labels = batch_labels;
    {  // the grid: the first validation image of every class
      std::vector<std::int64_t> first(classes, -1);
      for (std::int64_t i = 0; i < val_set.size(); ++i)
        if (auto& f = first[std::size_t(val_set.labels[i])]; f < 0) f = i;
      std::vector<std::int64_t> shown;
      for (auto f : first)
        if (f >= 0) shown.push_back(f);
      const auto m = std::int64_t(shown.size()), ch = val_input.shape()[1];
      data.grid_input.resize({m, ch, side, side}), data.grid_real.resize({m, 1, side, side});
      for (std::int64_t r = 0; r < m; ++r) {
        const auto i = shown[std::size_t(r)];
        std::copy_n(val_input.data() + i * ch * plane, ch * plane, data.grid_input.data() + r * ch * plane);
        std::copy_n(val_set.images.data() + i * plane, plane, data.grid_real.data() + r * plane);
      }
    }
    // The generator's restorations of `input`, clamped to [0, 1], 500 at a time.
    const auto restore = [&](hush::model<G, Backend>& m, const hush::tensor& input) {
      m.eval();
      const auto total = input.shape()[0];
      hush::tensor out({total, 1, side, side}), x;
      for (std::int64_t b = 0; b < total; b += 500) {
        const auto e = std::min(b + 500, total);
        hush::data::slice(input, b, e, x);
        const auto y = hush::to_host(m.forward(hush::to(backend, x)));
        std::transform(y.values().begin(), y.values().end(), out.values().begin() + b * plane,
                       [](float v) { return std::clamp(v, 0.0f, 1.0f); });
      }
      m.train();
      return out;
    };
    data.validate = [&](hush::model<G, Backend>& m) -> std::array<double, 2> {
      const auto q = score(val_set.images, restore(m, val_input), val_set.labels,
                           [](const hush::tensor&, const hush::index_tensor&) { return std::optional<double>{}; });
      return {q.psnr, q.ssim};
    };
    // The classifier (hush-robustness's ResNet-20) that scores the test images: a bad file stops
    // the run before it trains.
    std::optional<hush::model<resnet20, Backend>> net;
    if (!a.classifier.empty()) {
      net.emplace(typename hush::model<resnet20, Backend>::options{.seed = 0, .backend = backend},
                  resnet20({.channels = 1, .classes = classes}));
      net->setup({500, 1, side, side});
      hush::load_weights(net->net, a.classifier);
      net->eval();
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto h = hush::train::fit_gan(g, d, data, o, hush::l1_loss{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (a.comm && !a.comm->is_root()) return 0;  // process 0 scores the generator (the same on every process) and writes

    // The classifier's accuracy (%) on images with the test labels: the classifier trainer's own count.
    const auto classify = [&](const hush::tensor& images, const hush::index_tensor& labels) -> std::optional<double> {
      if (!net) return std::nullopt;
      hush::tensor x;
      hush::index_tensor y;
      return hush::train::detail::test_accuracy(*net, {images, labels}, 0, 500, x, y);
    };
    const auto test_low = coarse(test_set.images, a.factor, "nearest");
    const auto restored = restore(g, generator_input(test_low, test_set.labels, conditional));
    // The figure's images: the first test image of every class, coarse, restored and original.
    nlohmann::json shown{{"input", nlohmann::json::array()}, {"restored", nlohmann::json::array()}, {"real", nlohmann::json::array()}};
    for (std::int64_t c = 0; c < classes; ++c)
      for (std::int64_t i = 0; i < test_set.size(); ++i)
        if (test_set.labels[i] == c) {
          for (const auto& [key, from] : {std::pair{"input", &test_low}, {"restored", &restored}, {"real", &test_set.images}})
            for (std::int64_t p = 0; p < plane; ++p) shown[key].push_back(from->data()[i * plane + p]);
          break;
        }
    const auto& last = h.epochs.back();
    nlohmann::json j{{"variant", a.variant},
                     {"factor", a.factor},
                     {"generator", G::kind},
                     {"discriminator", D::kind},
                     {"steps", std::int64_t(h.epochs.size()) * a.steps},
                     {"batch", a.batch},
                     {"seed", a.seed},
                     {"adversarial_weight", a.adversarial_weight},
                     {"d_loss", last.d_real + last.d_fake},
                     {"g_adversarial", last.g_adversarial},
                     {"g_content", last.g_content},
                     {"embedded_accuracy", classifier_in_d ? nlohmann::json(100.0 * last.class_accuracy) : nlohmann::json(nullptr)},
                     {"seconds", seconds},
                     {"test_images", test_set.size()},
                     {"classifier", a.classifier},
                     {"grid", shown}};
    if (classifier_in_d) {  // the embedded classifier on the test images, real and restored
      const auto embedded = [&](const hush::tensor& images) {
        d.eval();
        std::int64_t hits = 0;
        hush::tensor x;
        for (std::int64_t b = 0; b < images.shape()[0]; b += 500) {
          const auto e = std::min<std::int64_t>(b + 500, images.shape()[0]);
          hush::data::slice(images, b, e, x);
          const auto scores = hush::to_host(d.forward(hush::to(backend, x)));  // (n, 1 + classes)
          for (std::int64_t i = 0; i < e - b; ++i) {
            const float* row = scores.data() + i * (1 + classes) + 1;
            hits += std::int64_t(std::max_element(row, row + classes) - row) == test_set.labels[b + i];
          }
        }
        d.train();
        return 100.0 * double(hits) / double(images.shape()[0]);
      };
      j["embedded_test_accuracy"] = {{"original", embedded(test_set.images)}, {"restored", embedded(restored)}};
    }
    for (const auto& e : h.epochs) j["train_seconds"] = j.value("train_seconds", 0.0) + e.train_seconds;
    j["original"] = to_json(score(test_set.images, test_set.images, test_set.labels, classify));
    j["nearest"] = to_json(score(test_set.images, test_low, test_set.labels, classify));
    j["bicubic"] = to_json(score(test_set.images, coarse(test_set.images, a.factor, "bicubic"), test_set.labels, classify));
    j["restored"] = to_json(score(test_set.images, restored, test_set.labels, classify));
    hush::io::write_file_atomically(fs::path(a.out) / "score.json", j.dump(2) + "\n");
    std::printf("%s: test PSNR %.2f dB, SSIM %.4f (nearest %.2f / %.4f)%s; %s\n", o.title.c_str(), j["restored"]["psnr"].get<double>(),
                j["restored"]["ssim"].get<double>(), j["nearest"]["psnr"].get<double>(), j["nearest"]["ssim"].get<double>(),
                net ? (", classifier " + std::to_string(j["restored"]["accuracy"].get<double>()) + "%").c_str() : "",
                (fs::path(a.out) / "score.json").c_str());
    return 0;
  };
  const mlp_generator_options mlp{.in_channels = 1, .out_channels = 1, .size = side, .hidden = 512};
  const small_discriminator_options disc{.channels = 1, .size = side, .width = a.width, .outputs = 1};
  if (a.variant == "gan") return run(mlp_generator(mlp), mlp_discriminator(disc));
  if (a.variant == "dcgan" || a.variant == "wgan")
    return run(conv_generator({.in_channels = 1, .out_channels = 1, .width = a.width}), small_discriminator(disc));
  if (a.variant == "cgan") {
    auto dc = disc;
    dc.channels = 1 + classes;
    return run(conv_generator({.in_channels = 1 + classes, .out_channels = 1, .width = a.width}), small_discriminator(dc));
  }
  auto dc = disc;
  dc.outputs = 1 + classes;
  return run(resgan_generator({.channels = 1, .width = a.width}), small_discriminator(dc));
}

/// A score file's figure images under `key` as a batch (N, 1, 28, 28).
hush::tensor grid_row(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = j.at("grid").at(key);
  if (v.empty() || v.size() % std::size_t(side * side) != 0)
    throw hush::io_error(where + ": its grid '" + key + "' holds " + std::to_string(v.size()) + " values, not a whole number of images");
  return hush::tensor({std::int64_t(v.size()) / (side * side), 1, side, side}, v.get<std::vector<float>>());
}

/// seed 002's Table 1 and the restorations' quality, from runs' score.json files; with `grid`,
/// a figure of every run's restorations of the same test images, grouped by factor.
int table(const std::vector<std::string>& runs, const std::string& out, const std::string& grid) {
  std::vector<std::pair<std::int64_t, std::vector<std::pair<std::string, hush::tensor>>>> figure;  // per factor, its rows
  std::string md =
      "| variant | factor | steps | D loss | G adversarial | G content (L1) | embedded classifier: originals / restored | "
      "test PSNR (dB) | test SSIM | "
      "ResNet-20 on restored | training |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  std::string inputs;
  for (const auto& r : runs) {
    const auto path = fs::path(r) / "score.json";
    std::ifstream in(path);
    if (!in) throw hush::io_error(path.string() + ": cannot read it (is the run finished?)");
    nlohmann::json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      throw hush::io_error(path.string() + ": not a score file: " + e.what());
    }
    const auto accuracy = [](const nlohmann::json& v) {
      if (v.is_null()) return std::string("—");
      char c[32];
      std::snprintf(c, sizeof c, "%.2f%%", v.get<double>());
      return std::string(c);
    };
    const auto embedded = j.contains("embedded_test_accuracy")
                              ? accuracy(j["embedded_test_accuracy"].at("original")) + " / " +
                                    accuracy(j["embedded_test_accuracy"].at("restored"))
                              : std::string("—");
    char row[512];
    auto variant = j.at("variant").get<std::string>();
    if (j.value("adversarial_weight", 1.0) == 0.0) variant += ", no adversarial term";
    std::snprintf(row, sizeof row, "| %s | x%lld | %lld | %.3f | %.3f | %.4f | %s | %.2f | %.4f | %s | %.0f s |\n",
                  variant.c_str(), static_cast<long long>(j.at("factor").get<std::int64_t>()),
                  static_cast<long long>(j.at("steps").get<std::int64_t>()), j.at("d_loss").get<double>(),
                  j.at("g_adversarial").get<double>(), j.at("g_content").get<double>(),
                  embedded.c_str(), j.at("restored").at("psnr").get<double>(),
                  j.at("restored").at("ssim").get<double>(), accuracy(j.at("restored").at("accuracy")).c_str(),
                  j.at("seconds").get<double>());
    md += row;
    char base[512];  // the same test images without a GAN, once per factor
    std::snprintf(base, sizeof base, "| x%lld | %.2f / %.4f / %s | %.2f / %.4f / %s | %s |\n",
                  static_cast<long long>(j.at("factor").get<std::int64_t>()), j.at("nearest").at("psnr").get<double>(),
                  j.at("nearest").at("ssim").get<double>(), accuracy(j.at("nearest").at("accuracy")).c_str(),
                  j.at("bicubic").at("psnr").get<double>(), j.at("bicubic").at("ssim").get<double>(),
                  accuracy(j.at("bicubic").at("accuracy")).c_str(), accuracy(j.at("original").at("accuracy")).c_str());
    if (inputs.find(base) == std::string::npos) inputs += base;
    if (!grid.empty()) {
      const auto factor = j.at("factor").get<std::int64_t>();
      auto at = std::find_if(figure.begin(), figure.end(), [&](const auto& f) { return f.first == factor; });
      if (at == figure.end()) {
        figure.push_back({factor, {{"x" + std::to_string(factor) + " coarse", grid_row(j, "input", path.string())},
                                   {"original", grid_row(j, "real", path.string())}}});
        at = figure.end() - 1;
      }
      const auto label = j.at("variant").get<std::string>() + (j.value("adversarial_weight", 1.0) == 0.0 ? " (L1)" : "");
      at->second.insert(at->second.end() - 1, {label, grid_row(j, "restored", path.string())});
    }
  }
  if (!grid.empty()) {
    std::vector<std::pair<std::string, hush::tensor>> rows;
    for (auto& [factor, part] : figure)
      for (auto& row : part) rows.push_back(std::move(row));
    hush::io::save_image_grid(grid, rows, 56);
    std::printf("figure: %s\n", grid.c_str());
  }
  md += "\nWithout a GAN (PSNR / SSIM / ResNet-20 accuracy on the same test images):\n\n"
        "| factor | coarse, nearest | coarse, bicubic | originals |\n| --- | ---: | ---: | ---: |\n" + inputs;
  if (out.empty()) {
    std::fputs(md.c_str(), stdout);
  } else {
    hush::io::write_file_atomically(out, md);
    std::printf("table: %s\n", out.c_str());
  }
  return 0;
}

}  // namespace

int run(int argc, char** argv, hush::distributed::communicator* world) {
  CLI::App app{"Seed 002's study: GAN, DCGAN, WGAN, CGAN and ResGAN restoring coarse Fashion-MNIST images"};
  app.require_subcommand(1);
  train_args a;
  int threads = 0;
  auto* tr = app.add_subcommand("train", "train one variant at one factor, then score it on the test images");
  tr->add_option("--variant", a.variant, "gan, dcgan, wgan, cgan or resgan")
      ->capture_default_str()
      ->check(CLI::IsMember({"gan", "dcgan", "wgan", "cgan", "resgan"}));
  tr->add_option("--factor", a.factor, "how much coarser the input is (28 pixels / factor, rounded up)")
      ->capture_default_str()
      ->check(CLI::Range(2, 14));
  tr->add_option("--out", a.out, "folder for the run and its score.json")->required();
  tr->add_option("--classifier", a.classifier,
                 "a ResNet-20 trained on Fashion-MNIST (hush-robustness's model.safetensors): its accuracy on the restorations");
  tr->add_option("--epochs", a.epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--steps", a.steps, "generator updates per epoch")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--batch", a.batch, "images per batch")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--width", a.width, "the convolutional networks' channels (the discriminators' hidden size / 8)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tr->add_option("--lr", a.lr, "both networks' Adam learning rate (WGAN's critic: 5e-5)")->capture_default_str();
  tr->add_option("--content-weight", a.content_weight, "the L1 content term's weight")->capture_default_str();
  tr->add_option("--adversarial-weight", a.adversarial_weight, "the adversarial term's weight")->capture_default_str();
  tr->add_option("--validation", a.validation, "the last N training images are held out, scored each epoch")->capture_default_str();
  tr->add_option("--test-limit", a.test_limit, "score on the first N test images (0: all 10,000)")->capture_default_str();
  tr->add_option("--data", a.data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  tr->add_option("--seed", a.seed, "seed of weights, batches and order")->capture_default_str();
  tr->add_flag("--resume", a.resume, "continue from OUT's checkpoint");
  tr->add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();
  tr->add_option("--bucket-mb", a.bucket_mb,
                 "under mpirun: gradients summed in buckets of this many MB while backward runs (0: in one, after it)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1024.0));
  std::vector<std::string> runs;
  std::string table_out, grid_out;
  auto* tb = app.add_subcommand("table", "seed 002's Table 1 from finished runs' score.json");
  tb->add_option("--grid", grid_out, "also draw every run's restorations of the same test images here (PNG)");
  tb->add_option("runs", runs, "run folders")->required();
  tb->add_option("--out", table_out, "write the markdown table here (default: print it)");
  CLI11_PARSE(app, argc, argv);

  if (world && world->size() > 1 && !tr->parsed()) throw hush::error("only 'hush-resgan train' runs as several processes (mpirun)");
  if (tb->parsed()) return table(runs, table_out, grid_out);
  a.comm = world;
  for (const auto& [name, v] : {std::pair{"--lr", a.lr}, {"--content-weight", a.content_weight}, {"--adversarial-weight", a.adversarial_weight}})
    if (!(std::isfinite(v) && v >= 0)) throw hush::error(std::string(name) + " must be a finite number >= 0");
  if (threads > 0) hush::set_threads(threads);
  hush::io::check_output_folder(a.out, {"score.json"});
  const auto device = hush::choose_device();
  std::printf("%s\n", device.line().c_str());
  return hush::with_device(device, [&](auto backend) { return train(backend, a); });
}

// `mpirun -np N hush-resgan train ...`: N processes share each batch (docs/distributed.md).
int main(int argc, char** argv) { return hush::distributed::launched_main(argc, argv, "hush-resgan", run); }
