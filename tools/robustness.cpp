// hush-robustness: seed 004's study on Fashion-MNIST. Trains a CIFAR ResNet (ResNet-20 by default,
// --model resnet56 or resnet110 for seed 004's deeper networks) under the four regimes
// (clean only, noisy only, clean and noisy mixed, pivot loss) and tests each on clean images,
// Gaussian noise (sigma 0.05 and 0.15), low resolution (x2 and x4 nearest, x4 bicubic), mixed
// resolution (a sharp region in a x4 image, seed 004) and seed 000's mix of
// Gaussian + salt-and-pepper + Poisson noise. Writes
//   OUT/robustness.md            the table (seed 004's Table 1, with more test conditions)
//   OUT/robustness.png           test accuracy per epoch, one panel per regime
//   OUT/robustness/<regime>/     log.csv, curves.png, checkpoint.safetensors, model.safetensors
//
//   build/bin/hush-robustness --quick                  # a few minutes: what scripts/demo runs
//   build/bin/hush-robustness --full                   # the measured table of docs/results.md
//   build/bin/hush-robustness --full --regimes pivot --stop-after 4   # in parts: then --resume
//   build/bin/hush-robustness --full --recipe seed004 --epochs 17     # the seed's own recipe (8k steps)
//   build/bin/hush-robustness --full --train-noise seed004_low_res     # Table 2: training on low resolution
//   mpirun -np 2 build/bin/hush-robustness --quick --threads 1          # two processes (docs/distributed.md)
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "hush/backend/devices.hpp"
#include "hush/core/printf_string.hpp"
#include "hush/data/model_card.hpp"
#include "hush/distributed/launch.hpp"
#include "hush/hush.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/plot.hpp"
#include "hush/models/resnet.hpp"
#include "hush/noise/spec.hpp"
#include "hush/train/classifier.hpp"
#include "hush/train/regime.hpp"
#include "recipe_options.hpp"

namespace fs = std::filesystem;

