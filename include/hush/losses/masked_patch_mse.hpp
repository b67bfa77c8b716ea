#pragma once
// masked_patch_mse: the MAE's reconstruction loss (He et al. 2022): the mean squared error of
// each patch's predicted pixels, averaged over the patches the encoder did not see.
//   pred (N, T, P), target (N, T, P) (patchify of the images), mask (N, T), 1 where dropped.
// With norm_pix, each target patch is first normalised by its own mean and (unbiased) variance,
// (t - μ)/√(σ² + 1e-6), the paper's better-representation option; its predictions are then in
// those units. When no patch is masked (ratio 0) every patch counts, so the same loss scores a
// plain reconstruction. Per-patch sums are in double, added on the host in order: the same value
// on every backend and thread count.
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/memory_array.hpp"
#include "hush/core/random.hpp"  // HUSH_HD
#include "hush/core/tensor.hpp"

namespace hush {

/// The MAE's reconstruction loss: each patch's mean squared error, pred and target (N, T, P),
/// averaged over the patches the mask (N, T) marks as dropped (1), or over every patch when it
/// marks none. Summed on the host in order, for the same value on every backend.
struct masked_patch_mse {
  /// Settings of masked_patch_mse: norm_pix first normalises each target patch by its own mean and
  /// unbiased variance, the MAE paper's option (default off: raw pixels).
  struct options {
    bool norm_pix = false;
  };
  static constexpr const char* kind = "masked_patch_mse";
  constexpr masked_patch_mse() = default;
  constexpr explicit masked_patch_mse(options o) : opt(o) {}

  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& pred, const tensor_of<Ctx>& target, const tensor_of<Ctx>& mask) {
    const auto s = pred.shape();
    if (s.rank != 3 || target.shape() != s || mask.shape() != shape{s[0], s[1]})
      throw shape_error("masked_patch_mse: expected prediction and target (N, T, P) and mask (N, T), got " + s.str() + ", " +
                        target.shape().str() + " and " + mask.shape().str());
    const std::int64_t rows = s[0] * s[1], p = s[2];
    ctx[grad_].resize(s);
    memory_array<typename Ctx::memory, double> sums(2 * rows);  // per patch: its error, its mask
    const bool norm = opt.norm_pix;
    const float *y = pred.data(), *t = target.data(), *m = mask.data();
    float* g = ctx[grad_].data();
    double* out = sums.data();
    for_each_index(ctx.backend, rows, [=] HUSH_HD(std::int64_t r) {
      const float* yr = y + r * p;
      const float* tr = t + r * p;
      double mean = 0, scale = 1;
      if (norm) {
        double sum = 0, sq = 0;
        for (std::int64_t j = 0; j < p; ++j) sum += tr[j];
        mean = sum / double(p);
        for (std::int64_t j = 0; j < p; ++j) sq += (tr[j] - mean) * (tr[j] - mean);
        scale = 1.0 / sqrt(sq / double(p > 1 ? p - 1 : 1) + 1e-6);
      }
      double err = 0;
      for (std::int64_t j = 0; j < p; ++j) {
        const double d = yr[j] - (tr[j] - mean) * scale;
        err += d * d;
        g[r * p + j] = static_cast<float>(2.0 * d / double(p));
      }
      out[2 * r] = err / double(p);
      out[2 * r + 1] = m[r];
    });
    const auto host = sums.to_host();
    double masked = 0, count = 0, all = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      all += host[std::size_t(2 * r)];
      masked += host[std::size_t(2 * r)] * host[std::size_t(2 * r + 1)];
      count += host[std::size_t(2 * r + 1)];
    }
    const bool every = count == 0;
    const float inv = static_cast<float>(1.0 / (every ? double(rows) : count));
    for_each_index(ctx.backend, rows * p, [=] HUSH_HD(std::int64_t i) { g[i] *= (every ? 1.0f : m[i / p]) * inv; });
    return static_cast<float>(every ? all / double(rows) : masked / count);
  }
  /// dL/dpred of the last forward.
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const { return ctx[grad_]; }

  options opt;

 private:
  kept grad_;
};

}  // namespace hush
