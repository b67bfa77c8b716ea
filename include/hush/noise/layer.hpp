#pragma once
// Noise inside a network and in a data pipeline.
//   noise_layer<Noise>: a layer that corrupts its input in train mode (identity gradient: the
//     noise is not differentiated) and passes it through in eval mode. Each step draws anew:
//     image n of step t is keyed by (layer stream, t, n).
//   transform<Noise>: corrupts a batch of data-set images by their indices, so an image gets the
//     same noise in every run, and another draw in each epoch (the epoch is the salt).
//   noise2noise_pair: two independent noisy copies of the same clean batch (Lehtinen et al. 2018).
#include <cstdint>
#include <string>
#include <utility>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"
#include "hush/noise/compose.hpp"

namespace hush::noise {

/// A layer that corrupts its input (N, C, H, W) with `Noise` in train mode, anew at every step, and
/// passes it through in eval mode; the gradient goes straight through (the noise is data, not a
/// function to differentiate).
template <class Noise>
struct noise_layer {
  static constexpr const char* kind = "noise";
  Noise noise;

  constexpr noise_layer() = default;
  constexpr explicit noise_layer(Noise n) : noise(std::move(n)) {}

  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank != 4) throw shape_error("noise: expected (N, C, H, W), got " + in.str());
    return in;
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    output_shape(in);
    if (stream_ == 0) stream_ = ctx.next_stream();
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    if (!ctx.training()) return x;
    apply_to_batch(ctx.backend, noise, ctx.rng, x, ctx[y_], ctx.step * static_cast<std::uint64_t>(x.shape()[0]), stream_);
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx&, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    return dy;  // straight through: the corruption is data, not a function to differentiate
  }
  template <class V>
  void visit(V&&) {}
  std::string describe() const { return noise.describe(); }

 private:
  std::uint64_t stream_ = 0;
  kept y_;
};

/// Corrupts data-set images by index: the same image, seed and epoch give the same noise.
template <class Noise>
struct transform {
  transform(Noise n, counter_rng r) : noise(std::move(n)), rng(r) {}
  Noise noise;
  counter_rng rng;
  /// `batch` holds data-set images first_index, first_index + 1, ...; returns them corrupted
  /// (in the memory of `backend`, as `batch` is).
  template <class B>
  const basic_tensor<memory_of<B>>& operator()(B backend, const basic_tensor<memory_of<B>>& batch,
                                               std::uint64_t first_index, std::uint64_t epoch = 0) {
    auto& out = out_.in<memory_of<B>>();
    apply_to_batch(backend, noise, rng, batch, out, first_index, epoch);
    return out;
  }

 private:
  kept out_;
};

/// Two independent noisy copies of the same clean images (salts 2·epoch + 1 and 2·epoch + 2):
/// the input and the target of Noise2Noise training. The target is left unclipped (unclipped()),
/// so that its mean is the clean image.
template <class Noise, class B>
auto noise2noise_pair(B backend, const Noise& noise, const counter_rng& rng, const basic_tensor<memory_of<B>>& clean,
                      std::uint64_t first_index, std::uint64_t epoch = 0) {
  std::pair<basic_tensor<memory_of<B>>, basic_tensor<memory_of<B>>> p;
  apply_to_batch(backend, noise, rng, clean, p.first, first_index, 2 * epoch + 1);
  apply_to_batch(backend, unclipped(noise), rng, clean, p.second, first_index, 2 * epoch + 2);
  return p;
}

}  // namespace hush::noise
