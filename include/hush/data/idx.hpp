#pragma once
// The idx format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzip-compressed:
// big-endian magic (0x0000 08 D), D big-endian extents, then unsigned bytes.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/tensor.hpp"
#include "hush/data/batches.hpp"
#include "hush/io/paths.hpp"

namespace hush::data {

namespace detail {
/// A gzip (or plain) file read in order, naming the file in every error.
class gz_reader {
 public:
  explicit gz_reader(const std::filesystem::path& path) : path_(path), f_(nullptr) {
    io::check_input_file(path);
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) throw io_error(path.string() + ": cannot open");
  }
  gz_reader(const gz_reader&) = delete;
  gz_reader& operator=(const gz_reader&) = delete;
  ~gz_reader() { gzclose(f_); }
  /// Reads up to `count` bytes onto the end of `out`; returns how many came.
  std::size_t read(std::vector<unsigned char>& out, std::size_t count) {
    std::size_t got = 0;
    unsigned char buf[1 << 16];
    while (got < count) {
      const int n = gzread(f_, buf, static_cast<unsigned>(std::min(count - got, sizeof buf)));
      if (n < 0) {
        int err = 0;
        const char* msg = gzerror(f_, &err);
        throw io_error(path_.string() + ": " + (msg ? msg : "read error"));
      }
      if (n == 0) break;
      out.insert(out.end(), buf, buf + n);
      got += static_cast<std::size_t>(n);
    }
    return got;
  }

 private:
  std::filesystem::path path_;
  gzFile f_;
};
}  // namespace detail

/// An idx file's bytes and its extents as a shape; images (N, 28, 28) become (N, 1, 28, 28).
/// The header is read first and the data after it only up to what the header declares, so
/// memory is bounded by the declared size (checked for overflow) and by what the file really
/// holds, never by a compressed bomb.
struct idx_contents {
  shape extents;
  std::vector<unsigned char> values;
};
/// Reads an idx file of unsigned bytes, rank 1 to 3, plain or gzip-compressed; throws io_error,
/// naming the file, for any other file or one whose data does not match its header.
inline idx_contents read_idx_bytes(const std::filesystem::path& path) {
  detail::gz_reader in(path);
  std::vector<unsigned char> bytes;
  if (in.read(bytes, 4) < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw io_error(path.string() + ": not an idx file of unsigned bytes");
  const int rank = bytes[3];
  if (rank < 1 || rank > 3) throw io_error(path.string() + ": idx rank " + std::to_string(rank) + " not supported");
  if (in.read(bytes, 4 * std::size_t(rank)) < 4 * std::size_t(rank)) throw io_error(path.string() + ": truncated header");
  std::int64_t count = 1;
  std::vector<std::int64_t> dims;
  for (int d = 0; d < rank; ++d) {
    const std::size_t o = 4 + 4 * std::size_t(d);
    const auto v = (std::int64_t(bytes[o]) << 24) | (std::int64_t(bytes[o + 1]) << 16) | (std::int64_t(bytes[o + 2]) << 8) |
                   std::int64_t(bytes[o + 3]);
    if (v == 0) throw io_error(path.string() + ": extent " + std::to_string(d) + " is 0: an empty idx file");
    if (count > std::numeric_limits<std::int64_t>::max() / v)
      throw io_error(path.string() + ": its extents multiply past 2^63 values");
    dims.push_back(v);
    count *= v;
  }
  std::vector<unsigned char> data;
  const auto got = in.read(data, static_cast<std::size_t>(count));
  if (got < static_cast<std::size_t>(count))
    throw io_error(path.string() + ": expected " + std::to_string(count) + " values after the header, found " + std::to_string(got));
  if (std::vector<unsigned char> more; in.read(more, 1) > 0)
    throw io_error(path.string() + ": more data than the header's " + std::to_string(count) + " values");
  return {rank == 1 ? shape{dims[0]} : rank == 2 ? shape{dims[0], dims[1]} : shape{dims[0], 1, dims[1], dims[2]},
          std::move(data)};
}

/// An idx file as a float tensor (values as stored, 0..255): images.
inline tensor read_idx(const std::filesystem::path& path) {
  const auto c = read_idx_bytes(path);
  tensor t(c.extents);
  std::copy(c.values.begin(), c.values.end(), t.data());
  return t;
}
/// An idx file as integers: class labels.
inline index_tensor read_idx_indices(const std::filesystem::path& path) {
  const auto c = read_idx_bytes(path);
  return index_tensor(c.extents, std::vector<std::int32_t>(c.values.begin(), c.values.end()));
}

/// A labelled image set: images (N, C, H, W) scaled to [0, 1], labels (N) as class indices.
struct labelled_images {
  tensor images;
  index_tensor labels;
  std::int64_t size() const { return labels.numel(); }
  /// Images and labels [begin, end), copied.
  labelled_images slice(std::int64_t begin, std::int64_t end) const {
    labelled_images out;
    data::slice(images, begin, end, out.images);
    data::slice(labels, begin, end, out.labels);
    return out;
  }
  /// The first n (all of them when n is 0 or at least the size).
  labelled_images first(std::int64_t n) const { return n <= 0 || n >= size() ? *this : slice(0, n); }
};

/// Fashion-MNIST (Xiao et al. 2017) from the idx files of Debian's dataset-fashion-mnist.
/// split is "train" (60,000 images) or "t10k" (10,000).
inline labelled_images fashion_mnist(const std::filesystem::path& dir, const std::string& split) {
  labelled_images set{read_idx(dir / (split + "-images-idx3-ubyte.gz")), read_idx_indices(dir / (split + "-labels-idx1-ubyte.gz"))};
  if (set.images.shape().rank != 4 || set.images.shape()[0] != set.labels.numel())
    throw io_error(dir.string() + ": " + split + " images " + set.images.shape().str() + " do not match labels " +
                   set.labels.shape().str());
  for (std::int64_t i = 0; i < set.labels.numel(); ++i)
    if (set.labels[i] > 9)
      throw io_error(dir.string() + ": " + split + " label " + std::to_string(set.labels[i]) + " of image " +
                     std::to_string(i) + " is not one of Fashion-MNIST's 10 classes");
  for (auto& v : set.images.values()) v /= 255.0f;
  return set;
}

/// Where the examples look for Fashion-MNIST by default: where Debian's dataset-fashion-mnist
/// puts its idx files.
inline const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

}  // namespace hush::data
