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
// Data-parallel (o.comm, distributed/): each of the processes trains on its equal shard of every
// batch of o.batch images; gradients are averaged and batch norm's statistics combined over the
// processes (unless o.sync_batch_norm is off), so that n processes train as one on the whole
// batch (tests/distributed.cpp). Test sets are split between them. Process 0 prints and writes
// the files; resuming reads the checkpoint on every process (a file system they share).
//
// Recipe: the user's (optim/recipe.hpp; by default SGD with Nesterov momentum 0.9, weight decay
// 5e-4 and a one-cycle schedule peaking at 0.1), each epoch `train.size() / batch` steps of
// `batch` images (the last partial batch dropped); optionally the training set's per-pixel mean
// subtracted from every image the network sees (seed 004).
// Needs hush::opencv (the curves).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "hush/backend/cpu/tag.hpp"  // batches are prepared on the host
#include "hush/core/error.hpp"
#include "hush/core/printf_string.hpp"
#include "hush/data/augment.hpp"
#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/data/labelled_source.hpp"
#include "hush/data/pixel_mean.hpp"
#include "hush/data/prefetch.hpp"
#include "hush/distributed/communicator.hpp"
#include "hush/distributed/data_parallel.hpp"
#include "hush/distributed/timed.hpp"
#include "hush/graph/model.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/plot.hpp"
#include "hush/metrics/accuracy.hpp"
#include "hush/optim/recipe.hpp"
#include "hush/train/progress.hpp"
#include "hush/train/run_files.hpp"

namespace hush::train {

/// A labelled test set under a name ("clean", "gaussian 0.15", ...).
struct test_set {
  std::string name;
  data::labelled_images data;
};

/// How train::fit trains a classifier: epochs, global batch, recipe, augmentation, output folder
/// and resume, data loading and data-parallel settings. The defaults: 10 epochs of batch 128 with
/// random flips and the default recipe, writing nothing.
struct classifier_options {
  int epochs = 10;
  std::int64_t batch = 128;
  hush::recipe recipe{};  // optimizer, weight decay, schedule
  data::augmentation augment{.flip = true};
  /// Subtract the training images' per-pixel mean from every image the network sees, in
  /// training and in testing (seed 004's preprocessing); computed once from the training set.
  bool subtract_mean = false;
  std::uint64_t seed = 1;
  std::int64_t eval_batch = 0;  // 0: the training batch (this process's shard), so evaluation reuses its buffers
  /// Test images per set evaluated after each epoch but the last (0: all); the last epoch always
  /// uses all of them, so the final table is never a sample.
  std::int64_t curve_images = 0;
  std::filesystem::path out{};  // empty: write nothing
  bool resume = false;        // continue from out/checkpoint.safetensors when it exists
  int stop_after = 0;         // stop after this epoch, as an interrupted run would (0: run to the end)
  /// Threads decoding and augmenting batches ahead of the step, and how many batches they may
  /// hold, for sets decoded from files (in-memory sets gather on the step's own thread: a copy
  /// is cheaper than a hand-off). The batches are the same whatever the count.
  int loader_threads = 1, prefetch = 4;
  /// A step whose loss is NaN or infinite stops the run with a message naming the epoch and
  /// step (the checkpoint of the last whole epoch stays); true lets it go on.
  bool continue_on_non_finite = false;
  std::string title = "training";
  /// The processes sharing the run (none: this one alone); `batch` is the global batch.
  distributed::communicator* comm = nullptr;
  /// Batch norm's statistics over the whole global batch (off: each process's shard's own,
  /// and process 0's running statistics copied to the others after each epoch).
  bool sync_batch_norm = true;
  /// Gradients are summed over the processes in buckets of this many bytes, each sent as soon
  /// as backward has completed it (0: all in one, after backward). Timing only: the sums, and
  /// so the weights, are the same whatever the size.
  std::size_t bucket_bytes = std::size_t(4) << 20;

