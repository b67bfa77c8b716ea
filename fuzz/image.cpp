// libFuzzer harness: the image path (header probe, OpenCV's decoders, conversion to a tensor) on
// arbitrary bytes, from a file and from memory (fuzz/README.md). OpenCV itself is not
// instrumented: what this finds is in hush's header probe and checks, or what OpenCV lets
// through to them.
#include "harness.hpp"
#include "hush/io/opencv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* extensions[] = {".png", ".jpg", ".bmp", ".ppm", ".tif", ".webp"};
  const char* ext = extensions[size % 6];
  hush::fuzz::as_file file(data, size, ext);
  hush::fuzz::expect_clean_error([&] {
    (void)hush::io::read_image_size(file.path);
    const auto t = hush::io::to_tensor(hush::io::read_image(file.path, cv::IMREAD_UNCHANGED, 1 << 20));
    (void)hush::io::to_image(t.shape()[0] == 1 || t.shape()[0] == 3 ? t : hush::tensor({3, 1, 1}));
  });
  // The same bytes as an upload (hush-denoise-app): the header probe and decoder over memory.
  hush::fuzz::expect_clean_error([&] {
    (void)hush::io::decode_image(std::span(data, size), "upload", cv::IMREAD_UNCHANGED, 1 << 20);
  });
  return 0;
}
