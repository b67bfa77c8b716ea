// hush-front-ends: seed 000's study. Does a denoising front end rescue a classifier on noisy
// pictures? A ResNet is trained on clean images and tested after every epoch on clean images and
// on seed 000's Gaussian + salt-and-pepper + Poisson mix, alone and behind two front ends: a GAN
// denoiser (ResGAN's generator against a small discriminator, trained on noisy -> clean pairs of
// the training images) and the MAE (mae_small, pre-trained on clean images). Each front end is
// used frozen (only the classifier learns) and fine-tuned end to end with it. Every arm trains
// under the recipe options; with none given, the fine-tuned MAE arm under AdamW (arm_recipe).
// The images are Fashion-MNIST (ResNet-20, held in memory), or with --folder the user's photos
// or faces (ResNet-50 by default): one sub-folder per class, or CACD2000's AGE_First_Last_NNNN.jpg
// naming with --cacd, decoded on loader threads as training asks for them; --test-folder holds
// the test images, labelled by the same class names. Writes
//   OUT/front_ends.md     the table (final accuracies, the front ends' PSNR on the noisy test set)
//   OUT/front_ends.png    test accuracy per epoch on clean and on noisy images, one line per arm
//                         (seed 000's Figures 7 and 8)
//   OUT/gan/, OUT/mae/    the front ends' training runs and weights (skipped with --gan/--mae)
//   OUT/<arm>/            log.csv, curves.png and checkpoint.safetensors of each classifier
// With --report it trains nothing: the table and figure are made from the arms already in OUT,
// each read from its checkpoint, so arms run separately (other sessions, other recipes) are
// compared in one figure.
//
//   build/bin/hush-front-ends --quick --out results/front_ends          # a few minutes
//   build/bin/hush-front-ends --full --mae results/mae/fmnist/weights.safetensors --out results/front_ends
//   build/bin/hush-front-ends --folder faces/train --test-folder faces/test --cacd --size 64 --out results/faces
//   build/bin/hush-front-ends --report --out results/front_ends
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hush/backend/devices.hpp"
#include "hush/data/image_folder.hpp"
#include "hush/data/labelled_source.hpp"
#include "hush/data/model_card.hpp"
#include "hush/hush.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/plot.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/models/front_end.hpp"
#include "hush/models/mae.hpp"
#include "hush/models/resnet.hpp"
#include "hush/models/restoration_gans.hpp"
#include "hush/noise/spec.hpp"
#include "hush/train/classifier.hpp"
#include "hush/train/gan.hpp"
#include "hush/train/mae.hpp"
#include "hush/train/regime.hpp"
#include "recipe_options.hpp"

