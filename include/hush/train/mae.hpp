#pragma once
// Pre-training a masked autoencoder (models/mae.hpp), with the care of the other trainers:
// progress line, log.csv, curves.png, atomic checkpoints and an exact resume.
//
//   fit_mae(model, batches, validation, options): `batches(images, epoch, step)` fills a batch
//   (N, C, H, W) in [0, 1] as a pure function of (epoch, step) (photo crops, Fashion-MNIST in a
//   seeded order), so a resumed run sees what an uninterrupted one would. Adam (β2 = 0.95, as
//   the MAE paper's AdamW) with a linear warm-up over the first 5% of the steps and a cosine
//   decay to lr/100; the masked patch loss (pixels, or per-patch normalised with norm_pix).
//   After each epoch: the validation images' loss and reconstruction (evaluate_mae), then the
//   files.
//
//   evaluate_mae(model, images, ratio): the reconstruction of held-out images at a mask ratio
//   (masks fixed by image number, not by the training step), from one forward per batch: the
//   training loss; mean squared error over the dropped patches, in pixels; PSNR over them per
//   image, averaged; and the PSNR of the whole image with the visible patches pasted back. A norm_pix model's predictions are put back in
//   pixels with each target patch's own mean and spread (as the MAE paper's figures are).
//
//   reconstruct(model, images, ratio): the rows of the MAE paper's figures: original, masked
//   input (dropped patches grey), reconstruction, reconstruction with the visible patches pasted.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hush/backend/cpu.hpp"  // patchify and figures on the host
#include "hush/core/error.hpp"
#include "hush/core/printf_string.hpp"
#include "hush/core/tensor.hpp"
#include "hush/graph/model.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/paths.hpp"
#include "hush/io/plot.hpp"
#include "hush/io/weights.hpp"
#include "hush/layers/tokens.hpp"
#include "hush/losses/masked_patch_mse.hpp"
#include "hush/optim/adam.hpp"
#include "hush/optim/schedule.hpp"
#include "hush/train/log_csv.hpp"
#include "hush/train/progress.hpp"
#include "hush/train/run_files.hpp"

namespace hush::train {

/// How fit_mae pre-trains a masked autoencoder: epochs of `steps` batches, Adam warmed up then
/// cosine-decayed from lr, and norm_pix for the per-patch normalised loss. Defaults: 10 epochs of
/// 200 steps of 64 images, lr 1e-3, the loss in pixels, writing nothing.
struct mae_training_options {
  int epochs = 10;
  std::int64_t steps = 200;  // per epoch
  std::int64_t batch = 64;
  float lr = 1e-3f;
  bool norm_pix = false;
  std::uint64_t seed = 1;
  std::filesystem::path out{};  // empty: write nothing
  bool resume = false;
  int stop_after = 0;  // stop after this epoch, as an interrupted run would (0: run to the end)
  std::string title = "mae";
  std::map<std::string, std::string> metadata{};  // into weights.safetensors and the checkpoint

  void validate() const {
    const auto bad = [](const std::string& what) { throw error("MAE training: " + what); };
    if (epochs < 1) bad("epochs must be at least 1, not " + std::to_string(epochs));
    if (steps < 1) bad("steps per epoch must be at least 1, not " + std::to_string(steps));
    if (batch < 1) bad("the batch must be at least 1, not " + std::to_string(batch));
    if (!(std::isfinite(lr) && lr > 0)) bad("the learning rate must be a positive number, not " + std::to_string(lr));
    if (stop_after < 0) bad("stop-after must be >= 0");
  }
};

/// Warm-up over the first 5% of the steps, then a cosine to lr/100.
struct warmup_cosine {
  float lr;
  std::int64_t total;
  float operator()(std::int64_t t) const {
    const auto warm = std::max<std::int64_t>(1, total / 20);
    if (t < warm) return lr * float(t + 1) / float(warm);
    return cosine_schedule{lr, total - warm, lr / 100}(t - warm);
  }
};

/// How well an MAE reconstructs held-out images (evaluate_mae): its training loss, MSE and PSNR
/// over the dropped patches, and PSNR of the whole image with the visible patches pasted back.
struct reconstruction_score {
  double loss = 0;         // the training loss (masked patch loss, norm_pix as trained), per image
  double mse = 0;          // over the dropped patches, pixels in [0, 1]
  double psnr = 0;         // over the dropped patches, per image, averaged
  double pasted_psnr = 0;  // the whole image, visible patches pasted back, per image, averaged
  std::int64_t images = 0;
};

/// What an MAE pre-training run measured, epoch by epoch, and its training loss per tenth of an
/// epoch: written to log.csv and the checkpoint, read back on resume.
struct mae_history {
  /// One row of log.csv: an epoch's mean training loss, the validation images' loss, MSE and PSNR
  /// over the dropped patches, and the seconds spent training and evaluating.
  struct epoch_row {
    int epoch = 0;
    double train_loss = 0, val_loss = 0, val_mse = 0, val_psnr = 0, train_seconds = 0, eval_seconds = 0;
  };
  std::vector<epoch_row> epochs;
  std::vector<std::array<double, 2>> tenths;

