#pragma once
// The one header that includes OpenCV (target hush::opencv). Reading and writing images with
// errors that name the file, and writes that never leave a half-written file behind.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/image_header.hpp"
#include "hush/io/paths.hpp"

namespace hush::io {

/// Images above this many pixels are refused before they are decoded: 50 megapixels, a
/// 8,660 × 5,773 photo. Each tool has --max-pixels to raise it (docs/reliability.md gives what a
/// tool needs per pixel).
inline constexpr std::int64_t default_max_pixels = 50'000'000;

namespace detail {
/// What read_image and decode_image share: the header's size checked against `max_pixels`
/// before `decode` runs, the decoded image checked after. `name` names the image in errors.
template <class Decode>
cv::Mat checked_decode(const std::string& name, std::optional<image_size> size, std::int64_t max_pixels, Decode decode) {
  const auto too_large = [&](std::int64_t w, std::int64_t h) {
    return io_error(name + ": " + std::to_string(w) + " x " + std::to_string(h) + " pixels, above the limit of " +
                    std::to_string(max_pixels) + " (raise it with --max-pixels)");
  };
  // Only the formats whose header hush reads reach OpenCV's decoders: the others (DICOM, JPEG
  // 2000, ...) are refused. Fuzzing found a file that makes OpenCV's DICOM decoder abort the
  // process (an assertion in GDCM), and a format hush cannot size cannot be held to max_pixels.
  if (!size) throw io_error(name + ": not an image hush reads (PNG, JPEG, BMP, PNM, TIFF or WebP)");
  if (size->width <= 0 || size->height <= 0)
    throw io_error(name + ": its header gives " + std::to_string(size->width) + " x " + std::to_string(size->height) +
                   " pixels: an empty or broken image");
  if (size->width > max_pixels / size->height) throw too_large(size->width, size->height);
  cv::Mat m;
  try {
    m = decode();
  } catch (const cv::Exception& e) {
    throw io_error(name + ": OpenCV could not decode it (" + e.err + ")");
  }
  if (m.empty()) throw io_error(name + ": not an image OpenCV can read");
  if (std::int64_t(m.cols) > max_pixels / std::max(1, m.rows)) throw too_large(m.cols, m.rows);
  const int depth = m.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F && depth != CV_64F)
    throw io_error(name + ": an image of signed integers (OpenCV depth " + std::to_string(depth) +
                   "), which hush does not read: convert it to 8 or 16 bits unsigned, or to float");
  return m;
}
}  // namespace detail

/// Reads an image as stored (grey stays grey, colour is BGR, 16-bit stays 16-bit, float stays
/// float), or with other cv::imread flags; throws io_error naming the file when it is missing,
/// not a file, not a PNG, JPEG, BMP, PNM, TIFF or WebP image, larger than `max_pixels` (checked
/// from the header before decoding), unreadable, or of a depth hush does not read (signed
/// integers).
inline cv::Mat read_image(const std::filesystem::path& path, int flags = cv::IMREAD_UNCHANGED,
                          std::int64_t max_pixels = default_max_pixels) {
  check_input_file(path);
  return detail::checked_decode(path.string(), read_image_size(path), max_pixels,
                                [&] { return cv::imread(path.string(), flags); });
}

/// The same for an encoded image in memory (an upload), `name` naming it in errors; the bytes'
/// header is checked against `max_pixels` before anything is decoded (a decompression bomb, a
/// small file claiming a huge picture, is refused unopened).
inline cv::Mat decode_image(std::span<const unsigned char> bytes, const std::string& name,
                            int flags = cv::IMREAD_UNCHANGED, std::int64_t max_pixels = default_max_pixels) {
  if (bytes.empty()) throw io_error(name + ": empty (0 bytes)");
  if (bytes.size() > std::size_t(std::numeric_limits<int>::max()))
    throw io_error(name + ": " + std::to_string(bytes.size()) + " bytes, more than OpenCV decodes from memory");
  return detail::checked_decode(name, read_image_size(bytes), max_pixels, [&] {
    // imdecode takes a Mat header over the caller's bytes; nothing is copied.
    const cv::Mat raw(1, int(bytes.size()), CV_8U, const_cast<unsigned char*>(bytes.data()));
    return cv::imdecode(raw, flags);
  });
}