namespace {

namespace fs = std::filesystem;
using gan_generator = hush::models::resgan_generator;
using gan_critic = hush::models::small_discriminator;
using mae_net = hush::models::mae_small;
using mae_front = hush::models::mae_reconstruction<mae_net>;

struct preset {
  std::int64_t limit, test_limit;
  int epochs;
  int gan_epochs;
  std::int64_t gan_steps;
  int mae_epochs;
  std::int64_t mae_steps;
};
const std::map<std::string, preset> presets{
    {"quick", {6000, 1000, 2, 2, 100, 2, 100}},
    {"full", {0, 0, 10, 10, 500, 10, 500}},  // seed 000's ten epochs, all of Fashion-MNIST
};

struct args {
  std::string preset = "quick", data_dir = hush::data::default_fashion_mnist_dir, out = "results/front_ends";
  std::string noise = "seed000", gan_weights, mae_weights, arms = "resnet,gan-frozen,gan-tuned,mae-frozen,mae-tuned";
  std::string folder, test_folder, model;  // model: resnet20 (Fashion-MNIST's default) or resnet50 (folders')
  int epochs = 0, front_epochs = 0, channels = 3, loader_threads = 1;
  std::int64_t limit = -1, test_limit = -1, batch = 128, front_steps = 0, size = 64;
  float mae_ratio = 0.75f;  // the frozen MAE's mask ratio (the tuned one sees every patch)
  std::uint64_t seed = 1;
  bool resume = false, cacd = false, skip_broken = false, report = false;
  hush::tools::recipe_args recipe;
};

/// The study's images: Fashion-MNIST in memory, or image folders whose training images are
/// decoded as a batch asks for them.
struct study_data {
  std::string name;  // what the table's notes call the images
  std::int64_t channels = 1, side = 28, classes = 10, train_size = 0;
  /// Clean training images `picks` into `images` (transformed for `epoch`); returns the indices
  /// loaded (fewer than picks only when a broken file was skipped).
  std::function<std::vector<std::int64_t>(const std::vector<std::int64_t>& picks, std::uint64_t epoch,
                                          hush::tensor& images)>
      clean;
  hush::tensor val_clean;  // the front ends' validation images: the training set's last (up to 500)
  hush::data::labelled_images test;
  std::vector<std::string> class_names;  // by label: into each arm's model.safetensors, for hush-infer
  /// The MAE's patch: an 8 x 8 grid of patches for sides of 32, 40, 48, ... pixels, else 4 x 4
  /// pixels (Fashion-MNIST: a 7 x 7 grid).
  std::int64_t patch() const { return side >= 32 && side % 8 == 0 ? side / 8 : 4; }
};

/// Per-image PSNR (capped at 100 dB) and SSIM of `images` (n, C, H, W) against `reference`,
/// summed over the n images.
std::array<double, 2> summed_quality(const hush::tensor& reference, const hush::tensor& images) {
  std::array<double, 2> sum{0, 0};
  const auto& s = reference.shape();
  const hush::shape one{s[1], s[2], s[3]};
  const auto plane = one.numel();
  for (std::int64_t i = 0; i < s[0]; ++i) {
    hush::tensor a(one), b(one);
    std::copy_n(reference.data() + i * plane, plane, a.data());
    std::copy_n(images.data() + i * plane, plane, b.data());
    sum[0] += std::min(hush::metrics::psnr(a, b), 100.0), sum[1] += hush::metrics::ssim(a, b);
  }
  return sum;
}

/// Mean per-image PSNR and SSIM of m's output (clamped to [0, 1]) for `noisy` against `clean`,
/// in eval mode.
template <class Net, class Backend>
std::array<double, 2> front_end_quality(hush::model<Net, Backend>& m, const hush::tensor& clean,
                                        const hush::tensor& noisy) {
  m.eval();
  std::array<double, 2> sum{0, 0};
  hush::tensor x, reference;
  const auto n = clean.shape()[0];
  for (std::int64_t b = 0; b < n; b += 250) {
    const auto e = std::min<std::int64_t>(b + 250, n);
    hush::data::slice(noisy, b, e, x);
    hush::data::slice(clean, b, e, reference);
    auto y = hush::to_host(m.forward(hush::to(m.ctx.backend, x)));
    for (auto& v : y.values()) v = std::clamp(v, 0.0f, 1.0f);
    const auto q = summed_quality(reference, y);
    sum[0] += q[0], sum[1] += q[1];
  }
  m.train();
  return {sum[0] / double(n), sum[1] / double(n)};
}

/// The GAN denoiser: noisy -> clean pairs of the training images, ResGAN's generator against a
/// small discriminator (BCE, Adam 2e-4 and beta1 0.5 for both, content L1 weight 1, adversarial
/// 0.01, as hush-resgan trains it).
template <class Backend>
void train_gan(Backend backend, const args& a, const preset& p, const study_data& images,
               const hush::noise::spec& noise, const hush::tensor& val_noisy, const fs::path& out) {
  const auto& val_clean = images.val_clean;
  hush::model<gan_generator, Backend> g({.seed = a.seed, .backend = backend},
                                        gan_generator({.channels = images.channels, .width = 32}));
  hush::model<gan_critic, Backend> d({.seed = a.seed + 1, .backend = backend},
                                     gan_critic({.channels = images.channels, .size = images.side, .width = 32}));
  hush::train::gan_options o;
  o.epochs = a.front_epochs > 0 ? a.front_epochs : p.gan_epochs;
  o.steps = a.front_steps > 0 ? a.front_steps : p.gan_steps;
  o.seed = a.seed;
  o.out = out, o.resume = a.resume;
  o.title = "gan denoiser";
  o.content_weight = 1.0f, o.adversarial_weight = 0.01f;
  o.generator = {.lr = 2e-4f, .beta1 = 0.5f};
  o.discriminator = {.lr = 2e-4f, .beta1 = 0.5f};
  o.update = hush::train::critic_update::joint;
  o.metadata = {{"hush.network", "resgan_generator"}, {"hush.noise", noise.describe()}};
  o.data = images.name + ", " + std::to_string(images.train_size) + " training images, noise " + noise.describe() +
           ", batch 64";
  const hush::counter_rng rng{a.seed};
  const auto n = images.train_size;
  hush::train::gan_data<gan_generator, Backend> data;
  data.batch = [&, n](std::uint64_t k, hush::tensor& input, hush::tensor& real) {
    std::vector<std::int64_t> picks(64);
    for (std::int64_t j = 0; j < 64; ++j)
      picks[std::size_t(j)] = std::min<std::int64_t>(n - 1, std::int64_t(rng.uniform(k, std::uint64_t(j)) * float(n)));
    const auto got = images.clean(picks, 0, real);
    input.resize(real.shape());
    hush::noise::apply_to_images(hush::backend::cpu{}, noise, rng, real, got, std::int64_t(got.size()), input, k + 1);
  };
  hush::data::slice(val_noisy, 0, 8, data.grid_input);
  hush::data::slice(val_clean, 0, 8, data.grid_real);
  data.validate = [&](hush::model<gan_generator, Backend>& m) -> std::array<double, 2> {
    return front_end_quality(m, val_clean, val_noisy);
  };
  hush::train::fit_gan(g, d, data, o, hush::l1_loss{});
}

/// The MAE, pre-trained on clean training images (mask ratio 0.75, hush-mae's recipe).
template <class Backend>
void train_mae(Backend backend, const args& a, const preset& p, const study_data& images, const fs::path& out) {
  const auto patch = images.patch();
  hush::model<mae_net, Backend> m({.seed = a.seed, .backend = backend},
                                  mae_net({.image = images.side, .patch = patch, .channels = images.channels}));
  hush::train::mae_training_options o;
  o.epochs = a.front_epochs > 0 ? a.front_epochs : p.mae_epochs;
  o.steps = a.front_steps > 0 ? a.front_steps : p.mae_steps;
  o.batch = 64, o.seed = a.seed, o.out = out, o.resume = a.resume;
  o.title = "mae";
  o.metadata = {{"hush.network", "mae_small"},
                {"hush.image", std::to_string(images.side)},
                {"hush.patch", std::to_string(patch)},
                {"hush.channels", std::to_string(images.channels)},
                {"hush.norm_pix", "no"},
                {"hush.data", images.name}};
  const auto n = images.train_size;
  const auto batches = [&, n](hush::tensor& batch, int epoch, std::int64_t step) {
    const auto order = hush::data::shuffled_order(n, a.seed, std::uint64_t(epoch));
    std::vector<std::int64_t> picks(64);
    for (std::int64_t j = 0; j < 64; ++j) picks[std::size_t(j)] = order[std::size_t((step * 64 + j) % n)];
    images.clean(picks, std::uint64_t(epoch), batch);
  };
  hush::train::fit_mae(m, batches, images.val_clean, o);
}

struct arm_result {
  std::string name;
  hush::train::history history;
  std::string run;  // the trainer's settings, as its checkpoint records them (--report)
  /// Training and testing time over every epoch, from the history: a resumed arm counts the
  /// epochs of the runs before too.
  double seconds() const {
    double s = 0;
    for (const auto& e : history.epochs) s += e.train_seconds + e.eval_seconds;
    return s;
  }
};

/// The recipe an arm trains with: the command line's, except that the fine-tuned MAE has a
/// default of its own when the command line names no recipe setting. Under the tuned SGD recipe
/// (one-cycle to 0.1) that arm diverged to chance in the quick preset (9.50%, docs/results.md);
/// under AdamW at 1e-3 it learned.
hush::recipe arm_recipe(const std::string& arm, const args& a) {
  if (arm != "mae-tuned" || a.recipe.given()) return a.recipe.make();
  return {.optimizer = hush::optimizer_choice::adamw,
          .lr = 1e-3f,
          .weight_decay = 0.05f,
          .schedule = hush::schedule_choice::cosine};
}

/// Trains one arm: Net's classifier (and, tuned, its front end) on clean images; the front end's
/// weights, when it has one, from `front_weights` into net.get<0>() (`front` picks the part).
template <class Net, class Backend, class Front, class Source>
arm_result run_arm(Backend backend, const std::string& name, Net net, Front load_front, const args& a, int epochs,
                   const Source& train, const std::vector<hush::train::test_set>& tests,
                   const std::vector<std::string>& class_names) {
  auto m = std::make_unique<hush::model<Net, Backend>>(
      typename hush::model<Net, Backend>::options{.seed = a.seed, .backend = backend}, std::move(net));
  const auto image = train.image_shape();
  m->setup({a.batch, image[0], image[1], image[2]});
  load_front(*m);
  hush::train::classifier_options o;
  o.epochs = epochs, o.batch = a.batch, o.recipe = arm_recipe(name, a), o.seed = a.seed, o.out = fs::path(a.out) / name;
  o.resume = a.resume, o.title = name, o.augment = {};  // no flips: the front ends were not trained on them
  o.loader_threads = a.loader_threads;
  hush::train::clean_only regime;
  arm_result r{name, hush::train::fit(*m, regime, train, tests, o), {}};
  hush::save_weights(m->net, fs::path(a.out) / name / "model.safetensors",
                     {{hush::data::class_names_key, hush::data::join_class_names(class_names)},
                      {hush::data::input_key, hush::data::trained_input{image[1], false}.text()}});
  return r;
}

std::vector<std::string> parse_arms(const std::string& text) {
  std::vector<std::string> arms;
  for (std::stringstream ss(text); ss.good();) {
    std::string s;
    std::getline(ss, s, ',');
    if (s != "resnet" && s != "gan-frozen" && s != "gan-tuned" && s != "mae-frozen" && s != "mae-tuned")
      throw hush::error("--arms: unknown arm '" + s + "' (resnet, gan-frozen, gan-tuned, mae-frozen, mae-tuned)");
    arms.push_back(s);
  }
  return arms;
}

std::string fixed(double v, int digits = 2) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

/// The arms' final accuracies as a markdown table: clean and noisy test images, with the epochs
/// each trained and its time.
std::string arms_table(const std::vector<arm_result>& results) {
  std::string md =
      "| arm | epochs | clean accuracy (%) | noisy accuracy (%) | training and testing time (s) |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const auto& r : results) {
    const auto& last = r.history.epochs.back();
    md += "| " + r.name + " | " + std::to_string(last.epoch) + " | " + fixed(last.test_accuracy[0]) + " | " +
          fixed(last.test_accuracy[1]) + " | " + fixed(r.seconds(), 0) + " |\n";
  }
  return md;
}

