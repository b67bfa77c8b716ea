#pragma once
// Training an image classifier under a regime (train/regime.hpp), in a way a user can watch and
// trust: epochs of mini-batches with a progress line, evaluation after each epoch on the clean
// test set and on its noisy copies, and after every epoch, written atomically into `out`:
//   log.csv                   one row per epoch: training loss and accuracy, test accuracies, times
//   curves.png                loss and accuracy curves (seed 000's Figure 7, with every test set)
//   checkpoint.safetensors    weights, optimizer state and the history so far
// Resuming from the checkpoint continues exactly where the run stopped: the data order,
// augmentation and noise are keyed by (seed, epoch, image), the learning rate by the step, and
// batch norm's statistics travel with the weights, so the result equals an uninterrupted run's.
//
// Recipe: SGD (momentum, Nesterov, weight decay) with a one-cycle schedule peaking at `lr`, each
// epoch `train.size() / batch` steps of `batch` images (the last partial batch dropped).
// Needs hush::opencv (the curves).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "hush/backend/cpu/tag.hpp"  // batches are prepared on the host
#include "hush/core/error.hpp"
#include "hush/data/augment.hpp"
#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/graph/model.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/plot.hpp"
#include "hush/metrics/accuracy.hpp"
#include "hush/optim/schedule.hpp"
#include "hush/optim/sgd.hpp"
#include "hush/train/progress.hpp"

namespace hush::train {

/// A labelled test set under a name ("clean", "gaussian 0.15", ...).
struct test_set {
  std::string name;
  data::labelled_images data;
};

struct classifier_options {
  int epochs = 10;
  std::int64_t batch = 128;
  float lr = 0.1f;  // the one-cycle peak
  float momentum = 0.9f, weight_decay = 5e-4f;
  bool nesterov = true;
  data::augmentation augment{.flip = true};
  std::uint64_t seed = 1;
  std::int64_t eval_batch = 0;  // 0: the training batch, so evaluation reuses its buffers
  /// Test images per set evaluated after each epoch but the last (0: all); the last epoch always
  /// uses all of them, so the final table is never a sample.
  std::int64_t curve_images = 0;
  std::filesystem::path out;  // empty: write nothing
  bool resume = false;        // continue from out/checkpoint.safetensors when it exists
  int stop_after = 0;         // stop after this epoch, as an interrupted run would (0: run to the end)
  /// A step whose loss is NaN or infinite stops the run with a message naming the epoch and
  /// step (the checkpoint of the last whole epoch stays); true lets it go on.
  bool continue_on_non_finite = false;
  std::string title = "training";

  /// Throws hush::error naming the first setting that cannot work; fit() calls it first.
  void validate() const {
    const auto bad = [](const std::string& what) { throw error("training options: " + what); };
    if (epochs < 1) bad("epochs must be at least 1, not " + std::to_string(epochs));
    if (batch < 1) bad("the batch must be at least 1, not " + std::to_string(batch));
    if (!(std::isfinite(lr) && lr > 0)) bad("the learning rate must be a positive number, not " + std::to_string(lr));
    if (!(std::isfinite(momentum) && momentum >= 0 && momentum < 1)) bad("momentum must be in [0, 1), not " + std::to_string(momentum));
    if (!(std::isfinite(weight_decay) && weight_decay >= 0)) bad("weight decay must be >= 0, not " + std::to_string(weight_decay));
    if (eval_batch < 0 || curve_images < 0 || stop_after < 0) bad("eval batch, curve images and stop-after must be >= 0");
  }
};

/// What a run measured, epoch by epoch.
struct history {
  struct epoch_row {
    int epoch = 0;
    double train_loss = 0, train_accuracy = 0, train_seconds = 0, eval_seconds = 0;
    std::int64_t eval_images = 0;         // per test set
    std::vector<double> test_accuracy;    // in the order of test_names
  };
  std::vector<std::string> test_names;
  std::vector<epoch_row> epochs;
  /// Training loss and accuracy over every tenth of an epoch: (epoch as a fraction, loss, accuracy).
  std::vector<std::array<double, 3>> tenths;