  /// Throws hush::error naming the first setting that cannot work; fit() calls it first.
  void validate() const {
    const auto bad = [](const std::string& what) { throw error("training options: " + what); };
    if (epochs < 1) bad("epochs must be at least 1, not " + std::to_string(epochs));
    if (batch < 1) bad("the batch must be at least 1, not " + std::to_string(batch));
    recipe.validate();
    if (eval_batch < 0 || curve_images < 0 || stop_after < 0) bad("eval batch, curve images and stop-after must be >= 0");
    if (loader_threads < 0 || prefetch < 2) bad("loader threads must be >= 0 and prefetch >= 2");
    if (const auto p = distributed::size_of(comm); batch % p)
      bad("the batch of " + std::to_string(batch) + " does not split into " + std::to_string(p) + " equal shards, one per process");
  }
};

/// What a run measured, epoch by epoch.
struct history {
  /// One row of log.csv: an epoch's mean training loss and accuracy in percent, its training and
  /// evaluation seconds, the images scored per test set, and each test set's accuracy in percent.
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
                     tensor& x, index_tensor& y, const tensor* mean = nullptr, distributed::communicator* comm = nullptr) {
  const auto n = limit > 0 ? std::min(limit, set.size()) : set.size();
  // Each process scores its own part of the set; the hits are summed.
  const auto p = distributed::size_of(comm), r = distributed::rank_of(comm);
  const auto first = n * r / p, last = n * (r + 1) / p;
  std::int64_t hits = 0;
  for (std::int64_t b = first; b < last; b += batch) {
    const auto end = std::min(b + batch, last);
    data::slice(set.images, b, end, x);
    data::slice(set.labels, b, end, y);
    if (mean) data::subtract_pixel_mean(x, *mean);
    hits += metrics::correct(m.ctx.backend, m.forward(to(m.ctx.backend, x)), to(m.ctx.backend, y));
  }
  if (comm && p > 1) {
    double total[] = {double(hits)};
    comm->all_reduce_sum(std::span<double>(total));
    hits = static_cast<std::int64_t>(total[0]);
  }
  return 100.0 * double(hits) / double(n);
}
}  // namespace detail

/// Trains m under `regime` on `train` (data/labelled_source.hpp: in memory, or an image folder
/// decoded as it goes) and evaluates it on `tests` after each epoch; returns the history. With
/// o.resume and a checkpoint in o.out, continues after the checkpoint's epoch (and refuses a
/// checkpoint written with other settings, naming both).
template <class Net, class Backend, class Regime, class Source>
  requires requires(const Source& s) { s.image_shape(); }
