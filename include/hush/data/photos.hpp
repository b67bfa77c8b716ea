#pragma once
// A folder of photos for image-to-image training: every image of the folder, decoded once and
// kept at 8 bits (3 bytes a pixel in colour), of any sizes. A training batch is `batch` random
// square crops with random left-right flips; crop k of epoch e is keyed by (seed, e, k), so a
// run draws the same batches whatever happened before it (resume is exact). Photos larger than
// `max_side` on their longer side are shrunk first (area interpolation), so a folder of camera
// pictures fits in memory and its noise-free detail matches the crop's scale. A file that
// cannot be read is an error naming it; so is a photo smaller than the crop.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"
#include "hush/data/image_folder.hpp"  // image_files
#include "hush/io/opencv.hpp"

namespace hush::data {

/// How photos reads a folder: RGB or grey, the longer side to shrink larger photos to, the shorter
/// side below which a photo is refused (0: no limit for either), and a pixel limit checked before decoding.
struct photos_options {
  int channels = 3;            // 3: RGB, 1: grey
  std::int64_t max_side = 0;   // shrink photos whose longer side exceeds this (0: keep)
  std::int64_t min_side = 0;   // refuse photos whose shorter side is below this (the crop)
  std::int64_t max_pixels = io::default_max_pixels;
};

/// Photos for image-to-image training, decoded once and kept as 8-bit images of any size. Batches
/// are random square crops, a photo picked in proportion to its area, keyed by (seed, epoch, crop).
class photos {
 public:
  /// Every image file of `folder`, sorted by name.
  static photos from_folder(const std::filesystem::path& folder, photos_options o = {}) {
    if (!std::filesystem::is_directory(folder)) throw io_error(folder.string() + ": not a folder");
    const auto files = image_files(folder);
    if (files.empty()) throw io_error(folder.string() + ": no images (PNG, JPEG, BMP, PNM, TIFF or WebP)");
    return from_files(files, o);
  }
  static photos from_files(const std::vector<std::filesystem::path>& files, photos_options o = {}) {
    if (o.channels != 1 && o.channels != 3) throw error("photos: channels must be 1 or 3");
    photos set;
    set.channels_ = o.channels;
    for (const auto& f : files) {
      cv::Mat m = io::read_image(f, o.channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE, o.max_pixels);
      if (m.depth() != CV_8U) m.convertTo(m, CV_8U, m.depth() == CV_16U ? 1.0 / 257.0 : 255.0);
      if (o.max_side > 0 && std::max(m.rows, m.cols) > o.max_side) {
        const double s = double(o.max_side) / std::max(m.rows, m.cols);
        cv::resize(cv::Mat(m), m, cv::Size(), s, s, cv::INTER_AREA);
      }
      if (o.min_side > 0 && std::min(m.rows, m.cols) < o.min_side)
        throw io_error(f.string() + ": " + std::to_string(m.cols) + " x " + std::to_string(m.rows) +
                       " pixels, smaller than the " + std::to_string(o.min_side) + "-pixel crop");
      if (o.channels == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
      set.images_.push_back(m.clone());
      set.paths_.push_back(f);
      set.area_.push_back((set.area_.empty() ? 0 : set.area_.back()) + std::int64_t(m.rows) * m.cols);
    }
    return set;
  }

  std::int64_t size() const { return static_cast<std::int64_t>(images_.size()); }
  int channels() const { return channels_; }
  const std::filesystem::path& path(std::int64_t i) const { return paths_.at(static_cast<std::size_t>(i)); }
  /// Throws io_error naming the first photo whose shorter side is below `side`.
  void check_fits(std::int64_t side) const {
    for (std::size_t i = 0; i < images_.size(); ++i)
      if (images_[i].rows < side || images_[i].cols < side)
        throw io_error(paths_[i].string() + ": " + std::to_string(images_[i].cols) + " x " + std::to_string(images_[i].rows) +
                       " pixels, smaller than the " + std::to_string(side) + "-pixel crop");
  }
  /// Photo i whole, as (C, H, W) in [0, 1].
  tensor image(std::int64_t i) const {
    const cv::Mat& m = images_.at(static_cast<std::size_t>(i));
    tensor t({channels_, m.rows, m.cols});
    copy_crop(m, 0, 0, m.rows, m.cols, false, t.data());
    return t;
  }

  /// Crops `count` random side × side patches into images first..first+count-1 of `out`
  /// (N, C, side, side): patch k (k = first_key + j) is keyed by (seed, epoch, k) and picks a
  /// photo with probability proportional to its area, a position, and a flip.
  void crops(tensor& out, std::int64_t first, std::int64_t count, std::int64_t side, const counter_rng& rng,
             std::uint64_t epoch, std::uint64_t first_key, bool flip = true) const {
    const auto& s = out.shape();
    if (s.rank != 4 || s[1] != channels_ || s[2] != side || s[3] != side || first + count > s[0])
      throw shape_error("photos: crops of " + std::to_string(side) + " pixels into " + s.str());
    if (count > 0 && area_.empty()) throw error("photos: crops asked of an empty set (no photos were given)");
    for (std::int64_t j = 0; j < count; ++j) {
      const auto stream = (epoch << 40) ^ (first_key + std::uint64_t(j));
      const double a = rng.uniform(stream, 0) * double(area_.back());
      const auto pick = std::min<std::size_t>(
          static_cast<std::size_t>(std::upper_bound(area_.begin(), area_.end(), std::int64_t(a)) - area_.begin()),
          images_.size() - 1);
      const cv::Mat& m = images_[pick];
      if (m.rows < side || m.cols < side)
        throw io_error(paths_[pick].string() + ": " + std::to_string(m.cols) + " x " + std::to_string(m.rows) +
                       " pixels, smaller than the " + std::to_string(side) + "-pixel crop");
      const auto y = static_cast<int>(rng.uniform(stream, 1) * float(m.rows - side + 1));
      const auto x = static_cast<int>(rng.uniform(stream, 2) * float(m.cols - side + 1));
      const bool mirror = flip && rng.uniform(stream, 3) < 0.5f;
      copy_crop(m, std::min<int>(y, m.rows - int(side)), std::min<int>(x, m.cols - int(side)), int(side), int(side),
                mirror, out.data() + (first + j) * channels_ * side * side);
    }
  }

 private:
  /// (C, h, w) floats in [0, 1] from rows y.., columns x.. of m (mirrored left-right if asked).
  void copy_crop(const cv::Mat& m, int y, int x, int h, int w, bool mirror, float* dst) const {
    const int c = channels_;
    for (int i = 0; i < h; ++i) {
      const auto* row = m.ptr<unsigned char>(y + i) + std::int64_t(x) * c;
      for (int j = 0; j < w; ++j) {
        const int from = mirror ? w - 1 - j : j;
        for (int k = 0; k < c; ++k) dst[(std::int64_t(k) * h + i) * w + j] = float(row[from * c + k]) * (1.0f / 255.0f);
      }
    }
  }

  int channels_ = 3;
  std::vector<cv::Mat> images_;  // 8-bit, RGB or grey
  std::vector<std::filesystem::path> paths_;
  std::vector<std::int64_t> area_;  // cumulative pixel counts, for picking by area
};

}  // namespace hush::data
