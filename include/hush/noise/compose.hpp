#pragma once
// Noise composed at compile time:
//   chain<Ns...>   every noise in turn on the same image (seed 000: gaussian + salt_pepper + poisson)
//   one_of<Ns...>  one noise per image, chosen with weights (seed 001: gaussian | salt_pepper | speckle)
// and applying a noise to a batch of images (N, C, H, W), image i keyed by its data-set index.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "hush/backend/cpu/elementwise.hpp"  // where host_only noise runs
#include "hush/core/tensor.hpp"
#include "hush/noise/noise.hpp"

namespace hush::noise {

/// Every noise of `Ns` in turn on the same image, each on its own stream: the first reads the
/// input, the others corrupt its result (seed 000: gaussian, then salt_pepper, then poisson).
template <class... Ns>
struct chain {
  static constexpr const char* kind = "chain";
  std::tuple<Ns...> parts;

  constexpr chain() = default;
  constexpr explicit chain(Ns... ns) : parts(std::move(ns)...) {}

  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      // The first reads x; the others work in place on y.
      ((std::get<I>(parts).apply(b, rng, child_stream(stream, I), img, I == 0 ? x : y, y)), ...);
    }(std::index_sequence_for<Ns...>{});
  }
  constexpr bool runs_on_host() const {
    return std::apply([](const auto&... n) { return (noise::runs_on_host(n) || ...); }, parts);
  }
  std::string describe() const {
    std::string s;
    std::apply([&](const auto&... n) { ((s += (s.empty() ? "" : "+") + n.describe()), ...); }, parts);
    return s;
  }
};

/// One noise of `Ns` per image, chosen by a draw of the image's stream against `weights` (equal
/// unless given): seed 001's gaussian, salt_pepper or speckle.
template <class... Ns>
struct one_of {
  static constexpr const char* kind = "one_of";
  std::tuple<Ns...> options;
  std::array<float, sizeof...(Ns)> weights;

  constexpr one_of() : weights(equal()) {}
  constexpr explicit one_of(Ns... ns) : options(std::move(ns)...), weights(equal()) {}
  constexpr one_of(std::array<float, sizeof...(Ns)> w, Ns... ns) : options(std::move(ns)...), weights(w) {}

  /// Which option image `stream` gets: draw 1 of the stream against the cumulative weights.
  std::size_t choose(const counter_rng& rng, std::uint64_t stream) const {
    float total = 0.0f;
    for (float w : weights) total += w;
    const float u = rng.uniform(stream, 1) * total;
    float acc = 0.0f;
    for (std::size_t k = 0; k < weights.size(); ++k)
      if (u < (acc += weights[k])) return k;
    return weights.size() - 1;
  }
  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    const auto k = choose(rng, stream);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == k ? std::get<I>(options).apply(b, rng, child_stream(stream, I), img, x, y) : void()), ...);
    }(std::index_sequence_for<Ns...>{});
  }
  constexpr bool runs_on_host() const {
    return std::apply([](const auto&... n) { return (noise::runs_on_host(n) || ...); }, options);
  }
  std::string describe() const {
    std::string s = "one_of(";
    std::size_t k = 0;
    std::apply([&](const auto&... n) { ((s += (k++ ? ", " : "") + n.describe()), ...); }, options);
    return s + ")";
  }

 private:
  static constexpr std::array<float, sizeof...(Ns)> equal() {
    std::array<float, sizeof...(Ns)> w{};
    for (auto& v : w) v = 1.0f;
    return w;
  }
};

/// `noise` with its clipping to [0, 1] off wherever it has any (gaussian, speckle, poisson; through
/// chains and one_of): a Noise2Noise target drawn from it has the clean image as its mean, which
/// the L2 loss needs (Lehtinen et al. 2018 do not clip); clipped, dark and bright pixels' means
/// move inward. Models without clipping come back as they are.
template <class Noise>
Noise unclipped(Noise noise) {
  if constexpr (requires { noise.clip = false; }) noise.clip = false;
  if constexpr (requires { noise.parts; }) std::apply([](auto&... n) { ((n = unclipped(n)), ...); }, noise.parts);
  if constexpr (requires { noise.options; }) std::apply([](auto&... n) { ((n = unclipped(n)), ...); }, noise.options);
  return noise;
}

namespace detail {
/// Runs `apply(backend, batch, out)` where the noise can run: on `b` and the tensors as they are,
/// or, for a host_only noise on device tensors, on the cpu backend with the images moved to the
/// host and the result moved back.
template <class Noise, class B, class Memory, class F>
void where_it_runs(B b, const Noise& noise, const basic_tensor<Memory>& batch, basic_tensor<Memory>& out, F apply) {
  static_assert(std::is_same_v<memory_of<B>, Memory>,
                "hush::noise: the images must live where the backend runs its kernels (to(backend, t) moves them)");
  if constexpr (!Memory::host_accessible) {
    if (runs_on_host(noise)) {
      tensor host_out = to_host(out);  // apply_to_images leaves images past `count` as they are
      apply(backend::cpu{}, to_host(batch), host_out);
      out = to_device(host_out);
      return;
    }
  }
  apply(b, batch, out);
}
}  // namespace detail

/// Corrupts images 0..count-1 of `batch` (N, C, H, W) into the same places of `out` (which must
/// hold them), image j keyed by data-set index indices[j] and `salt`: for shuffled batches, whose
/// images are not consecutive in the data set.
template <class Noise, class B, class Memory>
void apply_to_images(B b, const Noise& noise, const counter_rng& rng, const basic_tensor<Memory>& batch,
                     std::span<const std::int64_t> indices, std::int64_t count, basic_tensor<Memory>& out,
                     std::uint64_t salt = 0) {
  detail::where_it_runs(b, noise, batch, out, [&](auto backend, const auto& x, auto& y) {
    const auto& s = x.shape();
    const shape img{s[1], s[2], s[3]};
    const auto per = img.numel();
    for (std::int64_t j = 0; j < count; ++j)
      noise.apply(backend, rng, image_stream(static_cast<std::uint64_t>(indices[static_cast<std::size_t>(j)]), salt),
                  img, x.data() + j * per, y.data() + j * per);
  });
}

/// Corrupts every image of `batch` (N, C, H, W) into `out` (resized to match). Image n is keyed
/// by data-set index first_index + n and `salt` (a second, independent draw of the same images —
/// Noise2Noise's pairs — uses another salt).
template <class Noise, class B, class Memory>
void apply_to_batch(B b, const Noise& noise, const counter_rng& rng, const basic_tensor<Memory>& batch,
                    basic_tensor<Memory>& out, std::uint64_t first_index = 0, std::uint64_t salt = 0) {
  if (out.shape() != batch.shape()) out.resize(batch.shape());
  detail::where_it_runs(b, noise, batch, out, [&](auto backend, const auto& x, auto& y) {
    const auto& s = x.shape();
    const shape img{s[1], s[2], s[3]};
    const auto per = img.numel();
    for (std::int64_t n = 0; n < s[0]; ++n)
      noise.apply(backend, rng, image_stream(first_index + static_cast<std::uint64_t>(n), salt), img,
                  x.data() + n * per, y.data() + n * per);
  });
}

}  // namespace hush::noise
