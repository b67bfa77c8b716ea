#pragma once
// fit_gan: epochs of adversarial steps (train/adversarial.hpp) over numbered batches, with the
// denoiser trainer's care: a progress line, and after every epoch, written atomically into `out`:
//   log.csv                   per epoch: D's loss on real and generated, G's content and
//                             adversarial terms, validation PSNR and SSIM, times; with a
//                             classifier in D its cross-entropies and accuracy on real images
//   curves.png                the losses per tenth of an epoch, validation PSNR and SSIM
//   grids/epoch_NNN.png       a fixed batch: input / generated / real
//   checkpoint.safetensors    both networks and both optimizers ("generator.", "discriminator.")
//   generator.safetensors     the generator's weights alone, with `metadata` (hush-denoise reads
//                             a denoiser's from there)
//   discriminator.safetensors the discriminator's
// Batch k of the run is a function of k alone, so resuming from the checkpoint equals an
// uninterrupted run. Data-parallel (o.comm): process r trains on images r·N/n ... of each batch
// of N that `data` makes (so the same images as one process), the validation is data's.
// Needs hush::opencv (grids, curves).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/printf_string.hpp"
#include "hush/distributed/data_parallel.hpp"
#include "hush/distributed/timed.hpp"
#include "hush/graph/model.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/image_grid.hpp"
#include "hush/io/plot.hpp"
#include "hush/train/adversarial.hpp"
#include "hush/train/log_csv.hpp"
#include "hush/train/progress.hpp"
#include "hush/train/run_files.hpp"

namespace hush::train {

/// The adversarial recipe and the run around it.
struct gan_options : adversarial_options {
  int epochs = 10;
  std::int64_t steps = 100;  // generator updates per epoch
  std::uint64_t seed = 1;
  std::filesystem::path out{};  // empty: write nothing
  bool resume = false;
  int stop_after = 0;  // stop after this epoch, as an interrupted run would (0: run to the end)
  bool continue_on_non_finite = false;
  std::string title = "gan";
  std::map<std::string, std::string> metadata{};  // into the generator's weights file and the checkpoint
  std::string data;  // what the batches are (photos, noise): part of the run's identity, for resume
  /// The processes sharing the run (none: this one alone): each takes its equal share of every
  /// batch, gradients and batch norm's statistics are combined over them (as the classifier's
  /// trainer does), and process 0 prints and writes the files.
  distributed::communicator* comm = nullptr;
  bool sync_batch_norm = true;
  std::size_t bucket_bytes = std::size_t(4) << 20;

  /// Throws hush::error naming the first setting that cannot work.
  void validate() const {
    adversarial_options::validate();
    const auto bad = [](const std::string& what) { throw error("GAN training: " + what); };
    if (epochs < 1) bad("epochs must be at least 1, not " + std::to_string(epochs));
    if (steps < 1) bad("steps per epoch must be at least 1, not " + std::to_string(steps));
    if (stop_after < 0) bad("stop-after must be >= 0");
  }
};

/// What a run measured, epoch by epoch.
struct gan_history {
  /// One row of log.csv: the means over an epoch's steps of D's losses on real and generated images,
  /// G's content and adversarial terms and, with a classifier in D, its cross-entropies and accuracy;
  /// then the validation PSNR and SSIM and the seconds spent training and evaluating.
  struct epoch_row {
    int epoch = 0;
    double d_real = 0, d_fake = 0, g_content = 0, g_adversarial = 0, val_psnr = 0, val_ssim = 0, train_seconds = 0,
           eval_seconds = 0;
    double d_class = 0, g_class = 0, class_accuracy = 0;  // with a classifier in D (else 0)
  };
  std::vector<epoch_row> epochs;
  /// (epoch as a fraction, D's loss (real + generated), G's adversarial term, G's content term),
  /// means over each tenth of an epoch.
  std::vector<std::array<double, 4>> tenths;

  static constexpr const char* header =
      "epoch,d_loss_real,d_loss_fake,g_content,g_adversarial,val_psnr,val_ssim,train_seconds,eval_seconds,d_class,g_class,"
      "class_accuracy";

