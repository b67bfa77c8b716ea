// hush-mae: the Masked Autoencoder of seed 000 (models/mae.hpp), pre-trained and looked at.
//
//   hush-mae train  --data fashion-mnist|photos [--dir DIR] --out OUT [options]
//       trains mae_small (28 x 28 Fashion-MNIST images in 4 x 4 patches, or 32 x 32 crops of the
//       photo folders of scripts/photos) through train/mae.hpp's fit_mae: OUT gets log.csv,
//       curves.png, checkpoint.safetensors, weights.safetensors (--resume continues), then
//       reconstruction.png (the MAE paper's figure rows on held-out images).
//   hush-mae eval   --weights W --data ... [--ratios 0,0.25,0.5,0.75,0.9] [--out TABLE.md]
//       the reconstruction of held-out images at each mask ratio: MSE and PSNR over the dropped
//       patches, PSNR of the whole image with the visible patches pasted back.
//   hush-mae figure --weights W --data ... --out F.png [--ratio R] [--count N]
//
// Held-out images: Fashion-MNIST's test images (the first --validation for validation, the
// next --test for eval and figures); for photos, 32 x 32 crops of the val folder (validation)
// and of the test folder (eval and figures), fixed by the seed. The training images are never
// among them.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "hush/backend/devices.hpp"
#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/data/photos.hpp"
#include "hush/hush.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/image_grid.hpp"
#include "hush/models/mae.hpp"
#include "hush/train/mae.hpp"

namespace fs = std::filesystem;

namespace {

struct data_args {
  std::string data = "fashion-mnist", dir;
  std::int64_t validation = 1000, test = 2000;
  std::uint64_t seed = 1;
};

struct train_args {
  data_args d;
  std::string out;
  int epochs = 10;
  std::int64_t steps = 200, batch = 64;
  float lr = 1e-3f, mask_ratio = 0.75f;
  bool norm_pix = false, resume = false;
  int stop_after = 0;
};

/// The held-out and training images of a data choice.
struct data_set {
  std::int64_t channels = 1, image = 28;
  hush::tensor validation, test;
  hush::tensor train_images;           // Fashion-MNIST: all of them, batches in a seeded order
  std::optional<hush::data::photos> train_photos;  // photos: crops per step
};

std::string default_dir(const std::string& data) {
  return data == "photos" ? "results/photos" : hush::data::default_fashion_mnist_dir;
}

/// `count` crops of `side` pixels from a folder of photos, keyed by `seed` (the same every time).
hush::tensor fixed_crops(const hush::data::photos& photos, std::int64_t count, std::int64_t side, std::uint64_t seed) {
  hush::tensor out({count, photos.channels(), side, side});
  photos.crops(out, 0, count, side, hush::counter_rng{seed ^ 0x686f6c64ULL}, 0, 0, false);
  return out;
}

data_set load(const data_args& a, bool with_training) {
  data_set s;
  const auto dir = a.dir.empty() ? default_dir(a.data) : a.dir;
  if (a.data == "fashion-mnist") {
    const auto test = hush::data::fashion_mnist(dir, "t10k");
    if (a.validation + a.test > test.size())
      throw hush::error("--validation " + std::to_string(a.validation) + " and --test " + std::to_string(a.test) +
                        " images: Fashion-MNIST has " + std::to_string(test.size()) + " test images");
    hush::data::slice(test.images, 0, a.validation, s.validation);
    hush::data::slice(test.images, a.validation, a.validation + a.test, s.test);
    if (with_training) s.train_images = hush::data::fashion_mnist(dir, "train").images;
    return s;
  }
  s.channels = 3, s.image = 32;
  for (const char* sub : {"val", "test"})
    if (!fs::is_directory(fs::path(dir) / sub))
      throw hush::io_error(dir + ": no " + sub + " folder (scripts/photos lays out train, val and test)");
  const auto val = hush::data::photos::from_folder(fs::path(dir) / "val", {.channels = 3});
  const auto test = hush::data::photos::from_folder(fs::path(dir) / "test", {.channels = 3});
  s.validation = fixed_crops(val, a.validation, s.image, a.seed);
  s.test = fixed_crops(test, a.test, s.image, a.seed + 1);
  if (with_training) s.train_photos = hush::data::photos::from_folder(fs::path(dir) / "train", {.channels = 3});
  return s;
}

hush::models::mae_options options_for(const data_set& s, float ratio) {
  return {.image = s.image, .patch = 4, .channels = s.channels, .mask_ratio = ratio};
}

/// A trained MAE's settings from its weights file.
struct trained {
  hush::models::mae_options opt;
  bool norm_pix = false;
  std::string data;
};
trained read_settings(const std::string& weights) {
  const auto file = hush::io::read_safetensors(weights);
  const auto get = [&](const std::string& key) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end())
      throw hush::io_error(weights + ": no '" + key + "' in its metadata (is it hush-mae's weights.safetensors?)");
    return it->second;
  };
  if (get("hush.network") != "mae_small") throw hush::io_error(weights + ": a " + get("hush.network") + ", not a mae_small");
  trained t;
  t.opt = {.image = std::stoll(get("hush.image")), .patch = std::stoll(get("hush.patch")), .channels = std::stoll(get("hush.channels"))};
  t.norm_pix = get("hush.norm_pix") == "yes";
  t.data = get("hush.data");
  return t;
}

