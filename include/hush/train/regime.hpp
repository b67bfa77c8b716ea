#pragma once
// The training regimes of seed 004, as types. A regime turns the clean images a step draws into
// the batch the network sees, and scores the logits:
//
//   clean_only            the clean images, cross-entropy
//   noisy_only<N>         every image corrupted by N, cross-entropy
//   mixed<N>              [X'_1..X'_k, X_1..X_{m-k}]: k corrupted copies of the first k clean
//                         images beside the m - k clean ones, cross-entropy over all m
//   pivot<N>              the same batch, pivot_loss (losses/pivot.hpp)
//
// The contract (what train/classifier.hpp calls):
//   R::name                               "clean only", ... (tables and file names use it)
//   clean_per_step(m)                     clean images one step of batch m draws
//   compose(backend, clean, labels, indices, epoch) -> batch{x, y}
//                                         on the host, as a data loader (backend: a host one)
//                                         indices: the clean images' data-set indices, which key
//                                         the noise with the epoch (a new draw each epoch)
//   loss(ctx, logits, y) -> float         and gradient(ctx) -> dL/dlogits of that loss
//                                         (in the model's memory: the trainer moves the batch)
//   describe()                            the settings, for logs and the resume check
//   watch(), watch_reset()                optional: a figure to watch on the progress line, per epoch
// Every regime of a study takes the same number of steps of the same batch size m, so they cost
// the same; mixed and pivot therefore see m - k distinct images per step (the paper's set-up).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <utility>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/tensor.hpp"
#include "hush/losses/cross_entropy.hpp"
#include "hush/losses/pivot.hpp"
#include "hush/noise/compose.hpp"

namespace hush::train {

/// What a regime's compose() gives the network for a step: images x (m, C, H, W) and class labels
/// y (m). References to the regime's buffers or to compose()'s arguments, not copies.
struct batch {
  const tensor& x;        // (m, C, H, W)
  const index_tensor& y;  // (m) class indices
};

namespace detail {
/// The common part of a regime that scores with plain cross-entropy.
struct scored_by_cross_entropy {
  template <class Ctx>
  float loss(Ctx& ctx, const tensor_of<Ctx>& logits, const basic_index_tensor<typename Ctx::memory>& y) {
    return ce.forward(ctx, logits, y);
  }
  template <class Ctx>
  const tensor_of<Ctx>& gradient(const Ctx& ctx) const { return ce.backward(ctx); }
  cross_entropy ce;
};
}  // namespace detail

/// The regime that trains on clean images alone: the batch is the step's m clean images as they
/// are, scored by cross-entropy.
struct clean_only : detail::scored_by_cross_entropy {
  static constexpr const char* name = "clean only";
  std::int64_t clean_per_step(std::int64_t m) const { return m; }
  template <class B>
  batch compose(B, const tensor& clean, const index_tensor& labels, std::span<const std::int64_t>, std::uint64_t) {
    return {clean, labels};
  }
  std::string describe() const { return "clean only"; }
};

/// The regime that trains on corrupted images alone: each of the step's m images corrupted by
/// `Noise` (a new draw each epoch, keyed by the image's data-set index), scored by cross-entropy.
template <class Noise>
struct noisy_only : detail::scored_by_cross_entropy {
  static constexpr const char* name = "noisy only";
  noisy_only(Noise n, counter_rng r) : noise(std::move(n)), rng(r) {}

  std::int64_t clean_per_step(std::int64_t m) const { return m; }
  template <class B>
  batch compose(B b, const tensor& clean, const index_tensor& labels, std::span<const std::int64_t> indices,
                std::uint64_t epoch) {
    x_.resize(clean.shape());
    noise::apply_to_images(b, noise, rng, clean, indices, clean.shape()[0], x_, epoch + 1);
    return {x_, labels};
  }
  std::string describe() const { return "noisy only, " + noise.describe(); }

  Noise noise;
  counter_rng rng;

 private:
  tensor x_;
};

/// Seed 004's batch of m: k corrupted copies of the first k clean images, then the m - k clean.
template <class Noise>
struct paired_batch {
  paired_batch(Noise n, counter_rng r, std::int64_t k) : noise(std::move(n)), rng(r), perturbed(k) {}

