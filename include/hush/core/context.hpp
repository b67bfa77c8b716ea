#pragma once
// What a layer needs to know besides its input: which backend runs the kernels, train or eval
// mode, the random seed and step, and a scratch workspace shared by all layers of one network.
#include <cstdint>

#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

/// train: batch statistics, dropout, noise layers active. eval: running statistics, no
/// dropout; backward still allowed (input gradients of a fixed network). inference: eval's
/// arithmetic with no backward to come, so a seq may fuse layers (batch norm folded into the
/// convolution before it, ReLU applied in the convolution's kernel) and skip their buffers.
enum class mode { train, eval, inference };

template <class Backend>
class context {
 public:
  using backend_type = Backend;

  explicit context(std::uint64_t seed = 0) : rng{seed} {}

  Backend backend{};
  hush::mode mode = mode::train;
  counter_rng rng;
  /// Advanced once per training step (by the trainer), so dropout masks and noise differ per step.
  std::uint64_t step = 0;
  /// Counts model::infer() calls: a layer that keeps a copy of its weights made for inference
  /// (conv2d with the batch norm after it folded in, in the backend's layout) makes it again when
  /// this changed since. So weights changed while in inference mode need another infer().
  std::uint64_t inference_version = 0;

  bool training() const { return mode == mode::train; }

  /// A fresh random stream for a layer. Called in setup, in the network's fixed traversal order,
  /// so each layer's stream (and thus its initial weights) depends only on the seed and the type.
  std::uint64_t next_stream() { return ++streams_; }
  void reset_streams() { streams_ = 0; }

  /// Scratch memory for one kernel call (im2col columns, ...). Valid until the next call.
  float* scratch(std::int64_t count) {
    if (workspace_.numel() < count) workspace_.resize(shape{count});
    return workspace_.data();
  }

 private:
  std::uint64_t streams_ = 0;
  tensor workspace_;
};

}  // namespace hush