std::vector<float> parse_ratios(const std::string& text) {
  std::vector<float> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    std::size_t used = 0;
    float v = -1;
    try {
      v = std::stof(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || !(v >= 0.0f && v < 1.0f)) throw hush::error("--ratios: '" + item + "' is not a ratio in [0, 1)");
    out.push_back(v);
  }
  if (out.empty()) throw hush::error("--ratios: no ratio given");
  return out;
}

template <class Backend>
int train(Backend backend, const train_args& a) {
  const auto s = load(a.d, true);
  hush::model<hush::models::mae_small, Backend> m({.seed = a.d.seed, .backend = backend},
                                                  hush::models::mae_small(options_for(s, a.mask_ratio)));
  hush::train::mae_training_options o;
  o.epochs = a.epochs, o.steps = a.steps, o.batch = a.batch, o.lr = a.lr, o.norm_pix = a.norm_pix, o.seed = a.d.seed;
  o.out = a.out, o.resume = a.resume, o.stop_after = a.stop_after;
  o.title = "mae (" + a.d.data + ")";
  o.metadata = {{"hush.network", "mae_small"}, {"hush.image", std::to_string(s.image)}, {"hush.patch", "4"},
                {"hush.channels", std::to_string(s.channels)}, {"hush.norm_pix", a.norm_pix ? "yes" : "no"},
                {"hush.data", a.d.data}};
  const hush::counter_rng rng{a.d.seed};
  std::vector<std::int64_t> order;
  int order_epoch = -1;
  const auto batches = [&](hush::tensor& batch, int epoch, std::int64_t step) {
    if (s.train_photos) {
      s.train_photos->crops(batch, 0, a.batch, s.image, rng, std::uint64_t(epoch), std::uint64_t(step * a.batch));
      return;
    }
    // Epoch e's steps walk through one seeded shuffle of the training images (wrapping around).
    const auto n = s.train_images.shape()[0];
    if (order_epoch != epoch) order = hush::data::shuffled_order(n, a.d.seed, std::uint64_t(epoch)), order_epoch = epoch;
    std::vector<std::int64_t> picks(static_cast<std::size_t>(a.batch));
    for (std::int64_t j = 0; j < a.batch; ++j) picks[std::size_t(j)] = order[std::size_t((step * a.batch + j) % n)];
    hush::data::gather(s.train_images, picks, 0, a.batch, batch);
  };
  const auto h = hush::train::fit_mae(m, batches, s.validation, o);
  hush::io::save_image_grid(fs::path(a.out) / "reconstruction.png",
                            hush::train::reconstruct(m, s.test, 8, a.mask_ratio, a.norm_pix));
  std::printf("hush-mae: %s (last validation PSNR over the dropped patches %.2f dB)\n", a.out.c_str(),
              h.epochs.empty() ? 0.0 : h.epochs.back().val_psnr);
  return 0;
}