/// The arms' recipes for the table's notes: the common one, and the fine-tuned MAE's when it differs.
std::string recipes_in_words(const std::vector<std::string>& arms, const args& a) {
  const auto common = a.recipe.make().describe();
  if (std::find(arms.begin(), arms.end(), "mae-tuned") == arms.end()) return common;
  const auto mae = arm_recipe("mae-tuned", a).describe();
  return mae == common ? common : common + "; the mae-tuned arm: " + mae;
}

/// Seed 000's Figures 7 and 8: test accuracy per epoch on clean and on noisy images, one line
/// per arm.
void save_curves(const fs::path& path, const std::vector<arm_result>& results) {
  std::vector<hush::io::chart> panels{{"test accuracy, clean images", "epoch", "accuracy (%)", {}},
                                      {"test accuracy, noisy images", "epoch", "accuracy (%)", {}}};
  for (const auto& r : results)
    for (std::size_t t = 0; t < 2; ++t) {
      hush::io::series s{r.name, {}, {}};
      for (const auto& e : r.history.epochs) s.x.push_back(e.epoch), s.y.push_back(e.test_accuracy[t]);
      panels[t].lines.push_back(s);
    }
  hush::io::save_charts(path, panels, 560, 400);
}

/// The "Command:" line each table ends with: how to make it again.
std::string command_line(int argc, char** argv) {
  std::string line = "\nCommand: hush-front-ends";
  for (int i = 1; i < argc; ++i) line += std::string(" ") + argv[i];
  return line + "\n";
}

