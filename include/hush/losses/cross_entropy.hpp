#pragma once
// Cross-entropy from logits (N, K) against class indices (N), mean over the batch, optional label
// smoothing: torch.nn.CrossEntropyLoss(label_smoothing=ε). The indices are an integer tensor
// (core/index_tensor.hpp) in the model's memory.
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// Cross-entropy from logits (N, K) against N class indices, torch.nn.CrossEntropyLoss with
/// reduction='mean' (over the batch) and optional label smoothing.
struct cross_entropy {
  /// Settings of cross_entropy: label_smoothing ε trains towards (1 - ε)·onehot + ε/K; the
  /// default 0 is plain cross-entropy.
  struct options {
    float label_smoothing = 0.0f;
  };
  static constexpr const char* kind = "cross_entropy";

  constexpr cross_entropy() = default;
  constexpr explicit cross_entropy(options o) : opt(o) {}

  /// The loss; keeps dL/dlogits for backward().
  template <class Ctx>
  float forward(Ctx& ctx, const tensor_of<Ctx>& logits, const basic_index_tensor<typename Ctx::memory>& labels) {
    const auto& s = logits.shape();
    if (s.rank != 2 || labels.numel() != s[0])
      throw shape_error("cross_entropy: expected logits (N, K) and N labels, got logits " + s.str() + " and labels " +
                        labels.shape().str());
    check_class_indices(labels, s[1], "cross_entropy");
    ctx[grad_].resize(s);
    const double total = softmax_cross_entropy(ctx.backend, s[0], s[1], logits.data(), labels.data(),
                                               opt.label_smoothing, 1.0f / float(s[0]), ctx[grad_].data());
    return static_cast<float>(total / double(s[0]));
  }
  /// dL/dlogits of the last forward.
  template <class Ctx>
  const tensor_of<Ctx>& backward(const Ctx& ctx) const { return ctx[grad_]; }

  options opt{};

 private:
  kept grad_;
};

}  // namespace hush
