// A short real training run: the loss falls and the accuracy rises well above chance.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"
#include "hush/noise/pixel.hpp"
#include "hush/data/image_folder.hpp"
#include "hush/train/classifier.hpp"
#include "hush/train/regime.hpp"
#include "tiny_classifier.hpp"

TEST_CASE("fashion_cnn learns Fashion-MNIST: 2 epochs over 2,048 images") {
  const char* dir = std::getenv("HUSH_FASHION_MNIST");
  const auto train = hush::data::fashion_mnist(dir ? dir : hush::data::default_fashion_mnist_dir, "train");
  hush::model<hush::models::fashion_cnn, hush::backend::cpu> model({.seed = 1}, hush::models::fashion_cnn({.width = 8}));
  model.setup({32, 1, 28, 28});
  hush::sgd opt(model.net, {.lr = 0.05f, .momentum = 0.9f});
  hush::cross_entropy loss;
  hush::tensor x;
  hush::index_tensor y;
  const std::int64_t n = 2048, batch = 32, steps = n / batch;
  std::vector<double> epoch_loss, epoch_acc;
  for (std::uint64_t epoch = 1; epoch <= 2; ++epoch) {
    const auto order = hush::data::shuffled_order(n, 1, epoch);
    double sum = 0;
    std::int64_t hits = 0;
    for (std::int64_t s = 0; s < steps; ++s) {
      hush::data::gather(train.images, order, s * batch, (s + 1) * batch, x);
      hush::data::gather(train.labels, order, s * batch, (s + 1) * batch, y);
      model.zero_grad();
      const auto& logits = model.forward(x);
      sum += loss.forward(model.ctx, logits, y);
      hits += hush::metrics::correct(logits, y);
      model.backward(loss.backward(model.ctx));
      opt.step(model.ctx.backend);
    }
    epoch_loss.push_back(sum / steps);
    epoch_acc.push_back(double(hits) / n);
    MESSAGE("epoch " << epoch << ": loss " << epoch_loss.back() << ", accuracy " << epoch_acc.back());
  }
  CHECK(epoch_loss[0] < 2.0);  // below log(10) = 2.30: it learned during the first epoch
  CHECK(epoch_loss[1] < 0.8 * epoch_loss[0]);
  CHECK(epoch_acc[1] > 0.65);  // chance is 0.10
}

// ---- regimes, augmentation and the classifier trainer ------------------------------------------