  std::string csv() const {
    std::string s = "epoch,train_loss,train_accuracy,train_seconds,eval_seconds,eval_images";
    for (const auto& n : test_names) s += "," + n;
    s += "\n";
    for (const auto& e : epochs) {
      char row[160];
      std::snprintf(row, sizeof row, "%d,%.5f,%.3f,%.1f,%.1f,%lld", e.epoch, e.train_loss, e.train_accuracy,
                    e.train_seconds, e.eval_seconds, static_cast<long long>(e.eval_images));
      s += row;
      for (double a : e.test_accuracy) {
        std::snprintf(row, sizeof row, ",%.3f", a);
        s += row;
      }
      s += "\n";
    }
    return s;
  }
  std::string tenths_csv() const {
    std::string s;
    for (const auto& t : tenths) {
      char row[96];
      std::snprintf(row, sizeof row, "%.4f,%.6f,%.4f\n", t[0], t[1], t[2]);
      s += row;
    }
    return s;
  }
  /// Reads back what csv() and tenths_csv() wrote (a checkpoint's metadata); `where` names the
  /// checkpoint in errors.
  static history parse(const std::string& csv, const std::string& tenths, const std::string& where = "a checkpoint") {
    history h;
    const auto number = [&](const std::string& cell, const char* what) {
      try {
        std::size_t used = 0;
        const double v = std::stod(cell, &used);
        if (used == cell.size() && std::isfinite(v)) return v;
      } catch (const std::exception&) {
      }
      throw io_error(where + ": its log's " + what + " '" + cell + "' is not a finite number");
    };
    const auto count = [&](const std::string& cell, const char* what) {  // converted only when it fits
      const double v = number(cell, what);
      if (!(v >= 0 && v <= 1e12 && v == std::floor(v)))
        throw io_error(where + ": its log's " + what + " '" + cell + "' is not a whole number from 0 to 10^12");
      return static_cast<std::int64_t>(v);
    };
    std::istringstream in(csv);
    std::string line;
    std::getline(in, line);
    auto cells = [](const std::string& l) {
      std::vector<std::string> c;
      std::stringstream ss(l);
      for (std::string cell; std::getline(ss, cell, ',');) c.push_back(cell);
      return c;
    };
    const auto header = cells(line);
    if (header.size() < 6) throw io_error(where + ": its log has no header");
    h.test_names.assign(header.begin() + 6, header.end());
    while (std::getline(in, line)) {
      const auto c = cells(line);
      if (c.size() != header.size())
        throw io_error(where + ": a row of its log has " + std::to_string(c.size()) + " cells, its header " + std::to_string(header.size()));
      const auto epoch = count(c[0], "epoch");
      if (epoch > 1'000'000) throw io_error(where + ": its log's epoch " + c[0] + " is beyond any run");
      epoch_row e{int(epoch), number(c[1], "loss"), number(c[2], "accuracy"), number(c[3], "seconds"), number(c[4], "seconds"),
                  count(c[5], "image count"), {}};
      for (std::size_t i = 6; i < c.size(); ++i) e.test_accuracy.push_back(number(c[i], "accuracy"));
      h.epochs.push_back(e);
    }
    std::istringstream tin(tenths);
    while (std::getline(tin, line)) {
      const auto c = cells(line);
      if (c.size() == 3) h.tenths.push_back({number(c[0], "epoch"), number(c[1], "loss"), number(c[2], "accuracy")});
    }
    return h;
  }

