#pragma once
// Training an image-to-image network (a denoiser) with the care of the classifier's trainer:
// a progress line, and after every epoch, written atomically into `out`:
//   log.csv                   one row per epoch: training loss, validation PSNR and SSIM, times
//   curves.png                training loss, and validation PSNR and SSIM per epoch
//   checkpoint.safetensors    weights, Adam's state and the history so far
//   weights.safetensors       the weights alone, with `metadata` (what hush-denoise reads)
// Each step takes `batch` random crops of the training photos (data/photos.hpp) and makes pairs
// from a noise spec (noise/spec.hpp):
//   supervised     noisy -> clean
//   noise2noise    noisy -> the same crop noised again, independently (Lehtinen et al. 2018),
//                  the target unclipped so that its mean is the clean crop (noise::unclipped)
// with the loss the noise calls for: L2, L1, L0 (annealed from L2, for impulses) or masked L2
// (multiplicative Bernoulli: the target's dropped pixels give no gradient). Crops, flips and
// noise are keyed by (seed, epoch, crop), the learning rate by the step, so resuming from the
// checkpoint equals an uninterrupted run. Validation denoises whole photos (denoise/apply.hpp)
// noised once with a fixed key, so epochs compare. Recipe: Adam, cosine decay from `lr`.
// Data-parallel (o.comm, distributed/): each process takes its equal share of every step's
// crops (the same keys as one process would, so the same pairs), gradients and batch norm's
// statistics are combined as the classifier's trainer does, validation photos are split between
// the processes; process 0 prints and writes the files.
// Needs hush::opencv (photos, curves).
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
#include <string>
#include <vector>

#include "hush/backend/cpu/tag.hpp"  // batches are prepared on the host
#include "hush/core/error.hpp"
#include "hush/core/printf_string.hpp"
#include "hush/data/photos.hpp"
#include "hush/denoise/apply.hpp"
#include "hush/distributed/data_parallel.hpp"
#include "hush/distributed/timed.hpp"
#include "hush/graph/model.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/plot.hpp"
#include "hush/losses/masked_mse.hpp"
#include "hush/losses/pointwise.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/noise/spec.hpp"
#include "hush/optim/adam.hpp"
#include "hush/optim/schedule.hpp"
#include "hush/train/log_csv.hpp"
#include "hush/train/progress.hpp"
#include "hush/train/run_files.hpp"

namespace hush::train {

/// What fit_denoiser trains toward: the clean crop (supervised), or the same crop noised again,
/// independently (noise2noise, Lehtinen et al. 2018).
enum class pairing { supervised, noise2noise };
/// fit_denoiser's loss: L2, L1, L0 (annealed from L2, for impulses) or masked L2 (noise2noise
/// pairs only: the target's dropped pixels give no gradient).
enum class image_loss { l2, l1, l0, masked_l2 };

/// The pairing's name, as a run's description (checked on resume) says it.
inline const char* name_of(pairing p) { return p == pairing::supervised ? "supervised" : "noise2noise"; }
/// The loss's name, as a run's description (checked on resume) says it.
inline const char* name_of(image_loss l) {
  switch (l) {
    case image_loss::l2: return "l2";
    case image_loss::l1: return "l1";
    case image_loss::l0: return "l0";
    case image_loss::masked_l2: return "masked_l2";
  }
  return "?";
}

/// How fit_denoiser trains: epochs of `steps` steps of `batch` crops, Adam with a cosine decay
/// from lr, the pairs, loss and noise. Defaults: 10 epochs of 200 steps of 8 crops of 96 pixels,
/// lr 1e-3, supervised pairs, the L2 loss, Gaussian noise of sigma 0.1, writing nothing.
struct denoiser_options {
  int epochs = 10;
  std::int64_t steps = 200;  // steps per epoch
  std::int64_t batch = 8;
  std::int64_t crop = 96;    // training crops are crop × crop
  float lr = 1e-3f;          // Adam's, decayed to lr/100 by a cosine over the run
  pairing pairs = pairing::supervised;
  image_loss loss = image_loss::l2;
  noise::spec noise{};       // what corrupts inputs (and Noise2Noise's targets)
  std::uint64_t seed = 1;
  denoise::apply_options validation{};  // how validation photos are run (tile, overlap)
  std::filesystem::path out{};  // empty: write nothing
  bool resume = false;
  int stop_after = 0;         // stop after this epoch, as an interrupted run would (0: run to the end)
  bool continue_on_non_finite = false;
  std::string title = "denoiser";
  std::map<std::string, std::string> metadata{};  // into weights.safetensors and the checkpoint
  /// The processes sharing the run (none: this one alone); `batch` is the global batch, split
  /// into equal shards. Batch norm's statistics over the whole batch unless sync_batch_norm is
  /// off; gradients summed in buckets of bucket_bytes while backward runs (classifier_options).
  distributed::communicator* comm = nullptr;
  bool sync_batch_norm = true;
  std::size_t bucket_bytes = std::size_t(4) << 20;

