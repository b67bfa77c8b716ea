#pragma once
// Small synthetic photos on disk, for the denoiser trainer's tests: four to train on, one to
// validate on, each a smooth gradient with a disc and a bar (denoising has something to keep).
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <string>

#include "hush/io/opencv.hpp"
#include "support.hpp"

namespace hush::test {

/// A small smooth photo: a gradient, a disc and a bar, in colour; different for each k.
inline void write_photo(const std::filesystem::path& path, int w, int h, int k) {
  cv::Mat m(h, w, CV_8UC3);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      m.at<cv::Vec3b>(i, j) = cv::Vec3b(static_cast<unsigned char>(40 + 150 * j / w), static_cast<unsigned char>(60 + 120 * i / h),
                                        static_cast<unsigned char>(90 + 20 * k));
  cv::circle(m, {w / 3 + 3 * k, h / 2}, h / 4, cv::Scalar(200 - 30 * k, 50, 90 + 25 * k), cv::FILLED, cv::LINE_AA);
  cv::rectangle(m, {w / 2, h / 5}, {w / 2 + w / 6, h - h / 5}, cv::Scalar(30, 180, 220 - 40 * k), cv::FILLED);
  cv::GaussianBlur(m, m, {5, 5}, 1.0);
  hush::io::write_image(path, m);
}

/// Four training photos (64-88 × 56) and one validation photo (48 × 40) in temporary folders.
struct tiny_photos {
  temp_dir train{"denoise-train"}, val{"denoise-val"};
  tiny_photos() {
    for (int k = 0; k < 4; ++k) {
      std::string name = "p0.png";  // not "p" + std::to_string(k): GCC 12 misreports it (PR 105329)
      name[1] = char('0' + k);
      write_photo(train.path / name, 64 + 8 * k, 56, k);
    }
    write_photo(val.path / "v.png", 48, 40, 2);
  }
};

}  // namespace hush::test
