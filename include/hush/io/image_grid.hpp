#pragma once
// Batches of images side by side in one PNG, a labelled row per batch: what a GAN made of the
// same inputs after each epoch (input / generated / real), where a person would rather look.
//
//   hush::io::save_image_grid("grids/epoch_003.png", {{"input", x}, {"generated", g}, {"real", y}});
//
// Every batch is (N, C, H, W) with values in [0, 1], C = 1 or 3, all of one shape; small images
// are enlarged by a whole factor (nearest neighbour) so that a 28-pixel digit is visible.
#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "hush/core/error.hpp"
#include "hush/io/opencv.hpp"

namespace hush::io {

/// Saves `rows` (label, batch) as one image at `path`, a labelled row per batch, each image
/// enlarged by a whole factor so that its shorter side has at least `min_side` pixels.
inline void save_image_grid(const std::filesystem::path& path, const std::vector<std::pair<std::string, tensor>>& rows,
                            int min_side = 96) {
  if (rows.empty()) throw error("save_image_grid: no rows");
  const shape s = rows[0].second.shape();
  if (s.rank != 4 || (s[1] != 1 && s[1] != 3))
    throw shape_error("save_image_grid: expected batches (N, 1 or 3, H, W), got " + s.str());
  for (const auto& [label, batch] : rows)
    if (batch.shape() != s)
      throw shape_error("save_image_grid: row '" + label + "' is " + batch.shape().str() + ", the first row " + s.str());
  const int n = int(s[0]), c = int(s[1]), h = int(s[2]), w = int(s[3]);
  const int zoom = std::max(1, (min_side + std::min(h, w) - 1) / std::min(h, w));
  const int th = h * zoom, tw = w * zoom, gap = 4, left = 110;
  cv::Mat grid(int(rows.size()) * (th + gap) + gap, left + n * (tw + gap), CV_8UC3, cv::Scalar(255, 255, 255));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int y = gap + int(r) * (th + gap);
    cv::putText(grid, rows[r].first, {6, y + th / 2 + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
    const tensor& batch = rows[r].second;
    for (int i = 0; i < n; ++i) {
      const tensor one({c, h, w}, std::vector<float>(batch.data() + std::int64_t(i) * c * h * w,
                                                     batch.data() + std::int64_t(i + 1) * c * h * w));
      cv::Mat tile = to_image(one), big;
      if (c == 1) cv::cvtColor(tile, tile, cv::COLOR_GRAY2BGR);
      cv::resize(tile, big, {tw, th}, 0, 0, cv::INTER_NEAREST);
      big.copyTo(grid(cv::Rect(left + i * (tw + gap), y, tw, th)));
    }
  }
  write_image(path, grid);
}

}  // namespace hush::io