  /// Throws hush::error naming the first setting that cannot work.
  void validate() const {
    const auto bad = [](const std::string& what) { throw error("denoiser training: " + what); };
    if (epochs < 1) bad("epochs must be at least 1, not " + std::to_string(epochs));
    if (steps < 1) bad("steps per epoch must be at least 1, not " + std::to_string(steps));
    if (batch < 1) bad("the batch must be at least 1, not " + std::to_string(batch));
    if (crop < 1) bad("the crop must be at least 1 pixel, not " + std::to_string(crop));
    if (!(std::isfinite(lr) && lr > 0)) bad("the learning rate must be a positive number, not " + std::to_string(lr));
    if (loss == image_loss::masked_l2 && pairs != pairing::noise2noise)
      bad("the masked L2 loss masks a noisy target's dropped pixels: it needs noise2noise pairs");
    if (stop_after < 0) bad("stop-after must be >= 0");
    if (const auto p = distributed::size_of(comm); batch % p)
      bad("the batch of " + std::to_string(batch) + " does not split into " + std::to_string(p) + " equal shards, one per process");
  }
};

/// What a run measured, epoch by epoch.
struct denoiser_history {
  /// One row of log.csv: an epoch's mean training loss, the denoised validation photos' mean PSNR
  /// and SSIM, and the seconds spent training and evaluating.
  struct epoch_row {
    int epoch = 0;
    double train_loss = 0, val_psnr = 0, val_ssim = 0, train_seconds = 0, eval_seconds = 0;
  };
  double noisy_psnr = 0, noisy_ssim = 0;  // of the validation photos as noised, before any denoising
  std::vector<epoch_row> epochs;
  std::vector<std::array<double, 2>> tenths;  // (epoch as a fraction, mean loss over that tenth)

  std::string csv() const {
    std::string s = "epoch,train_loss,val_psnr,val_ssim,train_seconds,eval_seconds\n";
    char row[192];
    std::snprintf(row, sizeof row, "0,,%.4f,%.5f,,\n", noisy_psnr, noisy_ssim);  // epoch 0: the noisy input
    s += row;
    for (const auto& e : epochs) {
      std::snprintf(row, sizeof row, "%d,%.6f,%.4f,%.5f,%.1f,%.1f\n", e.epoch, e.train_loss, e.val_psnr, e.val_ssim,
                    e.train_seconds, e.eval_seconds);
      s += row;
    }
    return s;
  }
  std::string tenths_csv() const { return detail::tenths_rows(tenths); }
  /// Reads back what csv() and tenths_csv() wrote; `where` names the checkpoint in errors.
  static denoiser_history parse(const std::string& csv, const std::string& tenths, const std::string& where) {
    const auto number = [&](const std::string& cell) { return detail::csv_number(cell, where); };
    denoiser_history h;
    detail::csv_rows(csv, "epoch,train_loss,val_psnr,val_ssim,train_seconds,eval_seconds", 6, where, "log",
                     [&](const std::vector<std::string>& c) {
                       if (c[0] == "0") {  // the noisy input's row
                         h.noisy_psnr = number(c[2]), h.noisy_ssim = number(c[3]);
                         return;
                       }
                       h.epochs.push_back({detail::csv_epoch(c[0], where), number(c[1]), number(c[2]), number(c[3]),
                                           number(c[4]), number(c[5])});
                     });
    h.tenths = detail::parse_tenths(tenths, where);
    return h;
  }