  static constexpr const char* header = "epoch,train_loss,val_loss,val_mse,val_psnr,train_seconds,eval_seconds";
  std::string csv() const {
    std::string s = std::string(header) + "\n";
    for (const auto& e : epochs) {
      char row[192];
      std::snprintf(row, sizeof row, "%d,%.6f,%.6f,%.6f,%.4f,%.1f,%.1f\n", e.epoch, e.train_loss, e.val_loss, e.val_mse,
                    e.val_psnr, e.train_seconds, e.eval_seconds);
      s += row;
    }
    return s;
  }
  std::string tenths_csv() const { return detail::tenths_rows(tenths); }
  static mae_history parse(const std::string& csv, const std::string& tenths, const std::string& where) {
    const auto number = [&](const std::string& cell) { return detail::csv_number(cell, where); };
    mae_history h;
    detail::csv_rows(csv, header, 7, where, "log", [&](const std::vector<std::string>& c) {
      h.epochs.push_back({detail::csv_epoch(c[0], where), number(c[1]), number(c[2]), number(c[3]), number(c[4]),
                          number(c[5]), number(c[6])});
    });
    h.tenths = detail::parse_tenths(tenths, where);
    return h;
  }
  /// The training loss per tenth of an epoch with the validation loss per epoch; the validation
  /// reconstruction's PSNR over the dropped patches.
  void plot(const std::filesystem::path& path, const std::string& title) const {
    io::series train{"train", {}, {}}, val{"validation", {}, {}}, psnr{"validation, dropped patches", {}, {}};
    for (const auto& t : tenths) train.x.push_back(t[0]), train.y.push_back(t[1]);
    for (const auto& e : epochs)
      val.x.push_back(e.epoch), val.y.push_back(e.val_loss), psnr.x.push_back(e.epoch), psnr.y.push_back(e.val_psnr);
    io::save_charts(path, {{title + ": masked patch loss", "epoch", "loss", {train, val}},
                           {title + ": reconstruction PSNR", "epoch", "PSNR (dB)", {psnr}}});
  }
};

namespace detail {
/// A norm_pix prediction back in pixels: each patch times its target's spread plus its mean.
inline void unnormalise_patches(tensor& pred, const tensor& target) {
  const auto p = pred.shape()[2], rows = pred.numel() / p;
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* t = target.data() + r * p;
    double sum = 0, sq = 0;
    for (std::int64_t j = 0; j < p; ++j) sum += t[j];
    const double mean = sum / double(p);
    for (std::int64_t j = 0; j < p; ++j) sq += (t[j] - mean) * (t[j] - mean);
    const double spread = std::sqrt(sq / double(p > 1 ? p - 1 : 1) + 1e-6);
    for (std::int64_t j = 0; j < p; ++j) pred[r * p + j] = static_cast<float>(pred[r * p + j] * spread + mean);
  }
}

/// Eval-mode masks are keyed from this, far from any training step.
inline constexpr std::uint64_t evaluation_mask_key = 1ull << 62;

/// Runs the MAE on images [first, first + n) at its current ratio, in eval mode with the masks
/// of those images under evaluation_mask_key (so an image's mask does not depend on the batch size);
/// gives the prediction in pixels, the target patches and the mask (host), and returns the
/// training loss on them (the masked patch loss, norm_pix as trained).
template <class Net, class Backend>
double predict_patches(model<Net, Backend>& m, const tensor& images, std::int64_t first, std::int64_t n, bool norm_pix,
                       tensor& pred, tensor& target, tensor& mask) {
  const auto& s = images.shape();
  tensor batch({n, s[1], s[2], s[3]},
               std::vector<float>(images.data() + first * s.per_sample(), images.data() + (first + n) * s.per_sample()));
  m.ctx.step = evaluation_mask_key;
  const auto saved_first = std::exchange(m.net.opt.first_image, first);
  const auto& x = to(m.ctx.backend, batch);
  const auto& y = m.forward(x);
  tensor_of<decltype(m.ctx)> patches;
  patchify(m.ctx.backend, x, m.net.opt.patch, patches);
  masked_patch_mse loss({.norm_pix = norm_pix});
  const double l = loss.forward(m.ctx, y, patches, m.net.mask(m.ctx));
  m.net.opt.first_image = saved_first;
  pred = to_host(y);
  mask = to_host(m.net.mask(m.ctx));
  target = to_host(patches);
  if (norm_pix) unnormalise_patches(pred, target);
  return l;
}
}  // namespace detail

