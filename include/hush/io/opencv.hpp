#pragma once
// The one header that includes OpenCV (target hush::opencv). Reading and writing images with
// errors that name the file, and writes that never leave a half-written file behind.
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hush/core/error.hpp"
#include "hush/io/atomic_file.hpp"

namespace hush::io {

/// Reads an image as 8-bit BGR (or grey when `grey`); throws io_error naming the file when it is
/// missing, unreadable or not an image.
inline cv::Mat read_image(const std::filesystem::path& path, bool grey = false) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw io_error(path.string() + ": no such file");
  cv::Mat m = cv::imread(path.string(), grey ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  if (m.empty()) throw io_error(path.string() + ": not an image OpenCV can read");
  return m;
}

/// Encodes `image` in the format its extension names and writes it atomically.
inline void write_image(const std::filesystem::path& path, const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  const auto ext = path.extension().string();
  bool ok = false;
  try {
    ok = cv::imencode(ext.empty() ? ".png" : ext, image, bytes);
  } catch (const cv::Exception& e) {
    throw io_error(path.string() + ": cannot encode as '" + ext + "': " + e.what());
  }
  if (!ok) throw io_error(path.string() + ": cannot encode as '" + ext + "'");
  write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace hush::io