  /// Training loss per tenth of an epoch; validation PSNR and SSIM per epoch, the noisy input's
  /// as a flat line.
  void plot(const std::filesystem::path& path, const std::string& title) const {
    io::series loss{"train", {}, {}};
    for (const auto& t : tenths) loss.x.push_back(t[0]), loss.y.push_back(t[1]);
    io::series psnr{"validation, denoised", {}, {}}, ssim{"validation, denoised", {}, {}};
    io::series psnr0{"validation, noisy", {}, {}}, ssim0{"validation, noisy", {}, {}};
    for (const auto& e : epochs) {
      psnr.x.push_back(e.epoch), psnr.y.push_back(e.val_psnr), ssim.x.push_back(e.epoch), ssim.y.push_back(e.val_ssim);
      psnr0.x.push_back(e.epoch), psnr0.y.push_back(noisy_psnr), ssim0.x.push_back(e.epoch), ssim0.y.push_back(noisy_ssim);
    }
    io::save_charts(path, {{title + ": training loss", "epoch", "loss", {loss}},
                           {title + ": validation PSNR", "epoch", "PSNR (dB)", {psnr, psnr0}},
                           {title + ": validation SSIM", "epoch", "SSIM", {ssim, ssim0}}});
  }
};

/// The loss a run chose, over one interface: forward(pred, target, mask) and backward.
class chosen_loss {
 public:
  explicit chosen_loss(image_loss kind) : kind_(kind) {}
  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target, const tensor_of<Ctx>& mask) {
    switch (kind_) {
      case image_loss::l2: return l2_.forward(ctx, pred, target);
      case image_loss::l1: return l1_.forward(ctx, pred, target);
      case image_loss::l0: return l0_.forward(ctx, pred, target);
      case image_loss::masked_l2: return masked_.forward(ctx, pred, target, mask);
    }
    return 0;
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const {
    switch (kind_) {
      case image_loss::l2: return l2_.backward(ctx);
      case image_loss::l1: return l1_.backward(ctx);
      case image_loss::l0: return l0_.backward(ctx);
      case image_loss::masked_l2: break;
    }
    return masked_.backward(ctx);
  }
  /// Training progress in [0, 1] (the L0 loss anneals with it).
  void at(double progress) { l0_.anneal(progress); }

 private:
  image_loss kind_;
  mse_loss l2_;
  l1_loss l1_;
  l0_loss l0_;
  masked_mse_loss masked_;
};

namespace detail {
/// Validation photos noised once (key: photo index, salt 7), clamped to [0, 1].
inline std::vector<tensor> noised_once(const std::vector<tensor>& clean, const noise::spec& noise, std::uint64_t seed) {
  std::vector<tensor> out;
  const counter_rng rng{seed ^ 0x76616cULL};
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const auto& s = clean[i].shape();
    tensor batch({1, s[0], s[1], s[2]}, clean[i].values()), noisy;
    noise::apply_to_batch(backend::cpu{}, noise, rng, batch, noisy, i, 7);
    tensor y({s[0], s[1], s[2]}, noisy.values());
    for (auto& v : y.values()) v = std::clamp(v, 0.0f, 1.0f);
    out.push_back(std::move(y));
  }
  return out;
}
}  // namespace detail

/// Mean PSNR and SSIM of m's output on each noisy photo against its clean one (outputs clamped
/// to [0, 1], as a saved image is). With `comm`, process r denoises photos r, r + n, r + 2n, ...
/// and every process returns the means over all of them.
template <class Net, class Backend>
std::array<double, 2> score(model<Net, Backend>& m, const std::vector<tensor>& clean, const std::vector<tensor>& noisy,
                            const denoise::apply_options& how, distributed::communicator* comm = nullptr) {
  const auto step = std::size_t(distributed::size_of(comm));
  double sums[] = {0, 0};
  for (std::size_t i = std::size_t(distributed::rank_of(comm)); i < clean.size(); i += step) {
    tensor y = denoise::apply(m, noisy[i], how);
    for (auto& v : y.values()) v = std::clamp(v, 0.0f, 1.0f);
    sums[0] += metrics::psnr(clean[i], y), sums[1] += metrics::ssim(clean[i], y);
  }
  if (comm) comm->all_reduce_sum(std::span<double>(sums));
  return {sums[0] / double(clean.size()), sums[1] / double(clean.size())};
}