history fit(model<Net, Backend>& m, Regime& regime, const Source& train, const std::vector<test_set>& tests,
            const classifier_options& o) {
  namespace fs = std::filesystem;
  o.validate();
  const auto img = train.image_shape();
  // This process's shard: `shard` of each batch's images, drawing `per_step` of the step's
  // `all_per_step` clean images, from `first_drawn` on.
  const int processes = distributed::size_of(o.comm), rank = distributed::rank_of(o.comm);
  const bool root = rank == 0;
  const auto shard = o.batch / processes, per_step = regime.clean_per_step(shard);
  const auto all_per_step = regime.clean_per_step(o.batch), first_drawn = rank * per_step;
  if (per_step * processes != all_per_step)
    throw error("fit: " + std::string(regime.describe()) + " draws " + std::to_string(all_per_step) +
                " images for a batch of " + std::to_string(o.batch) + " but " + std::to_string(per_step) + " for a shard of " +
                std::to_string(shard) + ": it cannot be split between " + std::to_string(processes) + " processes");
  const std::int64_t steps = train.size() / o.batch;
  if (steps < 1)
    throw error("fit: " + std::to_string(train.size()) + " training images do not fill one batch of " +
                std::to_string(o.batch));
  // Every collective through `comm`, so that the time they take is known (none when alone).
  std::optional<distributed::timed_communicator> timed;
  if (o.comm) timed.emplace(*o.comm);
  distributed::communicator* const comm = o.comm ? &*timed : nullptr;
  m.ctx.batch_norm_group = o.sync_batch_norm ? comm : nullptr;
  m.setup({shard, img[0], img[1], img[2]});
  {  // every label a class of the network, before any work
    const auto classes = m.net.output_shape(m.input_shape())[1];
    train.check_labels(classes, "training");
    for (const auto& t : tests) {
      if (t.data.size() == 0) throw error("fit: test set '" + t.name + "' has no images (its accuracy would be 0/0)");
      data::in_memory_source(t.data).check_labels(classes, "test set '" + t.name + "'");
    }
  }
  chosen_optimizer opt(m.net, o.recipe);
  const std::int64_t total_steps = o.epochs * steps;
  const tensor mean = o.subtract_mean ? train.pixel_mean() : tensor{};
  const counter_rng rng{o.seed};

  // What must match for a checkpoint to be continued.
  const std::string run = printf_string(
      "%s; %s; %lld training images; %d epochs of %lld steps, batch %lld; %s; flip %d, crop padding %lld%s; "
      "seed %llu",
      Net::kind, regime.describe().c_str(), static_cast<long long>(train.size()), o.epochs,
      static_cast<long long>(steps), static_cast<long long>(o.batch), o.recipe.describe().c_str(),
      int(o.augment.flip), static_cast<long long>(o.augment.crop_padding),
      o.subtract_mean ? ", per-pixel mean subtracted" : "", static_cast<unsigned long long>(o.seed));

  history h;
  for (const auto& t : tests) h.test_names.push_back(t.name);
  int first_epoch = 1;
  const fs::path checkpoint = o.out.empty() ? fs::path{} : o.out / "checkpoint.safetensors";
  if (!o.out.empty() && root) io::check_output_folder(o.out, {"log.csv", "curves.png", "checkpoint.safetensors"});
  if (o.resume && !checkpoint.empty() && fs::exists(checkpoint)) {
    auto info = opt.visit([&](auto& chosen) { return resume_checkpoint(checkpoint, run, trained{"", m.net, chosen}); });
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
    if (root) {
      std::printf("%s: resuming after epoch %d of %d (%s)\n", o.title.c_str(), first_epoch - 1, o.epochs,
                  checkpoint.c_str());
      // The log and curves are written after the checkpoint: a run killed between the two left
      // them an epoch behind it. Rewritten from the checkpoint's history, they agree again.
      io::write_file_atomically(o.out / "log.csv", h.csv());
      h.plot(o.out / "curves.png", o.title);
    }
  }
  // Every process starts from process 0's weights (the same already when all start from the
  // seed or the checkpoint; this makes it so whatever they were given).
  if (comm) distributed::start_together(*comm, m.net, first_epoch, "fit", o.out.string());
  distributed::gradient_averager average_gradients(o.bucket_bytes);

  tensor centered, x;
  index_tensor y;
  struct step_batch {
    tensor clean;
    index_tensor labels;
    std::vector<std::int64_t> indices;
  };
  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    const auto order = data::shuffled_order(train.size(), o.seed, static_cast<std::uint64_t>(epoch));
    // The epoch's batches, made ahead on loader threads when they are decoded from files.
    data::prefetcher<step_batch> batches(steps, Source::streams ? o.loader_threads : 0, o.prefetch,
                                         [&](std::int64_t s, step_batch& b) {
                                           const auto begin = s * all_per_step + first_drawn, end = begin + per_step;
                                           train.load(order, begin, end, std::uint64_t(epoch), rng, b.clean, b.labels,
                                                      b.indices);
                                           data::augment(b.clean, b.indices, o.augment, rng, std::uint64_t(epoch));
                                         });
    progress bar(o.title + " epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs), steps);
    double loss_sum = 0, window_loss = 0;
    std::int64_t hits = 0, seen = 0, window_hits = 0, window_seen = 0, window_steps = 0;
    if constexpr (requires { regime.watch_reset(); }) regime.watch_reset();
    m.train();
    if (comm) timed->reset(), average_gradients.reset_time();
    for (std::int64_t s = 0; s < steps; ++s) {
      // A step draws the next per_step images of this epoch's order (mixed and pivot draw
      // fewer than a batch, so they cover part of the order; the next epoch shuffles anew).
      if ((s + 1) * all_per_step > train.size()) throw error("fit: a step would read past the training set");
      auto& drawn = batches.next();
      if (drawn.labels.numel() == 0)
        throw error("fit: every image of step " + std::to_string(s + 1) + " of epoch " + std::to_string(epoch) +
                    " was a broken file (skipped): nothing to train on");
      // Data are prepared on the host, as a data loader does, and moved where the model runs.
      const auto b = regime.compose(backend::cpu{}, drawn.clean, drawn.labels, drawn.indices, static_cast<std::uint64_t>(epoch));
      const tensor* input = &b.x;  // centred after the noise: the noise models act on [0, 1] pixels
      if (o.subtract_mean) centered = b.x, data::subtract_pixel_mean(centered, mean), input = &centered;
      const auto& batch_x = to(m.ctx.backend, *input);
      const auto& batch_y = to(m.ctx.backend, b.y);

      opt.set_lr(o.recipe.lr_at(opt.steps(), total_steps));
      m.zero_grad();
      const auto& logits = m.forward(batch_x);
      double l = regime.loss(m.ctx, logits, batch_y);
      auto h_step = metrics::correct(m.ctx.backend, logits, batch_y);
      auto n = b.y.numel();
      if (processes > 1) {  // the whole batch's figures, on every process (so all stop alike on a NaN)
        double sums[] = {l, double(h_step), double(n)};
        comm->all_reduce_sum(std::span<double>(sums));
        l = sums[0] / processes, h_step = std::int64_t(sums[1]), n = std::int64_t(sums[2]);
      }
      if (!std::isfinite(l) && !o.continue_on_non_finite)
        throw error(o.title + ": the loss is " + std::to_string(l) + " at epoch " + std::to_string(epoch) + ", step " +
                    std::to_string(s + 1) + " of " + std::to_string(steps) +
                    (o.out.empty() ? std::string() : "; the checkpoint of the last whole epoch is kept") +
                    " (a lower learning rate may help)");
      if (processes > 1) average_gradients.arm(*comm, m.net, m.ctx);  // buckets sent as backward completes them
      m.backward(regime.gradient(m.ctx));
      if (processes > 1) average_gradients.finish();
      opt.step(m.ctx.backend);
      ++m.ctx.step;

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
      if (!root) continue;
      if constexpr (requires { regime.watch(); })
        bar.update(s + 1, metrics_text + ("  " + regime.watch()));
      else
        bar.update(s + 1, metrics_text);
    }
    const double train_seconds = bar.seconds();
    const double comm_seconds = comm ? timed->seconds() : 0.0;

    // Evaluation: batch norm's running statistics (folded into the convolutions), every test set.
    const auto eval_start = std::chrono::steady_clock::now();
    if (comm) {
      distributed::check_same_parameters(*comm, m.net, "after epoch " + std::to_string(epoch));
      if (!o.sync_batch_norm) distributed::broadcast_state(*comm, m.net);  // process 0's running statistics
    }
    m.infer();
    history::epoch_row row{epoch, loss_sum / double(steps), 100.0 * double(hits) / double(seen), train_seconds, 0, 0, {}};
    const auto limit = epoch == o.epochs ? 0 : o.curve_images;
    for (const auto& t : tests) {
      row.test_accuracy.push_back(detail::test_accuracy(m, t.data, limit, o.eval_batch > 0 ? o.eval_batch : shard, x, y,
                                                        o.subtract_mean ? &mean : nullptr, comm));
      row.eval_images = limit > 0 ? std::min(limit, t.data.size()) : t.data.size();
    }
    m.train();
    row.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    h.epochs.push_back(row);
    if (!root) continue;
    std::string line = o.title + " epoch " + std::to_string(epoch);
    if constexpr (requires { regime.watch(); }) line += " (" + regime.watch() + ")";
    line += ": test accuracy";
    for (std::size_t i = 0; i < tests.size(); ++i) {
      char cell[64];
      std::snprintf(cell, sizeof cell, "%s %s %.2f%%", i ? "," : "", tests[i].name.c_str(), row.test_accuracy[i]);
      line += cell;
    }
    std::printf("%s (%lld images each; train %.1f s, of which waiting for data %.1f s; eval %.1f s)\n", line.c_str(),
                static_cast<long long>(row.eval_images), train_seconds, batches.waited_seconds(), row.eval_seconds);
    if (processes > 1) detail::print_communication(o.title, epoch, comm_seconds, train_seconds, steps, average_gradients);
    std::fflush(stdout);

    if (!o.out.empty()) {  // each file whole and atomic; the checkpoint first, so that the log
      // and curves are never ahead of it (resuming rewrites them from it)
      fs::create_directories(o.out);
      opt.visit([&](auto& chosen) {
        save_checkpoint(checkpoint, m.net, chosen,
                        {{"epoch", std::to_string(epoch)}, {"run", run}, {"log", h.csv()}, {"tenths", h.tenths_csv()}});
      });
      io::write_file_atomically(o.out / "log.csv", h.csv());
      h.plot(o.out / "curves.png", o.title);
    }
  }
  return h;
}

/// The same, from labelled images held in memory.
template <class Net, class Backend, class Regime>
history fit(model<Net, Backend>& m, Regime& regime, const data::labelled_images& train,
            const std::vector<test_set>& tests, const classifier_options& o) {
  return fit(m, regime, data::in_memory_source(train), tests, o);
}

}  // namespace hush::train
