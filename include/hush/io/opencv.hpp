#pragma once
// The one header that includes OpenCV (target hush::opencv). Reading and writing images with
// errors that name the file, and writes that never leave a half-written file behind.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"
#include "hush/io/atomic_file.hpp"

namespace hush::io {

/// Reads an image as stored (grey stays grey, colour is BGR, 16-bit stays 16-bit), or with other
/// cv::imread flags; throws io_error naming the file when it is missing, unreadable or not an image.
inline cv::Mat read_image(const std::filesystem::path& path, int flags = cv::IMREAD_UNCHANGED) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw io_error(path.string() + ": no such file");
  cv::Mat m = cv::imread(path.string(), flags);
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

namespace hush::io {

/// An 8-bit image (grey or BGR) as a tensor (C, H, W) in [0, 1], colour channels in RGB order.
inline tensor to_tensor(const cv::Mat& image) {
  cv::Mat rgb;
  if (image.channels() == 3) cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
  else if (image.channels() == 4) cv::cvtColor(image, rgb, cv::COLOR_BGRA2RGB);
  else rgb = image;
  cv::Mat f;
  rgb.convertTo(f, CV_32F, image.depth() == CV_16U ? 1.0 / 65535.0 : 1.0 / 255.0);
  const std::int64_t c = f.channels(), h = f.rows, w = f.cols;
  tensor t({c, h, w});
  for (std::int64_t i = 0; i < h; ++i) {
    const float* row = f.ptr<float>(static_cast<int>(i));
    for (std::int64_t j = 0; j < w; ++j)
      for (std::int64_t k = 0; k < c; ++k) t[(k * h + i) * w + j] = row[j * c + k];
  }
  return t;
}

/// A tensor (C, H, W) in [0, 1] (C = 1 or 3, RGB) as an 8-bit grey or BGR image, rounded.
inline cv::Mat to_image(const tensor& t) {
  const auto& s = t.shape();
  if (s.rank != 3 || (s[0] != 1 && s[0] != 3))
    throw shape_error("to_image: expected (1 or 3, H, W), got " + s.str());
  const int c = static_cast<int>(s[0]), h = static_cast<int>(s[1]), w = static_cast<int>(s[2]);
  cv::Mat m(h, w, CV_8UC(c));
  for (int i = 0; i < h; ++i) {
    auto* row = m.ptr<unsigned char>(i);
    for (int j = 0; j < w; ++j)
      for (int k = 0; k < c; ++k) {
        const float v = t[(std::int64_t(k) * h + i) * w + j];
        row[j * c + (c == 3 ? 2 - k : k)] = static_cast<unsigned char>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
      }
  }
  return m;
}

}  // namespace hush::io