/// --report: the table and figure of the arms already trained into a.out, each from its
/// checkpoint (its history and settings), whichever run wrote it.
int report(const args& a, int argc, char** argv) {
  const fs::path out = a.out;
  std::vector<arm_result> results;
  std::string missing;
  for (const auto& arm : parse_arms(a.arms)) {
    const auto checkpoint = out / arm / "checkpoint.safetensors";
    if (!fs::exists(checkpoint)) {
      missing += (missing.empty() ? "" : ", ") + arm;
      continue;
    }
    auto info = hush::io::read_safetensors(checkpoint).metadata;
    if (!info.count("log") || !info.count("run"))
      throw hush::io_error(checkpoint.string() + ": not a classifier's checkpoint (it has no log or run)");
    auto h = hush::train::history::parse(info["log"], info["tenths"], checkpoint.string());
    if (h.epochs.empty()) throw hush::io_error(checkpoint.string() + ": its log has no epoch");
    if (h.test_names.size() != 2)
      throw hush::io_error(checkpoint.string() + ": its log has " + std::to_string(h.test_names.size()) +
                           " test sets, not hush-front-ends' two (clean and noisy)");
    if (!results.empty() && h.test_names != results.front().history.test_names)
      throw hush::error("--report: " + arm + " was tested on '" + h.test_names[1] + "', " + results.front().name +
                        " on '" + results.front().history.test_names[1] + "': they cannot share a table");
    results.push_back({arm, std::move(h), info["run"]});
  }
  if (results.empty())
    throw hush::error("--report: no arm has been trained into " + out.string() + " (no checkpoint for " + a.arms + ")");
  std::string md = arms_table(results) + "\nTest sets: " + results.front().history.test_names[0] + " and " +
                   results.front().history.test_names[1] + ". Each arm's training, as its checkpoint records it:\n\n";
  for (const auto& r : results) md += "- " + r.name + ": " + r.run + "\n";
  if (!missing.empty()) md += "\nNot trained into " + out.string() + ": " + missing + ".\n";
  md += command_line(argc, argv);
  hush::io::write_file_atomically(out / "front_ends.md", md);
  save_curves(out / "front_ends.png", results);
  std::printf("%s\nresults: %s and %s\n", md.c_str(), (out / "front_ends.md").c_str(), (out / "front_ends.png").c_str());
  return 0;
}

