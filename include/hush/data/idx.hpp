#pragma once
// The idx format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzip-compressed:
// big-endian magic (0x0000 08 D), D big-endian extents, then unsigned bytes.
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush::data {

namespace detail {
inline std::vector<unsigned char> read_gz(const std::filesystem::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw io_error(path.string() + ": cannot open");
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  int got = 0;
  while ((got = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + got);
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string why = (got < 0 || err < 0) ? std::string(msg ? msg : "read error") : "";
  gzclose(f);
  if (!why.empty()) throw io_error(path.string() + ": " + why);
  return bytes;
}
}  // namespace detail

/// An idx file as a float tensor (values as stored, 0..255), with its extents as the shape.
/// Images (N, 28, 28) are returned as (N, 1, 28, 28).
inline tensor read_idx(const std::filesystem::path& path) {
  const auto bytes = detail::read_gz(path);
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw io_error(path.string() + ": not an idx file of unsigned bytes");
  const int rank = bytes[3];
  if (rank < 1 || rank > 3) throw io_error(path.string() + ": idx rank " + std::to_string(rank) + " not supported");
  std::size_t offset = 4;
  std::int64_t count = 1;
  std::vector<std::int64_t> dims;
  for (int d = 0; d < rank; ++d, offset += 4) {
    if (bytes.size() < offset + 4) throw io_error(path.string() + ": truncated header");
    const auto v = (std::int64_t(bytes[offset]) << 24) | (std::int64_t(bytes[offset + 1]) << 16) |
                   (std::int64_t(bytes[offset + 2]) << 8) | std::int64_t(bytes[offset + 3]);
    dims.push_back(v);
    count *= v;
  }
  if (bytes.size() != offset + static_cast<std::size_t>(count))
    throw io_error(path.string() + ": expected " + std::to_string(count) + " values after the header, found " +
                   std::to_string(bytes.size() - offset));
  shape s = rank == 1 ? shape{dims[0]} : rank == 2 ? shape{dims[0], dims[1]} : shape{dims[0], 1, dims[1], dims[2]};
  tensor t(s);
  for (std::int64_t i = 0; i < count; ++i) t[i] = bytes[offset + static_cast<std::size_t>(i)];
  return t;
}

/// A labelled image set: images (N, C, H, W) scaled to [0, 1], labels (N) as class indices.
struct labelled_images {
  tensor images, labels;
  std::int64_t size() const { return labels.numel(); }
};

/// Fashion-MNIST (Xiao et al. 2017) from the idx files of Debian's dataset-fashion-mnist.
/// split is "train" (60,000 images) or "t10k" (10,000).
inline labelled_images fashion_mnist(const std::filesystem::path& dir, const std::string& split) {
  labelled_images set{read_idx(dir / (split + "-images-idx3-ubyte.gz")), read_idx(dir / (split + "-labels-idx1-ubyte.gz"))};
  if (set.images.shape().rank != 4 || set.images.shape()[0] != set.labels.numel())
    throw io_error(dir.string() + ": " + split + " images " + set.images.shape().str() + " do not match labels " +
                   set.labels.shape().str());
  for (auto& v : set.images.values()) v /= 255.0f;
  return set;
}

inline const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

}  // namespace hush::data