/// How well the MAE in `m` reconstructs `images` at mask ratio `ratio`, in eval mode with a mask
/// fixed per image (the same whatever `batch`, the images per forward); restores the model's
/// ratio, step and mode.
template <class Net, class Backend>
reconstruction_score evaluate_mae(model<Net, Backend>& m, const tensor& images, float ratio, std::int64_t batch = 64,
                                  bool norm_pix = false) {
  const auto saved_ratio = m.net.opt.mask_ratio;
  const auto saved_step = m.ctx.step;
  const auto saved_mode = m.ctx.mode;
  m.net.opt.mask_ratio = ratio;
  m.eval();
  reconstruction_score r;
  double sq_sum = 0, count = 0;
  const auto n = images.shape()[0];
  tensor pred, target, mask;
  for (std::int64_t first = 0; first < n; first += batch) {
    const auto k = std::min(batch, n - first);
    r.loss += double(k) * detail::predict_patches(m, images, first, k, norm_pix, pred, target, mask);
    const auto t = pred.shape()[1], p = pred.shape()[2];
    for (std::int64_t b = 0; b < k; ++b) {
      double dropped_sq = 0, dropped = 0, pasted_sq = 0;
      for (std::int64_t s = 0; s < t; ++s) {
        const bool gone = mask[b * t + s] > 0.5f || ratio == 0.0f;  // ratio 0: every patch is a reconstruction
        for (std::int64_t j = 0; j < p; ++j) {
          const double v = std::clamp(pred[(b * t + s) * p + j], 0.0f, 1.0f);
          const double d = v - target[(b * t + s) * p + j];
          if (gone) dropped_sq += d * d, dropped += 1, pasted_sq += d * d;
        }
      }
      sq_sum += dropped_sq, count += dropped;
      const auto psnr = [](double mse) { return 10.0 * std::log10(1.0 / std::max(mse, 1e-10)); };
      r.psnr += psnr(dropped_sq / std::max(dropped, 1.0));
      r.pasted_psnr += psnr(pasted_sq / double(t * p));
    }
    r.images += k;
  }
  r.mse = sq_sum / std::max(count, 1.0);
  r.loss /= double(r.images), r.psnr /= double(r.images), r.pasted_psnr /= double(r.images);
  m.net.opt.mask_ratio = saved_ratio;
  m.ctx.step = saved_step;
  m.ctx.mode = saved_mode;
  return r;
}

/// The figure rows for images [0, n): original, masked (dropped patches grey), reconstruction,
/// reconstruction with the visible patches pasted back; each (n, C, H, W) in [0, 1].
template <class Net, class Backend>
std::vector<std::pair<std::string, tensor>> reconstruct(model<Net, Backend>& m, const tensor& images, std::int64_t n,
                                                        float ratio, bool norm_pix = false) {
  const auto saved_ratio = m.net.opt.mask_ratio;
  const auto saved_step = m.ctx.step;
  const auto saved_mode = m.ctx.mode;
  m.net.opt.mask_ratio = ratio;
  m.eval();
  tensor pred, target, mask;
  detail::predict_patches(m, images, 0, n, norm_pix, pred, target, mask);
  const auto t = pred.shape()[1], p = pred.shape()[2];
  tensor masked = target, pasted = pred;
  for (auto& v : pred.values()) v = std::clamp(v, 0.0f, 1.0f);
  for (std::int64_t r = 0; r < n * t; ++r)
    for (std::int64_t j = 0; j < p; ++j) {
      if (mask[r] > 0.5f) masked[r * p + j] = 0.5f;
      else pasted[r * p + j] = target[r * p + j];
    }
  for (auto& v : pasted.values()) v = std::clamp(v, 0.0f, 1.0f);
  const auto& s = images.shape();
  const auto as_images = [&](const tensor& patches) {
    unpatchify back({.patch = m.net.opt.patch, .channels = s[1], .rows = s[2] / m.net.opt.patch});
    context<backend::cpu> ctx;
    back.setup(ctx, patches.shape());
    return tensor(back.forward(ctx, patches));
  };
  std::vector<std::pair<std::string, tensor>> rows{{"original", as_images(target)},
                                                   {"masked " + std::to_string(int(std::lround(ratio * 100))) + "%", as_images(masked)},
                                                   {"reconstruction", as_images(pred)},
                                                   {"+ visible", as_images(pasted)}};
  m.net.opt.mask_ratio = saved_ratio;
  m.ctx.step = saved_step;
  m.ctx.mode = saved_mode;
  return rows;
}