template <class Classifier, class Backend, class Source>
int study(Backend backend, const args& a, const preset& p, const study_data& images, const Source& train,
          const Classifier& c_net, const std::string& model_title, int argc, char** argv) {
  const int epochs = a.epochs > 0 ? a.epochs : p.epochs;
  const auto& test = images.test;
  const auto noise = hush::noise::parse_spec(a.noise);
  hush::train::test_set clean_set{"clean", test}, noisy_set{"noisy (" + a.noise + ")", test};
  hush::noise::apply_to_batch(hush::backend::cpu{}, noise, hush::counter_rng{a.seed + 1000}, test.images,
                              noisy_set.data.images);
  const std::vector<hush::train::test_set> tests{clean_set, noisy_set};
  const fs::path out = a.out;
  hush::tensor val_noisy;
  hush::noise::apply_to_batch(hush::backend::cpu{}, noise, hush::counter_rng{a.seed + 2000}, images.val_clean,
                              val_noisy);
  std::printf(
      "hush-front-ends, preset %s: %s, %s, %lld training images of %lldx%lldx%lld, %lld test images (clean and %s), "
      "%d epochs per arm, %d threads\n",
      a.preset.c_str(), model_title.c_str(), images.name.c_str(), static_cast<long long>(images.train_size),
      static_cast<long long>(images.channels), static_cast<long long>(images.side), static_cast<long long>(images.side),
      static_cast<long long>(test.size()), noise.describe().c_str(), epochs, hush::threads());

  const auto arms = parse_arms(a.arms);
  const auto wants = [&](const char* prefix) {
    return std::any_of(arms.begin(), arms.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
  };
  std::string gan = a.gan_weights, mae = a.mae_weights;
  if (wants("gan") && gan.empty()) {
    train_gan(backend, a, p, images, noise, val_noisy, out / "gan");
    gan = (out / "gan" / "generator.safetensors").string();
  }
  if (wants("mae") && mae.empty()) {
    train_mae(backend, a, p, images, out / "mae");
    mae = (out / "mae" / "weights.safetensors").string();
  }

  const auto side = images.side, channels = images.channels;
  const gan_generator g_net({.channels = channels, .width = 32});
  // Frozen, the MAE predicts each patch from the others (mask ratio a.mae_ratio, several passes);
  // fine-tuned it must be one differentiable pass, every patch visible.
  const auto patch = images.patch();
  const mae_front mae_frozen(mae_net({.image = side, .patch = patch, .channels = channels, .mask_ratio = a.mae_ratio}));
  const mae_front mae_whole(mae_net({.image = side, .patch = patch, .channels = channels, .mask_ratio = 0.0f}));
  std::vector<arm_result> results;
  std::map<std::string, std::array<double, 2>> front_quality;
  namespace m = hush::models;
  const auto none = [](auto&) {};
  for (const auto& arm : arms) {
    if (arm == "resnet") results.push_back(run_arm(backend, arm, c_net, none, a, epochs, train, tests, images.class_names));
    if (arm == "gan-frozen")
      results.push_back(run_arm(
          backend, arm, m::behind_frozen<gan_generator, Classifier>(hush::frozen(g_net), c_net),
          [&](auto& model) { hush::load_weights(model.net.template get<0>(), gan); }, a, epochs, train, tests, images.class_names));
    if (arm == "gan-tuned")
      results.push_back(run_arm(
          backend, arm, m::behind<gan_generator, Classifier>(g_net, c_net),
          [&](auto& model) { hush::load_weights(model.net.template get<0>(), gan); }, a, epochs, train, tests, images.class_names));
    if (arm == "mae-frozen")
      results.push_back(run_arm(
          backend, arm, m::behind_frozen<mae_front, Classifier>(hush::frozen(mae_frozen), c_net),
          [&](auto& model) { hush::load_weights(model.net.template get<0>().net.mae, mae); }, a, epochs, train, tests, images.class_names));
    if (arm == "mae-tuned")
      results.push_back(run_arm(
          backend, arm, m::behind<mae_front, Classifier>(mae_whole, c_net),
          [&](auto& model) { hush::load_weights(model.net.template get<0>().mae, mae); }, a, epochs, train, tests, images.class_names));
  }
  const auto batch = std::min<std::int64_t>(250, test.size());
  {  // the front ends as denoisers of the noisy test images, before any fine-tuning
    if (!gan.empty()) {
      hush::model<gan_generator, Backend> g({.backend = backend}, g_net);
      g.setup({batch, channels, side, side});
      hush::load_weights(g.net, gan);
      front_quality["GAN denoiser"] = front_end_quality(g, test.images, noisy_set.data.images);
    }
    if (!mae.empty())
      for (const auto& f_net : {mae_frozen, mae_whole}) {
        hush::model<mae_front, Backend> f({.backend = backend}, f_net);
        f.setup({batch, channels, side, side});
        hush::load_weights(f.net.mae, mae);
        front_quality["MAE, mask ratio " + fixed(f_net.mae.opt.mask_ratio)] =
            front_end_quality(f, test.images, noisy_set.data.images);
      }
  }

  // The table and the figure.
  std::string md = arms_table(results);
  const double noisy_psnr = summed_quality(test.images, noisy_set.data.images)[0];
  md += "\nFront ends on the noisy test images (mean PSNR against the clean ones; the noisy images themselves: " +
        fixed(noisy_psnr / double(test.size())) + " dB):\n\n| front end | PSNR (dB) | SSIM |\n| --- | --- | --- |\n";
  for (const auto& [name, q] : front_quality) md += "| " + name + " | " + fixed(q[0]) + " | " + fixed(q[1], 3) + " |\n";
  md += "\n" + model_title + " trained on " + std::to_string(images.train_size) + " clean images (" + images.name +
        ") for " + std::to_string(epochs) + " epochs (" + recipes_in_words(arms, a) + "), tested on " +
        std::to_string(test.size()) + " test images, clean and with " + noise.describe() +
        ". Frozen: the front end fixed, only the classifier learns "
        "(the MAE at mask ratio " +
        fixed(a.mae_ratio) +
        ", each patch predicted from the others); tuned: both learn, "
        "from the pre-trained front end (the MAE seeing every patch). Seed " +
        std::to_string(a.seed) + "." + command_line(argc, argv);
  fs::create_directories(out);
  hush::io::write_file_atomically(out / "front_ends.md", md);
  save_curves(out / "front_ends.png", results);
  std::printf("%s\nresults: %s and %s\n", md.c_str(), (out / "front_ends.md").c_str(),
              (out / "front_ends.png").c_str());
  return 0;
}

/// Calls f(classifier, its title) with the ResNet --model names, sized for `images`.
template <class F>
int with_classifier(const args& a, const study_data& images, F&& f) {
  const hush::models::resnet_options io{.channels = images.channels, .classes = images.classes};
  if (a.model == "resnet50") return f(hush::models::resnet50(io), std::string("ResNet-50"));
  return f(hush::models::resnet20(io), std::string("ResNet-20"));
}

/// Fashion-MNIST, held in memory.
template <class Backend>
int fashion_mnist_study(Backend backend, const args& a, int argc, char** argv) {
  const auto p = presets.at(a.preset);
  const auto all = hush::data::fashion_mnist(a.data_dir, "train");
  const auto train = all.first(a.limit >= 0 ? a.limit : p.limit);
  study_data images;
  images.name = "Fashion-MNIST";
  images.class_names = hush::data::fashion_mnist_class_names();
  images.train_size = train.size();
  images.clean = [&train](const std::vector<std::int64_t>& picks, std::uint64_t, hush::tensor& out) {
    hush::data::gather(train.images, picks, 0, std::int64_t(picks.size()), out);
    return picks;
  };
  // Validation for the front ends' own training: the last 500 training images (of the whole set).
  hush::data::slice(all.images, all.size() - 500, all.size(), images.val_clean);
  images.test = hush::data::fashion_mnist(a.data_dir, "t10k").first(a.test_limit >= 0 ? a.test_limit : p.test_limit);
  const hush::data::in_memory_source source(train);
  return with_classifier(a, images, [&](const auto& net, const std::string& title) {
    return study(backend, a, p, images, source, net, title, argc, argv);
  });
}

/// The test set's labels, numbered by its own folder's classes, renumbered by the training
/// folder's: the same class name, the same label (CACD2000's test identities are a subset).
void relabel(hush::data::labelled_images& test, const hush::data::image_folder& test_folder,
             const hush::data::image_folder& train_folder, const std::string& test_dir) {
  std::map<std::string, std::int32_t> label;
  for (std::size_t i = 0; i < train_folder.classes().size(); ++i) label[train_folder.classes()[i]] = std::int32_t(i);
  for (std::int64_t i = 0; i < test.labels.numel(); ++i) {
    const auto& name = test_folder.classes().at(std::size_t(test.labels[i]));
    const auto found = label.find(name);
    if (found == label.end())
      throw hush::error(test_dir + ": class '" + name + "' is not one of the training folder's " +
                        std::to_string(label.size()) + " classes");
    test.labels[i] = found->second;
  }
}

/// The user's image folders: training images decoded on loader threads as the trainers ask for
/// them (never held whole), test images (up to --test-limit) in memory.
template <class Backend>
int folder_study(Backend backend, const args& a, int argc, char** argv) {
  namespace d = hush::data;
  const auto p = presets.at(a.preset);
  const d::image_folder_options train_options{.resize = a.size,
                                              .crop = 0,
                                              .flip = false,  // as the Fashion-MNIST arms: no flips
                                              .train = true,
                                              .channels = a.channels,
                                              .broken = a.skip_broken ? d::on_broken::skip : d::on_broken::stop};
  auto test_options = train_options;
  test_options.train = false;
  const auto open = [&](const std::string& dir, const d::image_folder_options& o) {
    return a.cacd ? d::image_folder::cacd(dir, o) : d::image_folder::by_class(dir, o);
  };
  auto folder = open(a.folder, train_options);
  auto test_folder = open(a.test_folder, test_options);
  study_data images;
  images.name = (a.cacd ? "CACD-named folder " : "class folders of ") + a.folder;
  images.channels = a.channels, images.side = a.size;
  images.classes = std::int64_t(folder.classes().size()), images.train_size = folder.size();
  images.class_names = folder.classes();
  images.clean = [&folder, &a](const std::vector<std::int64_t>& picks, std::uint64_t epoch, hush::tensor& out) {
    std::vector<std::int64_t> loaded;
    hush::index_tensor labels;
    folder.load(picks, 0, std::int64_t(picks.size()), out, labels, epoch, hush::counter_rng{a.seed}, &loaded);
    return loaded;
  };
  // Validation for the front ends' own training: the training folder's last tenth (up to 500).
  const auto n_val = std::clamp<std::int64_t>(folder.size() / 10, 1, 500);
  std::vector<std::int64_t> last(static_cast<std::size_t>(n_val));
  for (std::int64_t i = 0; i < n_val; ++i) last[std::size_t(i)] = folder.size() - n_val + i;
  images.clean(last, 0, images.val_clean);
  images.test = d::load_all(test_folder, a.test_limit >= 0 ? a.test_limit : p.test_limit);
  relabel(images.test, test_folder, folder, a.test_folder);
  std::printf("%s: %lld images in %zu classes; %s: %lld test images\n", a.folder.c_str(),
              static_cast<long long>(folder.size()), folder.classes().size(), a.test_folder.c_str(),
              static_cast<long long>(images.test.size()));
  const d::folder_source source(folder);
  const int status = with_classifier(a, images, [&](const auto& net, const std::string& title) {
    return study(backend, a, p, images, source, net, title, argc, argv);
  });
  for (const auto& f : folder.skipped_files()) std::printf("skipped (could not be decoded): %s\n", f.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"Seed 000's study: a ResNet alone and behind a GAN denoiser or the MAE, frozen or fine-tuned"};
  args a;
  app.add_option("--preset", a.preset, "quick (minutes) or full (all of Fashion-MNIST, ten epochs)")
      ->check(CLI::IsMember({"quick", "full"}))
      ->capture_default_str();
  app.add_flag_callback(
      "--quick", [&] { a.preset = "quick"; }, "the same as --preset quick");
  app.add_flag_callback(
      "--full", [&] { a.preset = "full"; }, "the same as --preset full");
  app.add_option("--arms", a.arms, "comma-separated: resnet, gan-frozen, gan-tuned, mae-frozen, mae-tuned")
      ->capture_default_str();
  app.add_option("--noise", a.noise, "the test noise (a hush-noise spec or preset)")->capture_default_str();
  app.add_option("--gan", a.gan_weights, "the GAN denoiser's generator weights (default: train it into OUT/gan)");
  app.add_option("--mae", a.mae_weights, "hush-mae's Fashion-MNIST weights (default: pre-train it into OUT/mae)");
  app.add_option("--epochs", a.epochs, "override the preset's epochs per arm")->check(CLI::PositiveNumber);
  app.add_option("--front-epochs", a.front_epochs, "override the preset: the front ends' training epochs")
      ->check(CLI::PositiveNumber);
  app.add_option("--front-steps", a.front_steps, "override the preset: the front ends' steps per epoch")
      ->check(CLI::PositiveNumber);
  app.add_option("--mae-ratio", a.mae_ratio, "the frozen MAE's mask ratio (0: one pass, every patch visible)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 0.95f));
  app.add_option("--limit", a.limit, "override the preset: train on the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", a.test_limit, "override the preset: test on the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", a.batch, "the classifiers' batch")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", a.seed, "seed of weights, order and noise")->capture_default_str();
  app.add_option("--data", a.data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  auto* folder =
      app.add_option("--folder", a.folder, "train on this image folder instead (one sub-folder per class, or --cacd)");
  app.add_option("--test-folder", a.test_folder, "with --folder: the test images (the same class names)");
  app.add_flag("--cacd", a.cacd,
               "the folders are named as CACD2000's (AGE_First_Last_NNNN.jpg; the identity is the class)")
      ->needs(folder);
  app.add_option("--size", a.size, "with --folder: images resized to size x size")
      ->needs(folder)
      ->capture_default_str()
      ->check(CLI::Range(16, 1024));
  app.add_option("--channels", a.channels, "with --folder: 3 (colour) or 1 (grey)")
      ->needs(folder)
      ->capture_default_str()
      ->check(CLI::IsMember({1, 3}));
  app.add_flag("--skip-broken", a.skip_broken,
               "with --folder: leave out files that cannot be decoded (listed at the end)")
      ->needs(folder);
  app.add_option("--loader-threads", a.loader_threads, "threads decoding the classifier's batches ahead of the step")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--model", a.model,
                 "the classifier: resnet20 (default on Fashion-MNIST) or resnet50 (default on folders)")
      ->check(CLI::IsMember({"resnet20", "resnet50"}));
  app.add_option("--out", a.out, "output folder")->capture_default_str();
  app.add_flag("--resume", a.resume, "continue each training from its checkpoint, if any");
  app.add_flag("--report", a.report,
               "train nothing: the table and figure of the arms already trained into --out, each from its checkpoint");
  a.recipe.add_to(app);
  app.footer("With no recipe option, every arm trains under the tuned recipe except mae-tuned: AdamW, lr 1e-3 with a "
             "cosine schedule, weight decay 0.05 (under the tuned SGD recipe it diverged). Any recipe option applies "
             "to every arm.");
  int threads = 0;
  app.add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) hush::set_threads(threads);
  a.recipe.make();  // a bad setting stops here, before any training
  parse_arms(a.arms);
  if (a.folder.empty() != a.test_folder.empty()) throw hush::error("--folder and --test-folder go together");
  if (!a.folder.empty() && a.limit >= 0)
    throw hush::error("--limit applies to Fashion-MNIST; give --folder a smaller folder");
  if (a.size % 4)
    throw hush::error("--size " + std::to_string(a.size) +
                      " is not a multiple of 4 (the MAE's patches, the critic's strides)");
  if (a.model.empty()) a.model = a.folder.empty() ? "resnet20" : "resnet50";
  hush::io::check_output_folder(a.out, {"front_ends.md", "front_ends.png"});
  if (a.report) return report(a, argc, argv);
  const auto device = hush::choose_device();
  std::printf("%s\n", device.line().c_str());
  return hush::with_device(device, [&](auto backend) {
    return a.folder.empty() ? fashion_mnist_study(backend, a, argc, argv) : folder_study(backend, a, argc, argv);
  });
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-front-ends: %s\n", e.what());
  return 1;
}