namespace {
using hush::test::tiny_net;
using hush::test::two_classes;

hush::train::classifier_options tiny_options(const std::filesystem::path& out, int epochs) {
  hush::train::classifier_options o;
  o.epochs = epochs, o.batch = 16, o.recipe.lr = 0.2f, o.seed = 3, o.eval_batch = 50, o.out = out, o.title = "tiny";
  o.augment = {.flip = true, .crop_padding = 1};
  return o;
}

std::vector<float> weights_of(tiny_net& net) {
  std::vector<float> w;
  hush::for_each_parameter(net, [&](std::string_view, hush::parameter& p) {
    w.insert(w.end(), p.value.host().values().begin(), p.value.host().values().end());
  });
  return w;
}

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("hush-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("augmentation: deterministic per (seed, epoch, image), flips mirror, crops shift in zeros") {
  hush::tensor a({2, 1, 3, 3}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  hush::tensor b = a;
  const std::vector<std::int64_t> idx{7, 7};  // the same data-set image twice: the same draw
  hush::data::augment(a, idx, {.flip = true, .crop_padding = 1}, hush::counter_rng{5}, 2);
  for (int i = 0; i < 9; ++i) CHECK(a[i] == a[9 + i]);
  // Flip only: image j is mirrored or untouched, and over many images both happen.
  int flipped = 0;
  for (std::int64_t i = 0; i < 64; ++i) {
    hush::tensor c({1, 1, 3, 3}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
    const std::vector<std::int64_t> one{i};
    hush::data::augment(c, one, {.flip = true}, hush::counter_rng{5}, 1);
    const bool mirrored = c[0] == 3 && c[1] == 2 && c[2] == 1 && c[3] == 6 && c[8] == 7;
    const bool same = c[0] == 1 && c[2] == 3 && c[8] == 9;
    CHECK((mirrored || same));
    flipped += mirrored;
  }
  CHECK(flipped > 16);
  CHECK(flipped < 48);
  // Crops keep the values of the image or zeros, and the total shrinks only by what fell off.
  hush::data::augment(b, idx, {.crop_padding = 1}, hush::counter_rng{9}, 1);
  for (float v : b.values()) CHECK((v >= 0.0f && v <= 9.0f));
}

TEST_CASE("regimes: the batches of seed 004's Algorithm 1") {
  hush::tensor clean({4, 1, 2, 2});
  const hush::index_tensor labels({4}, {0, 1, 2, 3});
  for (std::int64_t i = 0; i < clean.numel(); ++i) clean[i] = 0.5f;
  const std::vector<std::int64_t> idx{10, 11, 12, 13};
  const hush::noise::gaussian noise{.sigma = 0.2f};
  const hush::counter_rng rng{1};
  hush::backend::cpu cpu;

  hush::train::clean_only c;
  CHECK(c.clean_per_step(8) == 8);
  CHECK(&c.compose(cpu, clean, labels, idx, 1).x == &clean);

  hush::train::noisy_only n(noise, rng);
  const auto nb = n.compose(cpu, clean, labels, idx, 1);
  CHECK(nb.x.shape() == clean.shape());
  CHECK(nb.x[0] != 0.5f);
  const float first_draw = nb.x[0];
  CHECK(n.compose(cpu, clean, labels, idx, 2).x[0] != first_draw);  // another epoch, another draw
  CHECK(n.compose(cpu, clean, labels, idx, 1).x[0] == first_draw);  // the same epoch, the same draw

  // mixed with k = m/2: a batch of 8 draws 4 clean images; rows 0..3 are their noisy copies.
  hush::train::mixed mx(noise, rng);
  CHECK(mx.clean_per_step(8) == 4);
  const auto mb = mx.compose(cpu, clean, labels, idx, 1);
  REQUIRE(mb.x.shape() == hush::shape{8, 1, 2, 2});
  for (int i = 0; i < 4; ++i) {
    CHECK(mb.y[i] == labels[i]);
    CHECK(mb.y[4 + i] == labels[i]);
    CHECK(mb.x[16 + 4 * i] == 0.5f);
  }
  CHECK(mb.x[0] == first_draw);  // image 10, epoch 1: the noisy-only regime's draw
  CHECK_THROWS_WITH(mx.clean_per_step(7), "paired batch: k = m/2 needs an even batch, got 7");

  // pivot with k = 1 of m = 5: 4 clean images, one noisy copy first.
  hush::train::pivot pv(noise, rng, {.perturbed = 1});
  CHECK(pv.clean_per_step(5) == 4);
  const auto pb = pv.compose(cpu, clean, labels, idx, 1);
  CHECK(pb.x.shape() == hush::shape{5, 1, 2, 2});
  CHECK(pb.y[0] == 0);
  CHECK(pb.y[1] == 0);
  hush::context<hush::backend::cpu> ctx;
  hush::tensor logits({5, 4});
  CHECK(pv.loss(ctx, logits, pb.y) == doctest::Approx(std::log(4.0)));  // equal logits: log K, distance 0
  CHECK(pv.watch() == "dist/pair 0.00  max|logit| 0.0");
  // The noisy row's logits 3 apart from its clean image's in one class, 4 in another: 25 per pair.
  logits[0] = 3.0f, logits[1] = -4.0f;
  pv.loss(ctx, logits, pb.y);
  CHECK(pv.watch() == "dist/pair 12.50  max|logit| 4.0");  // the mean over the two steps since the reset
  pv.watch_reset();
  pv.loss(ctx, logits, pb.y);
  CHECK(pv.watch() == "dist/pair 25.00  max|logit| 4.0");
  CHECK_THROWS_WITH(hush::train::pivot(noise, rng, {.perturbed = 3}).clean_per_step(5),
                    "paired batch: 3 perturbed copies do not fit a batch of 5 (k <= m/2)");
}

TEST_CASE_TEMPLATE_DEFINE("fit: the loss falls, the accuracy rises, the files are written", Regime, fit_learns) {
  const auto train = two_classes(256, 1), test = two_classes(100, 2);
  const auto dir = fresh_dir("fit");
  hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
  Regime regime = [] {
    const hush::noise::gaussian noise{.sigma = hush::noise::range(0.0f, 0.15f)};
    if constexpr (std::is_same_v<Regime, hush::train::clean_only>) return Regime{};
    else if constexpr (requires { typename Regime::options; }) return Regime(noise, hush::counter_rng{4}, {});
    else return Regime(noise, hush::counter_rng{4});
  }();
  const auto h = hush::train::fit(m, regime, train, {{"clean", test}}, tiny_options(dir, 3));
  REQUIRE(h.epochs.size() == 3);
  MESSAGE(Regime::name << ": loss " << h.epochs[0].train_loss << " -> " << h.epochs[2].train_loss << ", test accuracy "
                       << h.epochs[0].test_accuracy[0] << " -> " << h.epochs[2].test_accuracy[0]);
  CHECK(h.tenths.front()[1] > h.epochs[2].train_loss);  // the loss fell
  CHECK(h.tenths.front()[2] < h.epochs[2].train_accuracy);
  CHECK(h.epochs[2].test_accuracy[0] > 90.0);  // chance is 50
  for (const char* f : {"log.csv", "curves.png", "checkpoint.safetensors"}) CHECK(std::filesystem::exists(dir / f));
  std::filesystem::remove_all(dir);
}
TEST_CASE_TEMPLATE_INVOKE(fit_learns, hush::train::clean_only, hush::train::noisy_only<hush::noise::gaussian>,
                          hush::train::mixed<hush::noise::gaussian>, hush::train::pivot<hush::noise::gaussian>);

TEST_CASE("fit: resuming from a checkpoint gives what an uninterrupted run gives") {
  const auto train = two_classes(128, 1), test = two_classes(40, 2);
  const hush::noise::gaussian noise{.sigma = 0.1f};
  const auto whole = fresh_dir("whole"), split = fresh_dir("split");

  hush::model<tiny_net, hush::backend::cpu> a({.seed = 2});
  hush::train::pivot ra(noise, hush::counter_rng{4}, {});
  const auto ha = hush::train::fit(a, ra, train, {{"clean", test}}, tiny_options(whole, 3));

  {  // a run interrupted after its first epoch
    hush::model<tiny_net, hush::backend::cpu> b({.seed = 2});
    hush::train::pivot rb(noise, hush::counter_rng{4}, {});
    auto o = tiny_options(split, 3);
    o.stop_after = 1;
    CHECK(hush::train::fit(b, rb, train, {{"clean", test}}, o).epochs.size() == 1);
  }
  hush::model<tiny_net, hush::backend::cpu> c({.seed = 99});  // another seed: the weights must come from the file
  hush::train::pivot rc(noise, hush::counter_rng{4}, {});
  auto o = tiny_options(split, 3);
  o.resume = true;
  const auto hc = hush::train::fit(c, rc, train, {{"clean", test}}, o);
  REQUIRE(hc.epochs.size() == 3);
  CHECK(weights_of(c.net) == weights_of(a.net));  // bit for bit
  for (int e = 0; e < 3; ++e) {
    CHECK(hc.epochs[e].train_loss == doctest::Approx(ha.epochs[e].train_loss).epsilon(1e-5));  // 5 digits in the log
    INFO("epoch " << e << ": resumed " << hc.epochs[e].test_accuracy[0] << "%, uninterrupted " << ha.epochs[e].test_accuracy[0] << "%");
    CHECK(hc.epochs[e].test_accuracy == ha.epochs[e].test_accuracy);
  }
  CHECK(c.net.get<1>().running_mean.host()[0] == a.net.get<1>().running_mean.host()[0]);

  // A checkpoint of other settings is refused, naming both.
  hush::model<tiny_net, hush::backend::cpu> d({.seed = 2});
  hush::train::pivot rd(noise, hush::counter_rng{4}, {});
  auto other = tiny_options(split, 3);
  other.resume = true, other.batch = 8;
  CHECK_THROWS_WITH_AS(hush::train::fit(d, rd, train, {{"clean", test}}, other),
                       doctest::Contains("was written by another run"), hush::error);
  std::filesystem::remove_all(whole);
  std::filesystem::remove_all(split);
}

TEST_CASE("fit: the recipes a user chooses all learn, and resume exactly") {
  // Steps here: 256 / 16 = 16 per epoch, 48 in all; the step schedules' milestones fall inside.
  const auto train = two_classes(256, 1), test = two_classes(100, 2);
  struct named_recipe {
    std::string name;
    hush::recipe r;
    bool subtract_mean;
  };
  hush::recipe seed004 = hush::recipe::seed004();
  seed004.milestones = {24, 40};  // the seed's 4k and 6k of 8k, scaled to 48 steps
  const std::vector<named_recipe> recipes{
      {"seed 004's (multi-step, no Nesterov, weight decay 1e-4), mean subtracted", seed004, true},
      {"SGD, step schedule", {.lr = 0.1f, .schedule = hush::schedule_choice::step, .step_size = 20}, false},
      {"Adam, cosine", {.optimizer = hush::optimizer_choice::adam, .lr = 1e-2f, .weight_decay = 0,
                        .schedule = hush::schedule_choice::cosine}, false},
      {"AdamW, constant", {.optimizer = hush::optimizer_choice::adamw, .lr = 1e-2f, .weight_decay = 0.01f,
                           .schedule = hush::schedule_choice::constant}, false},
  };
  for (const auto& [name, r, centre] : recipes) {
    INFO(name << ": " << r.describe());
    const auto whole = fresh_dir("recipe-whole"), split = fresh_dir("recipe-split");
    auto o = tiny_options(whole, 3);
    o.recipe = r, o.subtract_mean = centre;
    hush::model<tiny_net, hush::backend::cpu> a({.seed = 2});
    hush::train::clean_only regime;
    const auto h = hush::train::fit(a, regime, train, {{"clean", test}}, o);
    MESSAGE(name << ": loss " << h.tenths.front()[1] << " -> " << h.epochs[2].train_loss << ", test accuracy "
                 << h.epochs[2].test_accuracy[0]);
    CHECK(h.tenths.front()[1] > h.epochs[2].train_loss);
    CHECK(h.epochs[2].test_accuracy[0] > 90.0);
    o.out = split, o.stop_after = 1;
    {
      hush::model<tiny_net, hush::backend::cpu> b({.seed = 2});
      hush::train::fit(b, regime, train, {{"clean", test}}, o);
    }
    o.stop_after = 0, o.resume = true;
    hush::model<tiny_net, hush::backend::cpu> c({.seed = 7});
    hush::train::fit(c, regime, train, {{"clean", test}}, o);
    CHECK(weights_of(c.net) == weights_of(a.net));  // the optimizer's state and the step came back
    std::filesystem::remove_all(whole);
    std::filesystem::remove_all(split);
  }
  // A checkpoint written under another recipe is not continued.
  const auto dir = fresh_dir("recipe-other");
  auto o = tiny_options(dir, 2);
  o.stop_after = 1;
  hush::model<tiny_net, hush::backend::cpu> a({.seed = 2});
  hush::train::clean_only regime;
  hush::train::fit(a, regime, train, {{"clean", test}}, o);
  o.recipe.optimizer = hush::optimizer_choice::adamw, o.resume = true, o.stop_after = 0;
  CHECK_THROWS_WITH_AS(hush::train::fit(a, regime, train, {{"clean", test}}, o), doctest::Contains("AdamW"), hush::error);
  std::filesystem::remove_all(dir);
  CHECK_THROWS_WITH(hush::parse_schedule("linear"), "schedule 'linear': choose one-cycle, cosine, step, multi-step or constant");
  CHECK_THROWS_WITH((hush::recipe{.schedule = hush::schedule_choice::multi_step, .milestones = {10, 5}}.validate()),
                    "recipe: multi-step milestones must be positive and ascending");
}

TEST_CASE("fit: streams an image folder on loader threads, the same run whatever the thread count") {
  // Two classes of 8 x 8 grey PNGs, dark and bright, written from two_classes' images.
  const auto dir = fresh_dir("folder");
  const auto images = two_classes(128, 1);
  for (std::int64_t i = 0; i < images.size(); ++i) {
    cv::Mat m(8, 8, CV_8UC1);
    for (int p = 0; p < 64; ++p) m.at<unsigned char>(p / 8, p % 8) = cv::saturate_cast<unsigned char>(255.0f * images.images[i * 64 + p]);
    const auto sub = dir / (images.labels[i] ? "bright" : "dark");
    std::filesystem::create_directories(sub);
    cv::imwrite((sub / (std::to_string(1000 + i) + ".png")).string(), m);
  }
  auto test_folder = hush::data::image_folder::by_class(dir, {.train = false, .channels = 1});
  const auto test = hush::data::load_all(test_folder);
  CHECK(test.size() == 128);
  {  // the mean image over a streamed folder, a chunk at a time, equals the one over the set in memory
    const auto streamed = hush::data::folder_source(test_folder).pixel_mean(), held = hush::data::pixel_mean(test.images);
    REQUIRE(streamed.shape() == held.shape());
    for (std::int64_t i = 0; i < held.numel(); ++i) CHECK(streamed[i] == doctest::Approx(held[i]).epsilon(1e-6));
  }
  const auto run = [&](int threads) {
    auto folder = hush::data::image_folder::by_class(dir, {.channels = 1});
    hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
    hush::train::clean_only regime;
    auto o = tiny_options({}, 3);
    o.loader_threads = threads;
    const auto h = hush::train::fit(m, regime, hush::data::folder_source(folder), {{"clean", test}}, o);
    CHECK(h.tenths.front()[1] > h.epochs[2].train_loss);
    CHECK(h.epochs[2].test_accuracy[0] > 90.0);
    return weights_of(m.net);
  };
  const auto alone = run(0);
  CHECK(run(2) == alone);  // bit for bit

  // A broken file: named and fatal by default, skipped and counted when asked.
  std::ofstream(dir / "dark" / "1003.png") << "not a png";
  {
    auto folder = hush::data::image_folder::by_class(dir, {.channels = 1});
    hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
    hush::train::clean_only regime;
    CHECK_THROWS_WITH_AS(hush::train::fit(m, regime, hush::data::folder_source(folder), {{"clean", test}}, tiny_options({}, 1)),
                         doctest::Contains("1003.png"), hush::io_error);
  }
  auto lenient = hush::data::image_folder::by_class(dir, {.channels = 1, .broken = hush::data::on_broken::skip});
  hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
  hush::train::clean_only regime;
  CHECK(hush::train::fit(m, regime, hush::data::folder_source(lenient), {{"clean", test}}, tiny_options({}, 2)).epochs.size() == 2);
  REQUIRE(lenient.skipped() == 1);
  CHECK(lenient.skipped_files()[0].filename() == "1003.png");
  std::filesystem::remove_all(dir);
}

TEST_CASE("per-pixel mean: the training images' mean image, subtracted from each") {
  hush::tensor images({2, 1, 1, 2}, std::vector<float>{1, 2, 3, 6});
  const auto mean = hush::data::pixel_mean(images);
  CHECK(mean.shape() == hush::shape{1, 1, 2});
  CHECK(mean[0] == 2.0f);
  CHECK(mean[1] == 4.0f);
  hush::data::subtract_pixel_mean(images, mean);
  CHECK(images.values()[3] == 2.0f);
  hush::tensor other({1, 1, 2, 2});
  CHECK_THROWS_AS(hush::data::subtract_pixel_mean(other, mean), hush::shape_error);
}

// ---- bad settings and broken runs (issue 15) ---------------------------------------------------

namespace {
/// Rewrites one __metadata__ entry of a safetensors file (the header's length follows).
void tamper_metadata(const std::filesystem::path& path, const std::string& key, const std::string& value) {
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  auto header = nlohmann::json::parse(bytes.substr(8, len));
  header["__metadata__"][key] = value;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data stays 8-byte aligned; its offsets are relative
  const std::uint64_t new_len = text.size();
  std::string head(8, '\0');
  std::memcpy(head.data(), &new_len, 8);
  std::ofstream(path, std::ios::binary) << head << text << bytes.substr(8 + len);
}
}  // namespace

TEST_CASE("fit: settings that cannot work and labels that are not classes are refused before any step") {
  const auto train = two_classes(64, 1), test = two_classes(20, 2);
  hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
  hush::train::clean_only regime;
  auto o = tiny_options({}, 1);
  o.recipe.lr = std::nanf("");
  CHECK_THROWS_WITH_AS(hush::train::fit(m, regime, train, {{"clean", test}}, o), doctest::Contains("learning rate must be a positive number"),
                       hush::error);
  o = tiny_options({}, 1);
  auto wrong = test;
  wrong.labels[7] = 2;  // a two-class network
  CHECK_THROWS_WITH_AS(hush::train::fit(m, regime, train, {{"clean", wrong}}, o),
                       doctest::Contains("test set 'clean' label 2 of image 7 is not a class of a 2-class network"), hush::error);
  CHECK_THROWS_WITH_AS(hush::train::fit(m, regime, train, {{"empty", two_classes(0, 2)}}, o),
                       doctest::Contains("fit: test set 'empty' has no images"), hush::error);
  CHECK(m.ctx.step == 0);  // nothing trained
}

TEST_CASE("fit: a loss that becomes NaN stops the run, naming the epoch and step, unless told to go on") {
  const auto train = two_classes(64, 1), test = two_classes(20, 2);
  const auto dir = fresh_dir("nan");
  hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
  hush::train::clean_only regime;
  auto o = tiny_options(dir, 2);
  o.recipe.lr = 1e30f;  // the first step sends the weights to infinity
  o.augment = {};
  CHECK_THROWS_WITH_AS(hush::train::fit(m, regime, train, {{"clean", test}}, o), doctest::Contains(" at epoch 1, step "),
                       hush::error);
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.safetensors"));  // no epoch was whole
  hush::model<tiny_net, hush::backend::cpu> again({.seed = 2});
  o.continue_on_non_finite = true;
  CHECK(hush::train::fit(again, regime, train, {{"clean", test}}, o).epochs.size() == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("fit: a checkpoint whose epoch or log does not hold together is refused, naming it") {
  const auto train = two_classes(64, 1), test = two_classes(20, 2);
  const auto dir = fresh_dir("broken");
  {
    hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
    hush::train::clean_only regime;
    auto o = tiny_options(dir, 3);
    o.stop_after = 1;
    hush::train::fit(m, regime, train, {{"clean", test}}, o);
  }
  const auto checkpoint = dir / "checkpoint.safetensors";
  const auto saved = [&] {
    std::ifstream in(checkpoint, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  const auto refused = [&](const std::string& key, const std::string& value, const std::string& why) {
    std::ofstream(checkpoint, std::ios::binary) << saved;
    tamper_metadata(checkpoint, key, value);
    hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
    hush::train::clean_only regime;
    auto o = tiny_options(dir, 3);
    o.resume = true;
    CHECK_THROWS_WITH_AS(hush::train::fit(m, regime, train, {{"clean", test}}, o), doctest::Contains(why.c_str()), hush::error);
  };
  const std::string header = "epoch,train_loss,train_accuracy,train_seconds,eval_seconds,eval_images,clean\n";
  refused("log", header, "its log has 0 epochs and 1 test sets, for epoch 1");  // was a SIGSEGV
  refused("epoch", "-3", "epoch -3 is not one of this run's 1 to 3");
  refused("epoch", "x", "its epoch 'x' is not a whole number");
  refused("log", header + "1,abc,1,1,1,1,1\n", "its log's loss 'abc' is not a finite number");
  refused("log", header + "1e300,1,1,1,1,1,1\n", "its log's epoch '1e300' is not a whole number");  // no float-to-int overflow
  refused("log", header + "1,1,1,1,1,-4,1\n", "its log's image count '-4' is not a whole number");
  std::filesystem::remove_all(dir);
}