/// Pre-trains the MAE in `m` on `batches` (see the top of this header), evaluating it on
/// `validation` after every epoch; returns the history.
template <class Net, class Backend, class Batches>
mae_history fit_mae(model<Net, Backend>& m, Batches&& batches, const tensor& validation, const mae_training_options& o) {
  namespace fs = std::filesystem;
  o.validate();
  const auto& opt_net = m.net.opt;
  const shape in{o.batch, opt_net.channels, opt_net.image, opt_net.image};
  m.setup(in);
  adam opt(m.net, {.lr = o.lr, .beta1 = 0.9f, .beta2 = 0.95f});
  const std::int64_t total = std::int64_t(o.epochs) * o.steps;
  const warmup_cosine schedule{o.lr, total};
  masked_patch_mse loss({.norm_pix = o.norm_pix});

  const std::string run = printf_string(
      "%s (%s); mask ratio %.2f%s; %d epochs of %lld steps, batch %lld; Adam lr %g, warm-up and cosine; seed %llu",
      Net::kind, m.net.describe().c_str(), double(opt_net.mask_ratio), o.norm_pix ? ", norm_pix" : "", o.epochs,
      static_cast<long long>(o.steps), static_cast<long long>(o.batch), double(o.lr),
      static_cast<unsigned long long>(o.seed));

  mae_history h;
  int first_epoch = 1;
  const fs::path checkpoint = o.out.empty() ? fs::path{} : o.out / "checkpoint.safetensors";
  if (!o.out.empty()) io::check_output_folder(o.out, {"log.csv", "curves.png", "checkpoint.safetensors", "weights.safetensors"});
  if (o.resume && !checkpoint.empty() && fs::exists(checkpoint)) {
    h = detail::resume_run<mae_history>(checkpoint, m.net, opt, run, o.epochs, o.title);
    first_epoch = int(h.epochs.size()) + 1;
  }

  tensor batch(in);
  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    progress bar(o.title + " epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs), o.steps);
    detail::epoch_loss losses{epoch, o.steps};
    m.train();
    for (std::int64_t s = 0; s < o.steps; ++s) {
      batches(batch, epoch, s);
      const auto step = opt.steps();
      m.ctx.step = static_cast<std::uint64_t>(step);  // the mask of this step
      opt.opt.lr = schedule(step);
      m.zero_grad();
      const auto& x = to(m.ctx.backend, batch);
      const auto& y = m.forward(x);
      tensor_of<decltype(m.ctx)> target;
      patchify(m.ctx.backend, x, opt_net.patch, target);
      const double l = loss.forward(m.ctx, y, target, m.net.mask(m.ctx));
      if (!std::isfinite(l)) throw detail::non_finite_loss(o.title, l, epoch, s + 1, !o.out.empty());
      m.backward(loss.backward(m.ctx));
      opt.step(m.ctx.backend);

      losses.add(l, h.tenths);
      bar.update(s + 1, losses.text());
    }
    const double train_seconds = bar.seconds();

    const auto eval_start = std::chrono::steady_clock::now();
    const auto score = evaluate_mae(m, validation, opt_net.mask_ratio, o.batch, o.norm_pix);
    const double val_loss = score.loss;
    m.train();
    const double eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
    h.epochs.push_back({epoch, losses.mean(), val_loss, score.mse, score.psnr, train_seconds, eval_seconds});
    std::printf("%s epoch %d: validation loss %.5f, dropped patches MSE %.5f, PSNR %.2f dB (%lld images; train %.1f s, eval %.1f s)\n",
                o.title.c_str(), epoch, val_loss, score.mse, score.psnr, static_cast<long long>(score.images), train_seconds,
                eval_seconds);
    std::fflush(stdout);
    if (!o.out.empty()) detail::write_run_files(o.out, m.net, opt, o.metadata, epoch, run, h, o.title);
  }
  return h;
}

}  // namespace hush::train