/// Trains m on crops of `train` and scores it on `validation` (whole photos) after every epoch.
template <class Net, class Backend>
denoiser_history fit_denoiser(model<Net, Backend>& m, const data::photos& train, const data::photos& validation,
                              const denoiser_options& o) {
  namespace fs = std::filesystem;
  o.validate();
  if (train.channels() != validation.channels())
    throw error("fit_denoiser: training photos have " + std::to_string(train.channels()) + " channels, validation " +
                std::to_string(validation.channels()));
  if (validation.size() < 1) throw error("fit_denoiser: no validation photos");
  const std::int64_t c = train.channels();
  if (o.crop % denoise::size_multiple<Net>() != 0)
    throw error("fit_denoiser: the crop " + std::to_string(o.crop) + " is not a multiple of " + Net::kind + "'s " +
                std::to_string(denoise::size_multiple<Net>()));
  train.check_fits(o.crop);
  const int processes = distributed::size_of(o.comm), rank = distributed::rank_of(o.comm);
  const bool root = rank == 0;
  const std::int64_t shard = o.batch / processes;  // this process's crops of each step: from rank · shard on
  std::optional<distributed::timed_communicator> timed;  // every collective timed (none when alone)
  if (o.comm) timed.emplace(*o.comm);
  distributed::communicator* const comm = o.comm ? &*timed : nullptr;
  m.ctx.batch_norm_group = o.sync_batch_norm ? comm : nullptr;
  m.setup({shard, c, o.crop, o.crop});
  {
    const auto out = m.net.output_shape(m.input_shape());
    if (out != m.input_shape())
      throw shape_error(std::string("fit_denoiser: ") + Net::kind + " gives " + out.str() + " for " + m.input_shape().str() +
                        ": an image-to-image network must keep the shape");
  }
  adam opt(m.net, {.lr = o.lr});
  const std::int64_t total = std::int64_t(o.epochs) * o.steps;
  const cosine_schedule schedule{o.lr, total, o.lr / 100};
  const counter_rng rng{o.seed};
  chosen_loss loss(o.loss);

  const std::string run = printf_string(
      "%s; %s pairs, %s loss; noise %s; %lld training photos; %d epochs of %lld steps, batch %lld of %lld px "
      "crops; Adam lr %g, cosine; seed %llu",
      Net::kind, name_of(o.pairs), name_of(o.loss), o.noise.describe().c_str(),
      static_cast<long long>(train.size()), o.epochs, static_cast<long long>(o.steps),
      static_cast<long long>(o.batch), static_cast<long long>(o.crop), double(o.lr),
      static_cast<unsigned long long>(o.seed));

  std::vector<tensor> val_clean;
  for (std::int64_t i = 0; i < validation.size(); ++i) val_clean.push_back(validation.image(i));
  const auto val_noisy = detail::noised_once(val_clean, o.noise, o.seed);

  denoiser_history h;
  for (std::size_t i = 0; i < val_clean.size(); ++i)
    h.noisy_psnr += metrics::psnr(val_clean[i], val_noisy[i]), h.noisy_ssim += metrics::ssim(val_clean[i], val_noisy[i]);
  h.noisy_psnr /= double(val_clean.size()), h.noisy_ssim /= double(val_clean.size());

  int first_epoch = 1;
  const fs::path checkpoint = o.out.empty() ? fs::path{} : o.out / "checkpoint.safetensors";
  if (!o.out.empty() && root)
    io::check_output_folder(o.out, {"log.csv", "curves.png", "checkpoint.safetensors", "weights.safetensors"});
  if (o.resume && !checkpoint.empty() && fs::exists(checkpoint)) {
    h = detail::resume_run<denoiser_history>(checkpoint, m.net, opt, run, o.epochs, o.title, root);
    first_epoch = int(h.epochs.size()) + 1;
    m.ctx.step = static_cast<std::uint64_t>(opt.steps());
    if (root) {
      io::write_file_atomically(o.out / "log.csv", h.csv());
      h.plot(o.out / "curves.png", o.title);
    }
  }
  if (comm) distributed::start_together(*comm, m.net, first_epoch, "fit_denoiser", o.out.string());
  distributed::gradient_averager average_gradients(o.bucket_bytes);

  tensor clean({shard, c, o.crop, o.crop}), noisy, target, mask, ones({shard, c, o.crop, o.crop});
  ones.fill(1.0f);
  std::vector<std::int64_t> keys(static_cast<std::size_t>(shard));
  const auto target_noise = noise::unclipped(o.noise);
  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    progress bar(o.title + " epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs), o.steps);
    detail::epoch_loss losses{epoch, o.steps};
    m.train();
    if (comm) timed->reset(), average_gradients.reset_time();
    for (std::int64_t s = 0; s < o.steps; ++s) {
      // Crop k of the run (any epoch) has its own key: its photo, place, flip and both noises.
      const auto first_key = static_cast<std::uint64_t>(((epoch - 1) * o.steps + s) * o.batch + rank * shard);
      train.crops(clean, 0, shard, o.crop, rng, static_cast<std::uint64_t>(epoch), first_key);
      for (std::int64_t j = 0; j < shard; ++j) keys[std::size_t(j)] = std::int64_t(first_key) + j;
      noisy.resize(clean.shape());
      noise::apply_to_images(backend::cpu{}, o.noise, rng, clean, keys, shard, noisy, 0);
      if (o.pairs == pairing::noise2noise) {
        target.resize(clean.shape());
        noise::apply_to_images(backend::cpu{}, target_noise, rng, clean, keys, shard, target, 1);
        if (o.loss == image_loss::masked_l2) {  // the target's own draws on ones: 1 where it kept the pixel
          mask.resize(clean.shape());
          noise::apply_to_images(backend::cpu{}, target_noise, rng, ones, keys, shard, mask, 1);
          for (auto& v : mask.values()) v = v > 0.5f ? 1.0f : 0.0f;
        }
      }
      const auto& x = to(m.ctx.backend, noisy);
      const auto& t = to(m.ctx.backend, o.pairs == pairing::noise2noise ? target : clean);
      const auto& mk = to(m.ctx.backend, o.loss == image_loss::masked_l2 ? mask : ones);

      const auto step = opt.steps();
      opt.opt.lr = schedule(step);
      loss.at(double(step) / double(total));
      m.zero_grad();
      double l = loss.forward(m.ctx, m.forward(x), t, mk);
      if (processes > 1) {  // the whole batch's mean (of equal shards' means), on every process
        double sum[] = {l};
        comm->all_reduce_sum(std::span<double>(sum));
        l = sum[0] / processes;
      }
      if (!std::isfinite(l) && !o.continue_on_non_finite) throw detail::non_finite_loss(o.title, l, epoch, s + 1, !o.out.empty());
      if (processes > 1) average_gradients.arm(*comm, m.net, m.ctx);  // buckets sent as backward completes them
      m.backward(loss.backward(m.ctx));
      if (processes > 1) average_gradients.finish();
      opt.step(m.ctx.backend);
      ++m.ctx.step;

      losses.add(l, h.tenths);
      if (root) bar.update(s + 1, losses.text());
    }
    const double train_seconds = bar.seconds();
    const double comm_seconds = comm ? timed->seconds() : 0.0;

    const auto eval_start = std::chrono::steady_clock::now();
    if (comm) {
      distributed::check_same_parameters(*comm, m.net, "after epoch " + std::to_string(epoch));
      if (!o.sync_batch_norm) distributed::broadcast_state(*comm, m.net);  // process 0's running statistics
    }
    const auto [p, q] = score(m, val_clean, val_noisy, o.validation, comm);
    m.train();
    const double eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    h.epochs.push_back({epoch, losses.mean(), p, q, train_seconds, eval_seconds});
    if (!root) continue;
    std::printf("%s epoch %d: validation PSNR %.2f dB, SSIM %.4f (noisy %.2f dB, %.4f; %lld photos; train %.1f s, eval %.1f s)\n",
                o.title.c_str(), epoch, p, q, h.noisy_psnr, h.noisy_ssim, static_cast<long long>(val_clean.size()),
                train_seconds, eval_seconds);
    if (processes > 1) detail::print_communication(o.title, epoch, comm_seconds, train_seconds, o.steps, average_gradients);
    std::fflush(stdout);
    if (!o.out.empty()) detail::write_run_files(o.out, m.net, opt, o.metadata, epoch, run, h, o.title);
  }
  return h;
}

}  // namespace hush::train