  std::string csv() const {
    std::string s = std::string(header) + "\n";
    for (const auto& e : epochs) {
      char row[256];
      std::snprintf(row, sizeof row, "%d,%.6f,%.6f,%.6f,%.6f,%.4f,%.5f,%.1f,%.1f,%.6f,%.6f,%.5f\n", e.epoch, e.d_real,
                    e.d_fake, e.g_content, e.g_adversarial, e.val_psnr, e.val_ssim, e.train_seconds, e.eval_seconds,
                    e.d_class, e.g_class, e.class_accuracy);
      s += row;
    }
    return s;
  }
  std::string tenths_csv() const {
    std::string s;
    for (const auto& t : tenths) {
      char row[128];
      std::snprintf(row, sizeof row, "%.4f,%.7f,%.7f,%.7f\n", t[0], t[1], t[2], t[3]);
      s += row;
    }
    return s;
  }
  /// Reads back what csv() and tenths_csv() wrote; `where` names the checkpoint in errors.
  static gan_history parse(const std::string& csv, const std::string& tenths, const std::string& where) {
    const auto number = [&](const std::string& cell) { return detail::csv_number(cell, where); };
    gan_history h;
    detail::csv_rows(csv, header, 12, where, "log", [&](const std::vector<std::string>& c) {
      h.epochs.push_back({detail::csv_epoch(c[0], where), number(c[1]), number(c[2]), number(c[3]), number(c[4]),
                          number(c[5]), number(c[6]), number(c[7]), number(c[8]), number(c[9]), number(c[10]),
                          number(c[11])});
    });
    detail::csv_rows(tenths, "", 4, where, "loss tenths", [&](const std::vector<std::string>& c) {
      h.tenths.push_back({number(c[0]), number(c[1]), number(c[2]), number(c[3])});
    });
    return h;
  }