template <class Backend, class Body>
int with_trained(Backend backend, const std::string& weights, data_args d, Body body) {
  const auto t = read_settings(weights);
  d.data = t.data;
  const auto s = load(d, false);
  hush::model<hush::models::mae_small, Backend> m({.seed = d.seed, .backend = backend}, hush::models::mae_small(t.opt));
  m.setup({1, t.opt.channels, t.opt.image, t.opt.image});
  hush::load_weights(m.net, weights);
  return body(m, s, t);
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"The Masked Autoencoder (seed 000): pre-train it, score its reconstructions, draw them"};
  app.require_subcommand(1);
  const auto data_options = [](CLI::App* c, data_args& d, bool choose) {
    if (choose) c->add_option("--data", d.data, "fashion-mnist or photos")->capture_default_str()->check(CLI::IsMember({"fashion-mnist", "photos"}));
    c->add_option("--dir", d.dir, "the data's folder (default: Debian's Fashion-MNIST, or results/photos)");
    c->add_option("--validation", d.validation, "held-out images scored each epoch")->capture_default_str()->check(CLI::PositiveNumber);
    c->add_option("--test", d.test, "held-out images for eval and figures")->capture_default_str()->check(CLI::PositiveNumber);
    c->add_option("--seed", d.seed, "seed of weights, batches, crops and masks")->capture_default_str();
  };
  train_args a;
  int threads = 0;
  auto* tr = app.add_subcommand("train", "pre-train mae_small");
  data_options(tr, a.d, true);
  tr->add_option("--out", a.out, "folder for the run")->required();
  tr->add_option("--epochs", a.epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--steps", a.steps, "steps per epoch")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--batch", a.batch, "images per step")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--lr", a.lr, "Adam's peak learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--mask-ratio", a.mask_ratio, "share of patches dropped")->capture_default_str()->check(CLI::Range(0.0f, 0.99f));
  tr->add_flag("--norm-pix", a.norm_pix, "predict each patch normalised by its own mean and spread (the MAE paper's option)");
  tr->add_flag("--resume", a.resume, "continue from OUT's checkpoint");
  tr->add_option("--stop-after", a.stop_after, "stop after this epoch, as an interrupted run would (0: run to the end)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();

  std::string weights, out, ratios = "0,0.25,0.5,0.75,0.9";
  float ratio = 0.75f;
  std::int64_t count = 8;
  data_args d;
  auto* ev = app.add_subcommand("eval", "score a trained MAE's reconstructions at several mask ratios");
  ev->add_option("--weights", weights, "hush-mae's weights.safetensors")->required();
  data_options(ev, d, false);
  ev->add_option("--ratios", ratios, "comma-separated mask ratios")->capture_default_str();
  ev->add_option("--out", out, "write the markdown table here (default: print it)");
  auto* fg = app.add_subcommand("figure", "draw original, masked, reconstruction, pasted for held-out images");
  fg->add_option("--weights", weights, "hush-mae's weights.safetensors")->required();
  data_options(fg, d, false);
  fg->add_option("--out", out, "the PNG to write")->required();
  fg->add_option("--ratio", ratio, "mask ratio")->capture_default_str()->check(CLI::Range(0.0f, 0.99f));
  fg->add_option("--count", count, "images")->capture_default_str()->check(CLI::Range(1, 64));
  for (auto* c : {ev, fg}) c->add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (threads > 0) hush::set_threads(threads);
  if (!out.empty()) hush::io::check_output_path(out);
  if (tr->parsed()) hush::io::check_output_folder(a.out, {"reconstruction.png"});
  const auto device = hush::choose_device();
  std::printf("%s\n", device.line().c_str());
  return hush::with_device(device, [&](auto backend) -> int {
    if (tr->parsed()) return train(backend, a);
    if (fg->parsed())
      return with_trained(backend, weights, d, [&](auto& m, const data_set& s, const trained& t) {
        hush::io::save_image_grid(out, hush::train::reconstruct(m, s.test, std::min(count, s.test.shape()[0]), ratio, t.norm_pix));
        std::printf("hush-mae: %s\n", out.c_str());
        return 0;
      });
    const auto list = parse_ratios(ratios);
    return with_trained(backend, weights, d, [&](auto& m, const data_set& s, const trained& t) {
      std::string table = "| mask ratio | MSE, dropped patches | PSNR, dropped patches (dB) | PSNR, whole image with visible pasted (dB) |\n"
                          "| --- | --- | --- | --- |\n";
      for (const float r : list) {
        const auto score = hush::train::evaluate_mae(m, s.test, r, 64, t.norm_pix);
        char row[160];
        std::snprintf(row, sizeof row, "| %.2f | %.5f | %.2f | %.2f |\n", double(r), score.mse, score.psnr, score.pasted_psnr);
        table += row;
      }
      char tail[160];
      std::snprintf(tail, sizeof tail, "\n%lld held-out %s; %s\n", static_cast<long long>(s.test.shape()[0]),
                    t.data == "photos" ? "32 x 32 crops of the test photos" : "Fashion-MNIST test images", weights.c_str());
      table += tail;
      if (out.empty()) std::printf("%s", table.c_str());
      else hush::io::write_file_atomically(out, table), std::printf("hush-mae: %s\n", out.c_str());
      return 0;
    });
  });
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-mae: %s\n", hush::explain(e).c_str());
  return 1;
}
