#pragma once
// pivot_loss: classification with pixel-level regularisation (Na, Ko & Mukhopadhyay 2018, seed
// 004, eq. 1). The batch of m logits (m, K) is laid out as the paper's Algorithm 1 builds it:
// rows 0..k-1 are the perturbed copies X'_i of the clean images in rows k..2k-1, and rows
// k..m-1 are the m - k clean images (k ≤ m/2):
//
//   L = (L_org + λ·L_perturb) / ((m - k) + λ·k)  +  λ2 · Σ_{i<k} ‖E'_i - E_i‖²
//
// with L_org and L_perturb the summed cross-entropies of the clean and the perturbed rows and
// E, E' their logits. The clean logits are the pivot: no gradient flows through E_i in the
// distance term (it is a constant there), only through E'_i. Defaults are the paper's λ = 0.3,
// λ2 = 1e-4.
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// The pivot loss (Na, Ko and Mukhopadhyay 2018): cross-entropy over a batch whose first k rows
/// are perturbed copies of rows k..2k-1 (weighted λ, normalised), plus λ2 times the squared logit
/// distance of each copy to its clean row, with no gradient through the clean logits.
struct pivot_loss {
  /// Settings of pivot_loss: perturbed is k, the number of leading perturbed rows (no default: it
  /// must be given); lambda (0.3) and lambda2 (1e-4) are the paper's weights.
  struct options {
    std::int64_t perturbed;  // k: the first k rows, copies of rows k..2k-1
    float lambda = 0.3f;     // weight of the perturbed rows' cross-entropy
    float lambda2 = 1e-4f;   // weight of the logit distance
  };
  static constexpr const char* kind = "pivot_loss";

  constexpr explicit pivot_loss(options o) : opt(o) {}

  /// The loss; keeps dL/dlogits for backward(). labels (m): class indices.
  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& logits, const basic_index_tensor<typename Ctx::memory>& labels) {
    const auto& s = logits.shape();
    if (s.rank != 2 || labels.numel() != s[0])
      throw shape_error("pivot_loss: expected logits (m, K) and m labels, got logits " + s.str() + " and labels " +
                        labels.shape().str());
    const std::int64_t m = s[0], classes = s[1], k = opt.perturbed;
    if (k < 0 || 2 * k > m)
      throw shape_error("pivot_loss: " + std::to_string(k) + " perturbed rows need k <= m/2, got a batch of " +
                        std::to_string(m));
    check_class_indices(labels, classes, "pivot_loss");
    ctx[grad_].resize(s);
    const double denominator = double(m - k) + double(opt.lambda) * double(k);
    const float* z = logits.data();
    float* dz = ctx[grad_].data();
    const double perturbed = softmax_cross_entropy(ctx.backend, k, classes, z, labels.data(), 0.0f,
                                                   static_cast<float>(opt.lambda / denominator), dz);
    const double clean = softmax_cross_entropy(ctx.backend, m - k, classes, z + k * classes, labels.data() + k, 0.0f,
                                               static_cast<float>(1.0 / denominator), dz + k * classes);
    // The distance term Σ‖E' − E‖², and its gradient through the perturbed rows only.
    const double distance = squared_distance(ctx.backend, k * classes, z, z + k * classes,
                                             static_cast<float>(2.0 * opt.lambda2), dz);
    last_distance_ = distance;
    return static_cast<float>((clean + opt.lambda * perturbed) / denominator + opt.lambda2 * distance);
  }
  /// dL/dlogits of the last forward (zero through the clean logits' role as the pivot).
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const { return ctx[grad_]; }
  /// Σ‖E' - E‖² of the last forward, for logging.
  double distance() const { return last_distance_; }

  options opt;

 private:
  kept grad_;
  double last_distance_ = 0;
};

}  // namespace hush