  /// Seed 001's Figures 6-8: both networks' losses as training goes; the content term;
  /// validation PSNR and SSIM per epoch.
  void plot(const std::filesystem::path& path, const std::string& title) const {
    io::series d{"discriminator (real + generated)", {}, {}}, g{"generator, adversarial term", {}, {}};
    io::series content{"generator, content term", {}, {}};
    for (const auto& t : tenths)
      d.x.push_back(t[0]), d.y.push_back(t[1]), g.x.push_back(t[0]), g.y.push_back(t[2]), content.x.push_back(t[0]),
          content.y.push_back(t[3]);
    io::series psnr{"validation", {}, {}}, ssim{"validation", {}, {}};
    for (const auto& e : epochs)
      psnr.x.push_back(e.epoch), psnr.y.push_back(e.val_psnr), ssim.x.push_back(e.epoch), ssim.y.push_back(e.val_ssim);
    std::vector<io::chart> charts{{title + ": adversarial losses", "epoch", "loss", {d, g}},
                                  {title + ": content loss", "epoch", "loss", {content}},
                                  {title + ": validation PSNR", "epoch", "PSNR (dB)", {psnr}},
                                  {title + ": validation SSIM", "epoch", "SSIM", {ssim}}};
    io::series accuracy{"real images", {}, {}};
    for (const auto& e : epochs)
      if (e.class_accuracy > 0) accuracy.x.push_back(e.epoch), accuracy.y.push_back(e.class_accuracy);
    if (!accuracy.x.empty())  // seed 002's Figure 6: the classifier in D, as training goes
      charts.push_back({title + ": the discriminator's classifier", "epoch", "accuracy", {accuracy}});
    io::save_charts(path, charts);
  }
};

/// What fit_gan needs besides the networks: numbered training batches, a fixed batch to draw
/// each epoch, and the validation score.
template <class G, class Backend>
struct gan_data {
  /// Fills batch k of the run (input, real) in host memory; the same k always gives the same batch.
  std::function<void(std::uint64_t k, tensor& input, tensor& real)> batch;
  /// A conditional GAN's: fills batch k's condition (N, K), which the discriminator sees joined
  /// to the images (adversarial.hpp's gan_batch). Empty: not conditional.
  std::function<void(std::uint64_t k, tensor& condition)> condition;
  /// With a classifier in the discriminator (adversarial_options::classes): fills batch k's
  /// labels (N), class indices.
  std::function<void(std::uint64_t k, index_tensor& labels)> labels;
  /// Drawn after each epoch (input, G's output, real): a few images, (N, C, H, W) in [0, 1].
  tensor grid_input, grid_real;
  /// Validation (PSNR, SSIM) of the generator as it is (its mode is set back to train after).
  std::function<std::array<double, 2>(model<G, Backend>&)> validate;
};

namespace detail {
/// Keeps images (or rows) `rank`·N/n ... (rank+1)·N/n - 1 of a batch of N: a process's shard.
template <class T>
void keep_shard(T& batch, int rank, int processes, const char* what) {
  if (processes == 1) return;
  auto s = batch.shape();
  if (s[0] % processes)
    throw error(std::string("fit_gan: a batch of ") + std::to_string(s[0]) + " " + what + " does not split into " +
                std::to_string(processes) + " equal shards, one per process");
  const auto n = s[0] / processes, per = batch.numel() / s[0];
  s[0] = n;
  T shard(s);
  std::copy(batch.data() + rank * n * per, batch.data() + (rank + 1) * n * per, shard.data());
  batch = std::move(shard);
}

/// `input` (N, C, h, w) enlarged to `want` (N, C, H, W) by whole factors (nearest), as a coarse
/// input is shown beside its restoration; empty when it is not an image of that kind.
inline tensor enlarged_like(const tensor& input, shape want) {
  const auto& s = input.shape();
  if (s.rank != 4 || want.rank != 4 || s[0] != want[0] || s[1] != want[1] || want[2] % s[2] != 0 || want[3] % s[3] != 0)
    return {};
  const std::int64_t fy = want[2] / s[2], fx = want[3] / s[3];
  tensor out(want);
  for (std::int64_t p = 0; p < want[0] * want[1]; ++p)
    for (std::int64_t y = 0; y < want[2]; ++y)
      for (std::int64_t x = 0; x < want[3]; ++x)
        out[(p * want[2] + y) * want[3] + x] = input[(p * s[2] + y / fy) * s[3] + x / fx];
  return out;
}
}  // namespace detail

/// Trains g against d; returns the history (resumed runs include the epochs before).
template <class G, class D, class Backend, class Content>
gan_history fit_gan(model<G, Backend>& g, model<D, Backend>& d, const gan_data<G, Backend>& data, const gan_options& o,
                    Content content = Content{}) {
  namespace fs = std::filesystem;
  o.validate();
  if (!data.batch || !data.validate) throw error("fit_gan: the data needs a batch function and a validation function");
  const int processes = distributed::size_of(o.comm), rank = distributed::rank_of(o.comm);
  const bool root = rank == 0;
  std::optional<distributed::timed_communicator> timed;  // every collective timed (none when alone)
  if (o.comm) timed.emplace(*o.comm);
  distributed::communicator* const comm = o.comm ? &*timed : nullptr;
  g.ctx.batch_norm_group = d.ctx.batch_norm_group = o.sync_batch_norm ? comm : nullptr;
  tensor input, real;
  const auto make_batch = [&](std::uint64_t k) {  // this process's shard of batch k
    data.batch(k, input, real);
    detail::keep_shard(input, rank, processes, "inputs");
    detail::keep_shard(real, rank, processes, "real images");
  };
  make_batch(0);  // the shapes: both networks are set up before a checkpoint loads
  g.setup(input.shape());
  if (g.net.output_shape(input.shape()) != real.shape())
    throw shape_error(std::string("fit_gan: ") + G::kind + " gives " + g.net.output_shape(input.shape()).str() + " for " +
                      input.shape().str() + ", the real images are " + real.shape().str());
  if (data.condition) {  // D sees the images joined to the condition's K planes
    tensor condition;
    data.condition(0, condition);
    detail::keep_shard(condition, rank, processes, "conditions");
    const auto& r = real.shape();
    if (condition.shape().rank != 2 || condition.shape()[0] != r.n())
      throw shape_error("fit_gan: the condition must be (N, K) for real images " + r.str() + ", not " + condition.shape().str());
    d.setup({r.n(), r.c() + condition.shape()[1], r.h(), r.w()});
  } else {
    d.setup(real.shape());
  }
  adversarial_training<G, D, Backend, Content> pair(g, d, o, std::move(content));
  pair.distribute(comm, o.bucket_bytes);
  const std::int64_t total = std::int64_t(o.epochs) * o.steps;

  const std::string run = printf_string(
      "%s against %s; %s loss, %s critic updates x%d, clip %g; content %g, adversarial %g; G Adam lr %g "
      "(%g, %g)%s, D Adam lr %g (%g, %g)%s; %d epochs of %lld steps, input %s; %s; seed %llu",
      G::kind, D::kind, name_of(o.adversarial), name_of(o.update), o.critic_steps, double(o.clip),
      double(o.content_weight), double(o.adversarial_weight), double(o.generator.lr), double(o.generator.beta1),
      double(o.generator.beta2), o.generator.cosine ? " cosine" : "", double(o.discriminator.lr),
      double(o.discriminator.beta1), double(o.discriminator.beta2), o.discriminator.cosine ? " cosine" : "",
      o.epochs, static_cast<long long>(o.steps), input.shape().str().c_str(), o.data.c_str(),
      static_cast<unsigned long long>(o.seed));

  gan_history h;
  int first_epoch = 1;
  const fs::path checkpoint = o.out.empty() ? fs::path{} : o.out / "checkpoint.safetensors";
  if (!o.out.empty() && root)
    io::check_output_folder(o.out, {"log.csv", "curves.png", "checkpoint.safetensors", "generator.safetensors",
                                    "discriminator.safetensors"});
  if (o.resume && !checkpoint.empty() && fs::exists(checkpoint)) {
    auto info = resume_checkpoint(checkpoint, run, trained{"generator.", g.net, pair.opt_g},
                                  trained{"discriminator.", d.net, pair.opt_d});
    h = gan_history::parse(info["log"], info["tenths"], checkpoint.string());
    const int done = int(h.epochs.size());
    if (done < 1 || done > o.epochs || h.epochs.back().epoch != done)
      throw io_error(checkpoint.string() + ": its log ends at epoch " + std::to_string(done) + ", not one of this run's 1 to " +
                     std::to_string(o.epochs));
    first_epoch = done + 1;
    g.ctx.step = d.ctx.step = static_cast<std::uint64_t>(pair.opt_g.steps());
    if (root) std::printf("%s: resuming after epoch %d of %d (%s)\n", o.title.c_str(), done, o.epochs, checkpoint.c_str());
    std::fflush(stdout);
  }
  if (comm) {
    distributed::start_together(*comm, g.net, first_epoch, "fit_gan", o.out.string());
    distributed::broadcast_state(*comm, d.net);
  }

  using T = typename context<Backend>::tensor;
  const auto slots = std::size_t(o.critic_steps);
  std::vector<T> inputs(slots), reals(slots), conditions(slots);
  std::vector<basic_index_tensor<typename T::memory>> labels(slots);
  tensor condition;
  index_tensor label;
  if (o.classes > 0 && !data.labels) throw error("fit_gan: a discriminator with a classifier needs the data's labels");
  std::uint64_t step_key = 0;
  const auto batch = [&](int i) -> gan_batch<T> {
    const auto k = step_key * std::uint64_t(o.critic_steps) + std::uint64_t(i);
    const auto at = std::size_t(i);
    make_batch(k);
    inputs[at] = to(g.ctx.backend, input), reals[at] = to(g.ctx.backend, real);
    if (data.condition) {
      data.condition(k, condition);
      detail::keep_shard(condition, rank, processes, "conditions");
      conditions[at] = to(g.ctx.backend, condition);
    }
    if (o.classes > 0) {
      data.labels(k, label);
      detail::keep_shard(label, rank, processes, "labels");
      labels[at] = to(g.ctx.backend, label);
    }
    return {inputs[at], reals[at], data.condition ? &conditions[at] : nullptr, o.classes > 0 ? &labels[at] : nullptr};
  };

  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    progress bar(o.title + " epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs), o.steps);
    gan_history::epoch_row row{epoch};
    std::array<double, 3> window{};
    std::int64_t window_steps = 0;
    if (comm) timed->reset();
    for (std::int64_t s = 0; s < o.steps; ++s) {
      step_key = std::uint64_t((epoch - 1) * o.steps + s);
      auto l = pair.step(batch, total);
      if (processes > 1) {  // the whole batch's (equal shards' means averaged), on every process
        double v[] = {l.d_real, l.d_fake, l.g_content, l.g_adversarial, l.d_class, l.g_class, l.class_accuracy};
        comm->all_reduce_sum(std::span<double>(v));
        for (auto& x : v) x /= processes;
        l = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
      }
      for (const double v : {l.d_real, l.d_fake, l.g_content, l.g_adversarial})
        if (!std::isfinite(v) && !o.continue_on_non_finite)
          throw error(o.title + ": a loss is " + std::to_string(v) + " at epoch " + std::to_string(epoch) + ", step " +
                      std::to_string(s + 1) + (o.out.empty() ? std::string() : "; the checkpoint of the last whole epoch is kept") +
                      " (lower learning rates may help)");
      row.d_real += l.d_real, row.d_fake += l.d_fake, row.g_content += l.g_content, row.g_adversarial += l.g_adversarial;
      row.d_class += l.d_class, row.g_class += l.g_class, row.class_accuracy += l.class_accuracy;
      window[0] += l.d_real + l.d_fake, window[1] += l.g_adversarial, window[2] += l.g_content, ++window_steps;
      if ((s + 1) * 10 / o.steps != s * 10 / o.steps) {
        const double n = double(window_steps);
        h.tenths.push_back({epoch - 1 + double(s + 1) / double(o.steps), window[0] / n, window[1] / n, window[2] / n});
        window = {}, window_steps = 0;
      }
      char text[128];
      const double n = double(s + 1);
      std::snprintf(text, sizeof text, "D %.4f + %.4f  G content %.5f adversarial %.4f", row.d_real / n, row.d_fake / n,
                    row.g_content / n, row.g_adversarial / n);
      if (o.classes > 0) {
        const auto used = std::strlen(text);
        std::snprintf(text + used, sizeof text - used, "  classes %.3f", row.class_accuracy / n);
      }
      if (root) bar.update(s + 1, text);
    }
    const double steps = double(o.steps);
    row.d_real /= steps, row.d_fake /= steps, row.g_content /= steps, row.g_adversarial /= steps;
    row.d_class /= steps, row.g_class /= steps, row.class_accuracy /= steps;
    row.train_seconds = bar.seconds();
    const double comm_seconds = comm ? timed->seconds() : 0.0;

    const auto eval_start = std::chrono::steady_clock::now();
    if (comm) {
      const auto when = "after epoch " + std::to_string(epoch);
      distributed::check_same_parameters(*comm, g.net, when + " (the generator)");
      distributed::check_same_parameters(*comm, d.net, when + " (the discriminator)");
      if (!o.sync_batch_norm) distributed::broadcast_state(*comm, g.net), distributed::broadcast_state(*comm, d.net);
    }
    const auto [p, q] = data.validate(g);
    g.train();
    row.val_psnr = p, row.val_ssim = q;
    row.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    h.epochs.push_back(row);
    if (!root) continue;
    std::printf("%s epoch %d: validation PSNR %.2f dB, SSIM %.4f (train %.1f s, eval %.1f s)\n", o.title.c_str(), epoch, p,
                q, row.train_seconds, row.eval_seconds);
    if (processes > 1)
      detail::print_communication(o.title, epoch, comm_seconds, row.train_seconds, o.steps, *pair.generator_averager());
    std::fflush(stdout);
    if (!o.out.empty()) {  // the checkpoint first: the log, curves and grids are never ahead of it
      fs::create_directories(o.out / "grids");
      auto info = o.metadata;
      info.insert({{"epoch", std::to_string(epoch)}, {"run", run}, {"log", h.csv()}, {"tenths", h.tenths_csv()}});
      save_checkpoint(checkpoint, info, trained{"generator.", g.net, pair.opt_g}, trained{"discriminator.", d.net, pair.opt_d});
      const auto weights = [&](auto& net, const char* file, bool with_metadata) {
        io::safetensors_writer w;
        add_weights(w, net);
        if (with_metadata)
          for (const auto& [k, v] : o.metadata) w.metadata(k, v);
        w.metadata("hush.epoch", std::to_string(epoch));
        w.write(o.out / file);
      };
      weights(g.net, "generator.safetensors", true);
      weights(d.net, "discriminator.safetensors", false);
      io::write_file_atomically(o.out / "log.csv", h.csv());
      h.plot(o.out / "curves.png", o.title);
      if (!data.grid_input.empty()) {
        g.eval();
        tensor made = to_host(g.forward(to(g.ctx.backend, data.grid_input)));
        g.train();
        for (auto& v : made.values()) v = std::clamp(v, 0.0f, 1.0f);
        std::vector<std::pair<std::string, tensor>> rows;
        if (auto shown = detail::enlarged_like(data.grid_input, made.shape()); !shown.empty()) rows.emplace_back("input", shown);
        rows.emplace_back("generated", std::move(made));
        rows.emplace_back("real", data.grid_real);
        char name[32];
        std::snprintf(name, sizeof name, "epoch_%03d.png", epoch);
        io::save_image_grid(o.out / "grids" / name, rows);
      }
    }
  }
  return h;
}

}  // namespace hush::train
