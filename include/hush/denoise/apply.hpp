#pragma once
// Running an image-to-image network on a photo of any size. The image is extended by mirroring
// its border (reflect-101, as OpenCV's default border) to the network's size multiple (32 for the
// U-Nets: five halvings), and the result is cropped back. Above `tile` pixels on a side the photo
// is cut into tiles of that size overlapping by `overlap` pixels on each side; each tile keeps
// only its centre, where the network saw enough context, so the seams do not show and memory is
// that of one tile whatever the photo's size (a 12-megapixel photo in 512-pixel tiles holds one
// tile's activations, not 48 tiles'). Runs in inference mode (batch norm folded). A caller that
// serves others (hush-denoise-app) watches the tiles go by and can stop the work between two.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"
#include "hush/graph/model.hpp"
#include "hush/train/progress.hpp"

namespace hush::denoise {

/// How apply runs a network over a photo: the tile side (512 pixels; a multiple of the network's
/// size_multiple), the context computed and thrown away on each side of a tile (32 pixels), an
/// optional progress line, a callback after each tile and a stop token checked before each.
struct apply_options {
  std::int64_t tile = 512;    // the largest side run at once (a multiple of the network's size multiple)
  std::int64_t overlap = 32;  // context on each side of a tile that is computed and thrown away
  bool progress = false;      // a progress line when there is more than one tile
  std::string label = "denoise";
  /// Called after each tile with the tiles done and their total.
  std::function<void(std::int64_t done, std::int64_t total)> on_tile{};
  /// Checked before each tile: once a stop is requested, apply throws hush::cancelled.
  std::stop_token stop{};
};

/// The size multiple a network's inputs need: Net::size_multiple, or 1.
template <class Net>
constexpr std::int64_t size_multiple() {
  if constexpr (requires { Net::size_multiple; }) return Net::size_multiple;
  else return 1;
}

namespace detail {
/// i mirrored into [0, n) about the edges, without repeating them (OpenCV's BORDER_REFLECT_101),
/// for any i >= 0: far past the edge the mirroring repeats.
constexpr std::int64_t reflect(std::int64_t i, std::int64_t n) {
  if (n == 1) return 0;
  const auto period = 2 * (n - 1);
  i %= period;
  return i < n ? i : period - i;
}
/// dst[j] = row[reflect(x0 + j, n)] for j < count and x0 >= 0: the part inside the row in one
/// copy, only the mirrored margin index by index.
inline void copy_reflected(const float* row, std::int64_t n, std::int64_t x0, float* dst, std::int64_t count) {
  const auto inside = std::clamp<std::int64_t>(n - x0, 0, count);
  if (inside > 0) std::copy(row + x0, row + x0 + inside, dst);
  for (std::int64_t j = inside; j < count; ++j) dst[j] = row[reflect(x0 + j, n)];
}
constexpr std::int64_t round_up(std::int64_t v, std::int64_t m) { return (v + m - 1) / m * m; }

/// Tile starts along one side of length n for tiles of t with `overlap`: 0, t - 2·overlap, ...,
/// the last one ending at max(n, t).
inline std::vector<std::int64_t> tile_starts(std::int64_t n, std::int64_t t, std::int64_t overlap) {
  std::vector<std::int64_t> starts{0};
  const auto end = std::max(n, t), step = t - 2 * overlap;
  while (starts.back() + t < end) starts.push_back(std::min(starts.back() + step, end - t));
  return starts;
}
}  // namespace detail

/// m applied to `image` (C, H, W) on the host, any H and W; returns (C, H, W).
template <class Net, class Backend>
tensor apply(model<Net, Backend>& m, const tensor& image, const apply_options& o = {}) {
  constexpr auto multiple = size_multiple<Net>();
  const auto& s = image.shape();
  if (s.rank != 3 || s[1] < 1 || s[2] < 1) throw shape_error("denoise: expected an image (C, H, W), got " + s.str());
  if (o.tile < multiple || o.tile % multiple != 0)
    throw error("denoise: the tile side " + std::to_string(o.tile) + " is not a multiple of " + Net::kind + "'s " +
                std::to_string(multiple));
  if (o.overlap < 0 || 2 * o.overlap >= o.tile)
    throw error("denoise: the overlap " + std::to_string(o.overlap) + " must be at least 0 and under half the tile side " +
                std::to_string(o.tile));
  const std::int64_t c = s[0], h = s[1], w = s[2];
  // A side that fits in one tile is run whole (padded to the multiple), a longer one in tiles.
  const auto th = std::min(o.tile, detail::round_up(h, multiple)), tw = std::min(o.tile, detail::round_up(w, multiple));
  const auto ys = detail::tile_starts(h, th, h > th ? o.overlap : 0);
  const auto xs = detail::tile_starts(w, tw, w > tw ? o.overlap : 0);
  m.setup({1, c, th, tw});
  m.infer();

  tensor out({c, h, w}), x({1, c, th, tw});
  const auto total = static_cast<std::int64_t>(ys.size() * xs.size());
  progress bar(o.label, total);
  std::int64_t done = 0;
  for (std::size_t a = 0; a < ys.size(); ++a)
    for (std::size_t b = 0; b < xs.size(); ++b) {
      if (o.stop.stop_requested())
        throw cancelled(o.label + ": stopped after " + std::to_string(done) + " of " + std::to_string(total) + " tiles");
      const auto y0 = ys[a], x0 = xs[b];
      for (std::int64_t k = 0; k < c; ++k)
        for (std::int64_t i = 0; i < th; ++i)
          detail::copy_reflected(image.data() + (k * h + detail::reflect(y0 + i, h)) * w, w, x0,
                                 x.data() + (k * th + i) * tw, tw);
      // A reference on the CPU (no copy of the tile's output), a copy from a device.
      const auto& y = to_host(m.forward(to(m.ctx.backend, x)));
      // The tile's centre: all of it at the photo's edges, less `overlap` where a neighbour
      // takes over (the next tile's kept part starts where this one's ends).
      const auto top = a == 0 ? 0 : y0 + o.overlap, left = b == 0 ? 0 : x0 + o.overlap;
      const auto bottom = std::min(h, a + 1 == ys.size() ? h : y0 + th - o.overlap);
      const auto right = std::min(w, b + 1 == xs.size() ? w : x0 + tw - o.overlap);
      for (std::int64_t k = 0; k < c; ++k)
        for (std::int64_t i = top; i < bottom; ++i)
          std::copy(y.data() + (k * th + (i - y0)) * tw + (left - x0), y.data() + (k * th + (i - y0)) * tw + (right - x0),
                    out.data() + (k * h + i) * w + left);
      ++done;
      if (o.progress && total > 1) bar.update(done, "tiles");
      if (o.on_tile) o.on_tile(done, total);
    }
  return out;
}

}  // namespace hush::denoise