namespace {

struct preset {
  int epochs;
  std::int64_t limit, test_limit, curve_images;
};
const std::map<std::string, preset> presets = {
    // Minutes: long enough that the seed's finding shows on any machine (docs/results.md: at 2
    // epochs of 5,000 images the clean-trained model was 10-22 points behind on clean images,
    // depending on the CPU, because noise regularises an under-trained network).
    {"quick", {4, 10000, 2000, 0}},
    {"full", {10, 0, 0, 2000}},     // seed 004's recipe at Fashion-MNIST's full size
};

/// The test conditions: a name and the noise that makes them (none for clean).
const std::vector<std::pair<std::string, std::string>> conditions = {
    {"clean", ""},
    {"gaussian 0.05", "gaussian(sigma=0.05)"},
    {"gaussian 0.15", "gaussian(sigma=0.15)"},
    {"low-res x2", "low_res(factor=2, upsampling=nearest)"},
    {"low-res x4", "low_res(factor=4, upsampling=nearest)"},
    {"low-res x4 bicubic", "low_res(factor=4, upsampling=bicubic)"},
    {"mixed-res x4", "mixed_res(factor=4)"},  // seed 004's mixed resolution: a sharp region in a x4 image
    {"seed 000 mix", "seed000"},
};

/// The CIFAR ResNets of seed 004 (He et al. §4.2), by the name --model takes.
const std::map<std::string, std::string> models = {
    {"resnet20", "ResNet-20"}, {"resnet56", "ResNet-56"}, {"resnet110", "ResNet-110"}};

/// Calls f(std::type_identity<Net>{}) with the network type named `name` (a key of `models`).
/// ResNet-56 and -110 are ResNet-20 with longer stages: the same block types, so each model adds
/// only its outer sequence and the trainer's instantiation.
template <class F>
decltype(auto) with_model(const std::string& name, F&& f) {
  if (name == "resnet56") return f(std::type_identity<hush::models::resnet56>{});
  if (name == "resnet110") return f(std::type_identity<hush::models::resnet110>{});
  return f(std::type_identity<hush::models::resnet20>{});
}

/// The median time of a plain training step (batch `batch`, SGD with Nesterov momentum), after
/// three warm-up steps: the figure scripts/torch_robustness.py --time-steps prints for PyTorch.
template <class Net, class Backend>
int time_training_steps(Backend backend, const std::string& model_name, const std::string& data_dir, std::int64_t batch,
                        std::uint64_t seed, int steps) {
  const auto train = hush::data::fashion_mnist(data_dir, "train");
  if (batch > train.size())
    throw hush::error("--batch " + std::to_string(batch) + " is larger than the " + std::to_string(train.size()) +
                      " training images");
  hush::model<Net, Backend> m({.seed = seed, .backend = backend}, Net({.channels = 1, .classes = 10}));
  hush::sgd opt(m.net, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true});
  hush::cross_entropy loss;
  hush::tensor x;
  hush::index_tensor y;
  std::vector<double> times;
  for (int s = 0; s < steps + 3; ++s) {
    const auto begin = (s * batch) % (train.size() - batch + 1);
    hush::data::slice(train.images, begin, begin + batch, x);
    hush::data::slice(train.labels, begin, begin + batch, y);
    const auto t0 = std::chrono::steady_clock::now();  // the move to the model's memory included
    const auto& xb = hush::to(backend, x);
    const auto& yb = hush::to(backend, y);
    m.zero_grad();
    loss.forward(m.ctx, m.forward(xb), yb);
    m.backward(loss.backward(m.ctx));
    opt.step(m.ctx.backend);
    if (s >= 3) times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const auto per_epoch = train.size() / batch;
  std::printf(
      "hush %s training step, batch %lld: median %.1f ms over %zu steps (%.0f images/s; an epoch of "
      "%lld steps: %.1f s)\n",
      model_name.c_str(), static_cast<long long>(batch), 1000 * median, times.size(), double(batch) / median,
      static_cast<long long>(per_epoch), median * double(per_epoch));
  return 0;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct outcome {
  std::string regime;
  hush::train::history history;
  double seconds;
};

/// Seed 004's finding, checked on this run's table: trained on clean images only, the network
/// collapses under Gaussian noise of sigma 0.15 (at least 15 points lost, and at least 10 below
/// every noise-trained regime there), while every noise-trained regime holds up (at most 5 points
/// lost); and, on clean images, the clean-trained model is within 3 points of the best (the full
/// study's margin is 0.5-1.3 points, more than a run of minutes resolves: docs/results.md). Empty
/// when the run lacks the clean regime, a noise-trained one or either test condition.
std::string finding(const std::vector<outcome>& outcomes, const std::vector<std::string>& test_names) {
  const auto col = [&](const char* name) { return std::find(test_names.begin(), test_names.end(), name) - test_names.begin(); };
  const auto c = col("clean"), g = col("gaussian 0.15");
  if (c == std::ptrdiff_t(test_names.size()) || g == std::ptrdiff_t(test_names.size()) || outcomes.size() < 2) return {};
  const auto at = [&](const outcome& o, std::ptrdiff_t i) { return o.history.epochs.back().test_accuracy[std::size_t(i)]; };
  const auto clean = std::find_if(outcomes.begin(), outcomes.end(), [](const outcome& o) { return o.regime == "clean"; });
  if (clean == outcomes.end()) return {};
  double best_clean = 0, worst_hold = 0, lowest_noisy = 100;
  for (const auto& o : outcomes) {
    best_clean = std::max(best_clean, at(o, c));
    if (&o == &*clean) continue;
    worst_hold = std::max(worst_hold, at(o, c) - at(o, g)), lowest_noisy = std::min(lowest_noisy, at(o, g));
  }
  const double collapse = at(*clean, c) - at(*clean, g), behind = best_clean - at(*clean, c);
  const bool collapses = collapse >= 15 && worst_hold <= 5 && lowest_noisy - at(*clean, g) >= 10, near_best = behind <= 3;
  return hush::printf_string(
                "The seed's finding: trained on clean images only, the network loses %.1f points at gaussian 0.15 "
                "(%.2f%% -> %.2f%%), trained on noise at most %.1f: %s. On clean images the clean-trained model is "
                "%.1f points from the best (%.2f%%): %s.",
                collapse, at(*clean, c), at(*clean, g), worst_hold, collapses ? "collapse holds" : "COLLAPSE NOT SHOWN",
                behind, best_clean, near_best ? "within 3 points" : "MORE THAN 3 POINTS BEHIND");
}

}  // namespace

int run(int argc, char** argv, hush::distributed::communicator* world) {
  CLI::App app{"Seed 004's noise-robustness study: a CIFAR ResNet on Fashion-MNIST under four training regimes"};
  std::string preset_name = "quick", data_dir = hush::data::default_fashion_mnist_dir, out_dir = "results";
  std::string train_noise = "seed004_gaussian", regimes_text = "clean,noisy,mixed,pivot", model_name = "resnet20";
  int epochs = 0, threads = 0;
  std::int64_t limit = -1, test_limit = -1, batch = 128;
  std::uint64_t seed = 1;
  float lambda = 0.3f, lambda2 = 1e-4f;
  bool resume = false;
  app.add_option("--preset", preset_name, "quick (minutes) or full (seed 004's recipe, all of Fashion-MNIST)")
      ->check(CLI::IsMember({"quick", "full"}))
      ->capture_default_str();
  app.add_flag_callback(
      "--quick", [&] { preset_name = "quick"; }, "the same as --preset quick");
  app.add_flag_callback(
      "--full", [&] { preset_name = "full"; }, "the same as --preset full");
  app.add_option("--model", model_name,
                 "the network: resnet20, resnet56 or resnet110 (seed 004's 20- and 110-layer ResNets)")
      ->check(CLI::IsMember({"resnet20", "resnet56", "resnet110"}))
      ->capture_default_str();
  app.add_option("--regimes", regimes_text, "comma-separated: clean, noisy, mixed, pivot")->capture_default_str();
  app.add_option("--train-noise", train_noise, "noise of the noisy regimes (a hush-noise spec or preset)")
      ->capture_default_str();
  app.add_option("--epochs", epochs, "override the preset's epochs")->check(CLI::PositiveNumber);
  app.add_option("--limit", limit, "override the preset: train on the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", test_limit, "override the preset: test on the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "mini-batch size m")->capture_default_str()->check(CLI::PositiveNumber);
  hush::tools::recipe_args recipe;
  recipe.add_to(app);
  bool subtract_mean = false;
  app.add_flag("--subtract-mean", subtract_mean,
               "subtract the training images' per-pixel mean (seed 004's preprocessing)");
  std::int64_t crop_padding = 0;
  app.add_option("--crop-padding", crop_padding,
                 "pad-and-crop augmentation: pad by this many pixels, crop back at random")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lambda", lambda, "pivot loss: weight of the perturbed images' cross-entropy")
      ->capture_default_str();
  app.add_option("--lambda2", lambda2, "pivot loss: weight of the logit distance")->capture_default_str();
  app.add_option("--seed", seed, "seed of weights, order, augmentation and noise")->capture_default_str();
  app.add_option("--data", data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--out", out_dir, "folder for robustness.md, robustness.png and robustness/<regime>/")
      ->capture_default_str();
  app.add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();
  int stop_after = 0, time_steps = 0;
  app.add_option(
         "--time-steps", time_steps,
         "only time this many training steps of the model (the same measurement as scripts/torch_robustness.py's)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--resume", resume, "continue each regime from its checkpoint, if any");
  bool continue_on_non_finite = false;
  app.add_flag(
      "--continue-on-nan", continue_on_non_finite,
      "keep training when a step's loss is NaN or infinite (by default the run stops, naming the epoch and step)");
  app.add_option("--stop-after", stop_after, "stop each regime after this epoch (continue later with --resume)")
      ->check(CLI::PositiveNumber);
  bool batch_norm_per_process = false;
  app.add_flag("--batch-norm-per-process", batch_norm_per_process,
               "under mpirun: batch norm's statistics of each process's shard, not of the whole batch");
  double bucket_mb = 4;
  app.add_option("--bucket-mb", bucket_mb,
                 "under mpirun: gradients are summed in buckets of this many MB while backward runs (0: in one, after it)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1024.0));
  CLI11_PARSE(app, argc, argv);

  // CLI11's number checks let NaN through (every comparison with it is false): checked here.
  for (const auto& [name, v] : {std::pair{"--lambda", lambda}, {"--lambda2", lambda2}})
    if (!(std::isfinite(v) && v >= 0))
      throw hush::error(std::string(name) + " must be a finite number >= 0, not " + number(v));
  if (threads > 0) hush::set_threads(threads);
  const auto p = presets.at(preset_name);
  hush::train::classifier_options o;
  o.epochs = epochs > 0 ? epochs : p.epochs;
  o.batch = batch;
  o.recipe = recipe.make();
  o.subtract_mean = subtract_mean;
  o.augment.crop_padding = crop_padding;
  o.seed = seed;
  o.resume = resume;
  o.curve_images = p.curve_images;
  o.stop_after = stop_after;
  o.continue_on_non_finite = continue_on_non_finite;
  o.comm = world;  // mpirun -np N: N processes share each batch (docs/distributed.md)
  o.sync_batch_norm = !batch_norm_per_process;
  o.bucket_bytes = static_cast<std::size_t>(bucket_mb * 1024 * 1024);
  const bool root = !world || world->is_root();  // process 0 writes the results
  const auto n_train = limit >= 0 ? limit : p.limit, n_test = test_limit >= 0 ? test_limit : p.test_limit;

  std::vector<std::string> regimes;
  for (std::stringstream ss(regimes_text); ss.good();) {
    std::string r;
    std::getline(ss, r, ',');
    if (r != "clean" && r != "noisy" && r != "mixed" && r != "pivot")
      throw hush::error("--regimes: unknown regime '" + r + "' (clean, noisy, mixed, pivot)");
    regimes.push_back(r);
  }
  const auto noise = hush::noise::parse_spec(train_noise);
  if (time_steps == 0) hush::io::check_output_folder(out_dir, {"robustness.md", "robustness.png"});

  const auto device = hush::choose_device();  // HUSH_DEVICE, or the best device found
  std::printf("%s\n", device.line().c_str());
  if (time_steps > 0)
    return hush::with_device(device, [&](auto backend) {
      return with_model(model_name, [&](auto net) {
        using Net = typename decltype(net)::type;
        return time_training_steps<Net>(backend, model_name, data_dir, batch, seed, time_steps);
      });
    });
  const auto& model_title = models.at(model_name);
  const auto train = hush::data::fashion_mnist(data_dir, "train").first(n_train);
  const auto test = hush::data::fashion_mnist(data_dir, "t10k").first(n_test);
  std::vector<hush::train::test_set> tests;
  const hush::counter_rng test_rng{seed + 1000};
  for (const auto& [name, spec] : conditions) {
    hush::train::test_set t{name, test};
    if (!spec.empty())
      hush::noise::apply_to_batch(hush::backend::cpu{}, hush::noise::parse_spec(spec), test_rng, test.images,
                                  t.data.images);
    tests.push_back(std::move(t));
  }
  std::printf(
      "hush-robustness, preset %s: %s, %lld training images, %lld test images x %zu conditions, %d epochs, "
      "batch %lld, %d threads, BLAS kernels %s\ntraining noise: %s\n",
      preset_name.c_str(), model_title.c_str(), static_cast<long long>(train.size()),
      static_cast<long long>(test.size()), tests.size(), o.epochs, static_cast<long long>(o.batch), hush::threads(),
      hush::ensure_fast_blas().c_str(), noise.describe().c_str());

  std::vector<outcome> outcomes;
  const fs::path out(out_dir);
  for (const auto& r : regimes) {
    hush::with_device(device, [&](auto backend) {
      with_model(model_name, [&](auto net_type) {
        using net = typename decltype(net_type)::type;
        hush::model<net, decltype(backend)> m({.seed = seed, .backend = backend}, net({.channels = 1, .classes = 10}));
        o.out = out / "robustness" / r;
        o.title = model_title + ", " + r;
        const hush::counter_rng noise_rng{seed + 7};
        const auto start = std::chrono::steady_clock::now();
        hush::train::history h;
        if (r == "clean") {
          hush::train::clean_only regime;
          h = hush::train::fit(m, regime, train, tests, o);
        } else if (r == "noisy") {
          hush::train::noisy_only regime(noise, noise_rng);
          h = hush::train::fit(m, regime, train, tests, o);
        } else if (r == "mixed") {
          hush::train::mixed regime(noise, noise_rng);
          h = hush::train::fit(m, regime, train, tests, o);
        } else {
          hush::train::pivot regime(noise, noise_rng, {.lambda = lambda, .lambda2 = lambda2});
          h = hush::train::fit(m, regime, train, tests, o);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (root)  // with its model card: Fashion-MNIST's class names and images, which hush-infer reads
          hush::save_weights(m.net, o.out / "model.safetensors",
                             {{hush::data::class_names_key, hush::data::join_class_names(hush::data::fashion_mnist_class_names())},
                              {hush::data::input_key, hush::data::trained_input{28, o.subtract_mean}.text()}});
        outcomes.push_back({r, h, seconds});
      });
    });

    if (!root) continue;
    // The table and the figure so far, rewritten after every regime.
    std::string md = "# Noise robustness: " + model_title + " on Fashion-MNIST (seed 004)\n\nTest accuracy (%) after " +
                     std::to_string(o.epochs) + " epochs, " + std::to_string(test.size()) +
                     " test images per condition.\n\n| training |";
    for (const auto& t : tests) md += " " + t.name + " |";
    md += " train s/epoch | wall time |\n| --- |";
    for (std::size_t i = 0; i < tests.size(); ++i) md += " --- |";
    md += " --- | --- |\n";
    std::vector<hush::io::chart> panels;
    for (const auto& oc : outcomes) {
      const auto& last = oc.history.epochs.back();
      double train_s = 0;
      for (const auto& e : oc.history.epochs) train_s += e.train_seconds;
      md += "| " + oc.regime + " |";
      for (double a : last.test_accuracy) {
        char cell[32];
        std::snprintf(cell, sizeof cell, " %.2f |", a);
        md += cell;
      }
      char cell[64];
      std::snprintf(cell, sizeof cell, " %.1f | %.1f min |\n", train_s / double(oc.history.epochs.size()),
                    oc.seconds / 60);
      md += cell;
      hush::io::chart c{model_title + ", " + oc.regime, "epoch", "test accuracy (%)", {}};
      for (std::size_t i = 0; i < tests.size(); ++i) {
        hush::io::series s{tests[i].name, {}, {}};
        for (const auto& e : oc.history.epochs) s.x.push_back(e.epoch), s.y.push_back(e.test_accuracy[i]);
        c.lines.push_back(s);
      }
      panels.push_back(c);
    }
    md += "\nRegimes: clean only; noisy only (every image: " + noise.describe() +
          "); mixed (64 noisy copies of 64 clean images per batch of 128, cross-entropy); pivot (the same batch, "
          "pivot loss with lambda " +
          number(lambda) + ", lambda2 " + number(lambda2) + "). " + o.recipe.describe() + "; random horizontal flips" +
          (o.augment.crop_padding ? ", pad-and-crop by " + std::to_string(o.augment.crop_padding) : "") +
          (o.subtract_mean ? ", per-pixel mean subtracted" : "") + "; seed " + std::to_string(seed) +
          ".\nCommand: hush-robustness";
    for (int i = 1; i < argc; ++i) md += std::string(" ") + argv[i];
    md += "\n";
    if (const auto f = finding(outcomes, outcomes.front().history.test_names); !f.empty()) md += "\n" + f + "\n";
    fs::create_directories(out);
    hush::io::write_file_atomically(out / "robustness.md", md);
    hush::io::save_charts(out / "robustness.png", panels, 480, 380);
  }
  if (root && !outcomes.empty())
    if (const auto f = finding(outcomes, outcomes.front().history.test_names); !f.empty()) std::printf("%s\n", f.c_str());
  std::printf("results: %s and %s; per regime in %s/\n", (out / "robustness.md").c_str(),
              (out / "robustness.png").c_str(), (out / "robustness").c_str());
  return 0;
}

int main(int argc, char** argv) { return hush::distributed::launched_main(argc, argv, "hush-robustness", run); }