  /// Loss and accuracy panels, side by side: training curves per tenth of an epoch, test
  /// accuracy per epoch for every test set.
  void plot(const std::filesystem::path& path, const std::string& title) const {
    io::series loss{"train", {}, {}}, train_acc{"train", {}, {}};
    for (const auto& t : tenths) loss.x.push_back(t[0]), loss.y.push_back(t[1]), train_acc.x.push_back(t[0]), train_acc.y.push_back(t[2]);
    io::chart accuracy{title + ": accuracy", "epoch", "accuracy (%)", {train_acc}};
    for (std::size_t i = 0; i < test_names.size(); ++i) {
      io::series s{"test, " + test_names[i], {}, {}};
      for (const auto& e : epochs) s.x.push_back(e.epoch), s.y.push_back(e.test_accuracy[i]);
      accuracy.lines.push_back(s);
    }
    io::save_charts(path, {{title + ": training loss", "epoch", "loss", {loss}}, accuracy});
  }
};

namespace detail {
/// Throws hush::error unless every label of `set` is in [0, classes).
inline void check_labels(const data::labelled_images& set, const std::string& what, std::int64_t classes) {
  for (std::int64_t i = 0; i < set.labels.numel(); ++i) {
    const auto v = set.labels[i];
    if (v < 0 || v >= classes)
      throw error("fit: " + what + " label " + std::to_string(v) + " of image " + std::to_string(i) + " is not a class of a " +
                  std::to_string(classes) + "-class network");
  }
}
/// A checkpoint's epoch, as a whole number.
inline int epoch_of(const std::string& text, const std::string& where) {
  try {
    std::size_t used = 0;
    const int e = std::stoi(text, &used);
    if (used == text.size()) return e;
  } catch (const std::exception&) {
  }
  throw io_error(where + ": its epoch '" + text + "' is not a whole number");
}

template <class Net, class Backend>
double test_accuracy(model<Net, Backend>& m, const data::labelled_images& set, std::int64_t limit, std::int64_t batch,
                     tensor& x, index_tensor& y) {
  const auto n = limit > 0 ? std::min(limit, set.size()) : set.size();
  std::int64_t hits = 0;
  for (std::int64_t b = 0; b < n; b += batch) {
    const auto end = std::min(b + batch, n);
    data::slice(set.images, b, end, x);
    data::slice(set.labels, b, end, y);
    hits += metrics::correct(m.ctx.backend, m.forward(to(m.ctx.backend, x)), to(m.ctx.backend, y));
  }
  return 100.0 * double(hits) / double(n);
}
}  // namespace detail

/// Trains m under `regime` and evaluates it on `tests` after each epoch; returns the history.
/// With o.resume and a checkpoint in o.out, continues after the checkpoint's epoch (and refuses
/// a checkpoint written with other settings, naming both).
template <class Net, class Backend, class Regime>
history fit(model<Net, Backend>& m, Regime& regime, const data::labelled_images& train,
            const std::vector<test_set>& tests, const classifier_options& o) {
  namespace fs = std::filesystem;
  o.validate();
  const auto& img = train.images.shape();
  const auto per_step = regime.clean_per_step(o.batch);
  const std::int64_t steps = train.size() / o.batch;
  if (steps < 1)
    throw error("fit: " + std::to_string(train.size()) + " training images do not fill one batch of " +
                std::to_string(o.batch));
  m.setup({o.batch, img[1], img[2], img[3]});
  {  // every label a class of the network, before any work
    const auto classes = m.net.output_shape(m.input_shape())[1];
    detail::check_labels(train, "training", classes);
    for (const auto& t : tests) detail::check_labels(t.data, "test set '" + t.name + "'", classes);
  }
  sgd opt(m.net, {.lr = o.lr, .momentum = o.momentum, .weight_decay = o.weight_decay, .nesterov = o.nesterov});
  const one_cycle_schedule schedule{o.lr, o.epochs * steps};
  const counter_rng rng{o.seed};

  // What must match for a checkpoint to be continued.
  char run_text[512];
  std::snprintf(run_text, sizeof run_text,
                "%s; %s; %lld training images; %d epochs of %lld steps, batch %lld; one-cycle lr %g, momentum %g%s, "
                "weight decay %g; flip %d, crop padding %lld; seed %llu",
                Net::kind, regime.describe().c_str(), static_cast<long long>(train.size()), o.epochs,
                static_cast<long long>(steps), static_cast<long long>(o.batch), double(o.lr), double(o.momentum),
                o.nesterov ? " (Nesterov)" : "", double(o.weight_decay), int(o.augment.flip),
                static_cast<long long>(o.augment.crop_padding), static_cast<unsigned long long>(o.seed));
  const std::string run = run_text;

  history h;
  for (const auto& t : tests) h.test_names.push_back(t.name);
  int first_epoch = 1;
  const fs::path checkpoint = o.out.empty() ? fs::path{} : o.out / "checkpoint.safetensors";
  if (!o.out.empty()) io::check_output_folder(o.out, {"log.csv", "curves.png", "checkpoint.safetensors"});
  if (o.resume && !checkpoint.empty() && fs::exists(checkpoint)) {
    auto info = load_checkpoint(checkpoint, m.net, opt);
    require_same_run(info, run, checkpoint);
    h = history::parse(info["log"], info["tenths"], checkpoint.string());
    const int done = detail::epoch_of(info["epoch"], checkpoint.string());
    if (done < 1 || done > o.epochs)
      throw io_error(checkpoint.string() + ": epoch " + std::to_string(done) + " is not one of this run's 1 to " + std::to_string(o.epochs));
    if (h.epochs.size() != std::size_t(done) || h.epochs.back().epoch != done || h.test_names.size() != tests.size())
      throw io_error(checkpoint.string() + ": its log has " + std::to_string(h.epochs.size()) + " epochs and " +
                     std::to_string(h.test_names.size()) + " test sets, for epoch " + std::to_string(done) + " and " +
                     std::to_string(tests.size()) + " test sets: it does not belong to this run");
    first_epoch = done + 1;
    m.ctx.step = static_cast<std::uint64_t>(opt.steps());
    std::printf("%s: resuming after epoch %d of %d (%s)\n", o.title.c_str(), first_epoch - 1, o.epochs,
                checkpoint.c_str());
    // The log and curves are written after the checkpoint: a run killed between the two left
    // them an epoch behind it. Rewritten from the checkpoint's history, they agree again.
    io::write_file_atomically(o.out / "log.csv", h.csv());
    h.plot(o.out / "curves.png", o.title);
  }

  tensor clean, x;
  index_tensor labels, y;
  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    const auto order = data::shuffled_order(train.size(), o.seed, static_cast<std::uint64_t>(epoch));
    progress bar(o.title + " epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs), steps);
    double loss_sum = 0, window_loss = 0;
    std::int64_t hits = 0, seen = 0, window_hits = 0, window_seen = 0, window_steps = 0;
    if constexpr (requires { regime.watch_reset(); }) regime.watch_reset();
    m.train();
    for (std::int64_t s = 0; s < steps; ++s) {
      // A step draws the next per_step images of this epoch's order (mixed and pivot draw
      // fewer than a batch, so they cover part of the order; the next epoch shuffles anew).
      const auto begin = s * per_step, end = begin + per_step;
      if (end > train.size()) throw error("fit: a step would read past the training set");
      data::gather(train.images, order, begin, end, clean);
      data::gather(train.labels, order, begin, end, labels);
      const std::span<const std::int64_t> indices(order.data() + begin, static_cast<std::size_t>(per_step));
      data::augment(clean, indices, o.augment, rng, static_cast<std::uint64_t>(epoch));
      // Data are prepared on the host, as a data loader does, and moved where the model runs.
      const auto b = regime.compose(backend::cpu{}, clean, labels, indices, static_cast<std::uint64_t>(epoch));
      const auto& batch_x = to(m.ctx.backend, b.x);
      const auto& batch_y = to(m.ctx.backend, b.y);

      opt.opt.lr = schedule(opt.steps());
      m.zero_grad();
      const auto& logits = m.forward(batch_x);
      const double l = regime.loss(m.ctx, logits, batch_y);
      if (!std::isfinite(l) && !o.continue_on_non_finite)
        throw error(o.title + ": the loss is " + std::to_string(l) + " at epoch " + std::to_string(epoch) + ", step " +
                    std::to_string(s + 1) + " of " + std::to_string(steps) +
                    (o.out.empty() ? std::string() : "; the checkpoint of the last whole epoch is kept") +
                    " (a lower learning rate may help)");
      const auto h_step = metrics::correct(m.ctx.backend, logits, batch_y);
      m.backward(regime.gradient(m.ctx));
      opt.step(m.ctx.backend);
      ++m.ctx.step;

      const auto n = b.y.numel();
      loss_sum += l, hits += h_step, seen += n;
      window_loss += l, window_hits += h_step, window_seen += n, ++window_steps;
      if ((s + 1) * 10 / steps != s * 10 / steps) {  // a tenth of the epoch is complete
        h.tenths.push_back({epoch - 1 + double(s + 1) / double(steps), window_loss / double(window_steps),
                            100.0 * double(window_hits) / double(window_seen)});
        window_loss = 0, window_hits = 0, window_seen = 0, window_steps = 0;
      }
      char metrics_text[96];
      std::snprintf(metrics_text, sizeof metrics_text, "loss %.4f  acc %.2f%%", loss_sum / double(s + 1),
                    100.0 * double(hits) / double(seen));
      if constexpr (requires { regime.watch(); })
        bar.update(s + 1, metrics_text + ("  " + regime.watch()));
      else
        bar.update(s + 1, metrics_text);
    }
    const double train_seconds = bar.seconds();

    // Evaluation: batch norm's running statistics (folded into the convolutions), every test set.
    const auto eval_start = std::chrono::steady_clock::now();
    m.infer();
    history::epoch_row row{epoch, loss_sum / double(steps), 100.0 * double(hits) / double(seen), train_seconds, 0, 0, {}};
    const auto limit = epoch == o.epochs ? 0 : o.curve_images;
    for (const auto& t : tests) {
      row.test_accuracy.push_back(detail::test_accuracy(m, t.data, limit, o.eval_batch > 0 ? o.eval_batch : o.batch, x, y));
      row.eval_images = limit > 0 ? std::min(limit, t.data.size()) : t.data.size();
    }
    m.train();
    row.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    h.epochs.push_back(row);
    std::string line = o.title + " epoch " + std::to_string(epoch);
    if constexpr (requires { regime.watch(); }) line += " (" + regime.watch() + ")";
    line += ": test accuracy";
    for (std::size_t i = 0; i < tests.size(); ++i) {
      char cell[64];
      std::snprintf(cell, sizeof cell, "%s %s %.2f%%", i ? "," : "", tests[i].name.c_str(), row.test_accuracy[i]);
      line += cell;
    }
    std::printf("%s (%lld images each; train %.1f s, eval %.1f s)\n", line.c_str(),
                static_cast<long long>(row.eval_images), train_seconds, row.eval_seconds);
    std::fflush(stdout);

    if (!o.out.empty()) {  // each file whole and atomic; the checkpoint first, so that the log
      // and curves are never ahead of it (resuming rewrites them from it)
      fs::create_directories(o.out);
      save_checkpoint(checkpoint, m.net, opt,
                      {{"epoch", std::to_string(epoch)}, {"run", run}, {"log", h.csv()}, {"tenths", h.tenths_csv()}});
      io::write_file_atomically(o.out / "log.csv", h.csv());
      h.plot(o.out / "curves.png", o.title);
    }
  }
  return h;
}

}  // namespace hush::train