  /// k for a batch of m: `perturbed`, or m/2 when it is 0 (the paper's 64 of 128).
  std::int64_t k(std::int64_t m) const { return perturbed > 0 ? perturbed : m / 2; }
  std::int64_t clean_per_step(std::int64_t m) const {
    if (perturbed == 0 && m % 2)
      throw error("paired batch: k = m/2 needs an even batch, got " + std::to_string(m));
    if (2 * k(m) > m)
      throw error("paired batch: " + std::to_string(k(m)) + " perturbed copies do not fit a batch of " +
                  std::to_string(m) + " (k <= m/2)");
    return m - k(m);
  }
  template <class B>
  batch compose(B b, const tensor& clean, const index_tensor& labels, std::span<const std::int64_t> indices,
                std::uint64_t epoch) {
    const auto& s = clean.shape();
    const auto n_clean = s[0], kk = perturbed > 0 ? perturbed : n_clean;  // m = n_clean + k
    const auto per = s.per_sample();
    x_.resize({n_clean + kk, s[1], s[2], s[3]});
    y_.resize({n_clean + kk});
    noise::apply_to_images(b, noise, rng, clean, indices, kk, x_, epoch + 1);
    std::copy_n(clean.data(), n_clean * per, x_.data() + kk * per);
    std::copy_n(labels.data(), kk, y_.data());
    std::copy_n(labels.data(), n_clean, y_.data() + kk);
    return {x_, y_};
  }

  Noise noise;
  counter_rng rng;
  std::int64_t perturbed;

 private:
  tensor x_;
  index_tensor y_;
};

/// The regime that trains on clean and corrupted images together: k corrupted copies of the first
/// k clean images beside the m - k clean ones (k = m/2 unless given), cross-entropy over all m.
template <class Noise>
struct mixed : paired_batch<Noise>, detail::scored_by_cross_entropy {
  static constexpr const char* name = "mixed";
  mixed(Noise n, counter_rng r, std::int64_t k = 0) : paired_batch<Noise>(std::move(n), r, k) {}
  std::string describe() const {
    return "clean and noisy mixed, k = " + (this->perturbed ? std::to_string(this->perturbed) : std::string("m/2")) +
           ", " + this->noise.describe();
  }
};

/// The mixed regime's batch scored by pivot_loss (losses/pivot.hpp): cross-entropy plus a term
/// pulling each perturbed copy's logits towards its clean image's logits, which that term does not move.
template <class Noise>
struct pivot : paired_batch<Noise> {
  static constexpr const char* name = "pivot";
  /// pivot's settings: k, the perturbed copies per batch (0: m/2), and pivot_loss's weights, lambda for
  /// the perturbed rows' cross-entropy and lambda2 for the logit distance (the paper's 0.3 and 1e-4).
  struct options {
    std::int64_t perturbed = 0;  // k; 0: m/2
    float lambda = 0.3f, lambda2 = 1e-4f;
  };
  pivot(Noise n, counter_rng r, options o) : paired_batch<Noise>(std::move(n), r, o.perturbed), opt(o) {}

  template <class Ctx>
  float loss(Ctx& ctx, const tensor_of<Ctx>& logits, const basic_index_tensor<typename Ctx::memory>& y) {
    const auto k = this->k(logits.shape()[0]);
    loss_.opt.perturbed = k;
    const float l = loss_.forward(ctx, logits, y);
    watched_.distance += loss_.distance() / double(k);
    watched_.max_logit = std::max(watched_.max_logit, max_abs(ctx.backend, logits.numel(), logits.data()));
    ++watched_.steps;
    return l;
  }
  template <class Ctx>
  const tensor_of<Ctx>& gradient(const Ctx& ctx) const { return loss_.backward(ctx); }
  /// What to watch while it trains (the progress line shows it): since watch_reset(), the mean
  /// distance term per pair ‖E' - E‖² and the largest |logit|. Pivot loss pulls the perturbed
  /// logits towards clean ones it does not move; with seed 004's λ2 on the robustness recipe the
  /// logits' scale runs away, and both figures grow by orders of magnitude an epoch or two before
  /// the accuracy collapses (docs/results.md, "Why pivot loss is unstable on this recipe").
  std::string watch() const {
    char text[80];
    std::snprintf(text, sizeof text, "dist/pair %.2f  max|logit| %.1f",
                  watched_.steps ? watched_.distance / double(watched_.steps) : 0.0, double(watched_.max_logit));
    return text;
  }
  void watch_reset() { watched_ = {}; }
  std::string describe() const {
    char weights[64];
    std::snprintf(weights, sizeof weights, ", lambda %g, lambda2 %g, ", double(opt.lambda), double(opt.lambda2));
    return "pivot loss, k = " + (opt.perturbed ? std::to_string(opt.perturbed) : std::string("m/2")) + weights +
           this->noise.describe();
  }

  options opt;

 private:
  struct {
    double distance = 0;
    float max_logit = 0;
    std::int64_t steps = 0;
  } watched_;
  pivot_loss loss_{{.perturbed = 0, .lambda = opt.lambda, .lambda2 = opt.lambda2}};
};

}  // namespace hush::train