/// `image` encoded in the format `ext` names (".png", ".jpg", ...) with OpenCV's `params`
/// (cv::IMWRITE_*); `name` names it in errors.
inline std::vector<unsigned char> encode_image(const cv::Mat& image, const std::string& ext, const std::string& name,
                                               const std::vector<int>& params = {}) {
  std::vector<unsigned char> bytes;
  bool ok = false;
  try {
    ok = cv::imencode(ext.empty() ? ".png" : ext, image, bytes, params);
  } catch (const cv::Exception& e) {
    throw io_error(name + ": cannot encode as '" + ext + "': " + e.what());
  }
  if (!ok) throw io_error(name + ": cannot encode as '" + ext + "'");
  return bytes;
}

/// Encodes `image` in the format its extension names and writes it atomically.
inline void write_image(const std::filesystem::path& path, const cv::Mat& image) {
  const auto bytes = encode_image(image, path.extension().string(), path.string());
  write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace hush::io

namespace hush::io {

/// An image (grey, BGR or BGRA) as a tensor (C, H, W), colour channels in RGB order, scaled by
/// its depth: 8-bit values by 1/255, 16-bit by 1/65535, float values taken as they are (a float
/// image holds [0, 1] by convention).
inline tensor to_tensor(const cv::Mat& image) {
  cv::Mat rgb;
  if (image.channels() == 3) cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
  else if (image.channels() == 4) cv::cvtColor(image, rgb, cv::COLOR_BGRA2RGB);
  else rgb = image;
  cv::Mat f;
  const int depth = image.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F && depth != CV_64F)
    throw io_error("to_tensor: images of signed integers are not read (OpenCV depth " + std::to_string(depth) + ")");
  rgb.convertTo(f, CV_32F, depth == CV_8U ? 1.0 / 255.0 : depth == CV_16U ? 1.0 / 65535.0 : 1.0);
  const std::int64_t c = f.channels(), h = f.rows, w = f.cols;
  tensor t({c, h, w});
  for (std::int64_t i = 0; i < h; ++i) {
    const float* row = f.ptr<float>(static_cast<int>(i));
    for (std::int64_t j = 0; j < w; ++j)
      for (std::int64_t k = 0; k < c; ++k) t[(k * h + i) * w + j] = row[j * c + k];
  }
  return t;
}

/// A tensor (C, H, W) in [0, 1] (C = 1 or 3, RGB) as a grey or BGR image of `depth`: CV_8U
/// (rounded to 0..255), CV_16U (0..65535) or CV_32F (clamped to [0, 1]).
inline cv::Mat to_image(const tensor& t, int depth = CV_8U) {
  const auto& s = t.shape();
  if (s.rank != 3 || (s[0] != 1 && s[0] != 3))
    throw shape_error("to_image: expected (1 or 3, H, W), got " + s.str());
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F) throw io_error("to_image: depth must be 8-bit, 16-bit or float");
  const int c = static_cast<int>(s[0]), h = static_cast<int>(s[1]), w = static_cast<int>(s[2]);
  cv::Mat m(h, w, CV_MAKETYPE(depth, c));
  const auto fill = [&]<class T>(T, float scale) {
    for (int i = 0; i < h; ++i) {
      auto* row = m.ptr<T>(i);
      for (int j = 0; j < w; ++j)
        for (int k = 0; k < c; ++k) {
          const float v = std::clamp(t[(std::int64_t(k) * h + i) * w + j], 0.0f, 1.0f);
          row[j * c + (c == 3 ? 2 - k : k)] = scale == 1.0f ? T(v) : static_cast<T>(std::lround(v * scale));
        }
    }
  };
  if (depth == CV_8U) fill((unsigned char)0, 255.0f);
  else if (depth == CV_16U) fill(std::uint16_t(0), 65535.0f);
  else fill(0.0f, 1.0f);
  return m;
}

/// The depth an image read as `image` is written back at to `path`: its own where the format
/// holds it (16-bit: PNG, TIFF; float: TIFF, EXR, PFM), else 8 bits.
inline int depth_for(const cv::Mat& image, const std::filesystem::path& path) {
  auto ext = path.extension().string();
  for (auto& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  const bool tiff = ext == ".tif" || ext == ".tiff";
  if (image.depth() == CV_16U && (ext == ".png" || tiff)) return CV_16U;
  if ((image.depth() == CV_32F || image.depth() == CV_64F) && (tiff || ext == ".exr" || ext == ".pfm")) return CV_32F;
  return CV_8U;
}

}  // namespace hush::io
