#pragma once
// Augmentation of a batch of images (N, C, H, W) in memory: random horizontal flips and random
// crops from a zero-padded image (CIFAR's "pad 4, crop 32"). Every draw is keyed by
// (seed, epoch, data-set index), so a run is the same on every machine and thread count, and a
// resumed run draws what an uninterrupted one would.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"

namespace hush::data {

/// Which random augmentations augment() applies: a left-right flip, and a crop from the image
/// padded with crop_padding zeros. The defaults apply none.
struct augmentation {
  bool flip = false;               // mirror left-right with probability 1/2
  std::int64_t crop_padding = 0;   // pad by this many zeros, then crop back to H × W at random
  bool any() const { return flip || crop_padding > 0; }
};

namespace detail {
constexpr std::uint64_t augment_stream(std::uint64_t epoch, std::uint64_t index) {
  return counter_rng::mix(counter_rng::mix(epoch + 0x41554730ULL) ^ index);
}
}  // namespace detail

/// Augments image j of `batch` as data-set image indices[j] in `epoch`, in place.
inline void augment(tensor& batch, std::span<const std::int64_t> indices, const augmentation& a, counter_rng rng,
                    std::uint64_t epoch) {
  if (!a.any()) return;
  const auto& s = batch.shape();
  if (s.rank != 4 || static_cast<std::int64_t>(indices.size()) != s[0])
    throw shape_error("augment: expected (N, C, H, W) and N indices, got " + s.str() + " and " +
                      std::to_string(indices.size()));
  const std::int64_t c = s[1], h = s[2], w = s[3], pad = a.crop_padding;
#pragma omp parallel if (s[0] * c * h * w > 65536)
  {
    std::vector<float> plane(static_cast<std::size_t>(h * w));
#pragma omp for
    for (std::int64_t j = 0; j < s[0]; ++j) {
      const auto stream = detail::augment_stream(epoch, static_cast<std::uint64_t>(indices[static_cast<std::size_t>(j)]));
      const bool flip = a.flip && rng.uniform(stream, 0) < 0.5f;
      // The crop's top-left corner in the padded image, 0..2·pad; pad, pad is no shift.
      const auto dy = pad ? static_cast<std::int64_t>(rng.uniform(stream, 1) * float(2 * pad + 1)) - pad : 0;
      const auto dx = pad ? static_cast<std::int64_t>(rng.uniform(stream, 2) * float(2 * pad + 1)) - pad : 0;
      if (!flip && dy == 0 && dx == 0) continue;
      for (std::int64_t ch = 0; ch < c; ++ch) {
        float* img = batch.data() + (j * c + ch) * h * w;
        std::copy_n(img, h * w, plane.data());
        for (std::int64_t y = 0; y < h; ++y)
          for (std::int64_t x = 0; x < w; ++x) {  // crop, then flip the crop
            const auto sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
            const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
            img[y * w + x] = inside ? plane[static_cast<std::size_t>(sy * w + sx)] : 0.0f;
          }
      }
    }
  }
}

}  // namespace hush::data
