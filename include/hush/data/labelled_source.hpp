#pragma once
// What a classifier trains from (train::fit), one batch at a time: a labelled set held in memory
// (Fashion-MNIST) or an image folder decoded as it goes (class folders, CACD2000), never held
// whole. Both give batch [begin, end) of an epoch's order as a pure function of (order, epoch,
// seed), so the trainer may make batches ahead on other threads (data/prefetch.hpp) and get the
// same ones whatever the thread count.
//
//   size()                      images in the set
//   image_shape()               (C, H, W) of the batches it gives
//   check_labels(classes, what) throws hush::error unless every label is a class of the network
//   load(order, begin, end, epoch, rng, images, labels, indices)
//                               the batch; `indices` receives the data-set index of each image
//                               (fewer than end - begin only when broken files were skipped)
//   pixel_mean()                the mean image (C, H, W), for per-pixel mean subtraction
//   streams                     true when batches are decoded from files (worth a thread)
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"
#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/data/pixel_mean.hpp"

namespace hush::data {

/// train::fit's source for a labelled set held in memory: a batch gathers images and labels in
/// the epoch's order, with nothing to decode (no loader threads). It keeps a reference to the set,
/// which must outlive it.
class in_memory_source {
 public:
  static constexpr bool streams = false;
  explicit in_memory_source(const labelled_images& set) : set_(set) {}

  std::int64_t size() const { return set_.size(); }
  shape image_shape() const {
    const auto& s = set_.images.shape();
    return {s[1], s[2], s[3]};
  }
  void check_labels(std::int64_t classes, const std::string& what) const {
    if (const auto i = hush::detail::first_non_class(set_.labels, classes); i >= 0)
      throw error("fit: " + what + " label " + std::to_string(set_.labels[i]) + " of image " + std::to_string(i) +
                  " is not a class of a " + std::to_string(classes) + "-class network");
  }
  void load(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end, std::uint64_t, counter_rng,
            tensor& images, index_tensor& labels, std::vector<std::int64_t>& indices) const {
    gather(set_.images, order, begin, end, images);
    gather(set_.labels, order, begin, end, labels);
    indices.assign(order.begin() + begin, order.begin() + end);
  }
  tensor pixel_mean() const { return data::pixel_mean(set_.images); }

 private:
  const labelled_images& set_;
};

/// Folder is data::image_folder (data/image_folder.hpp, which needs hush::opencv); a template
/// so that this header does not.
template <class Folder>
class folder_source {
 public:
  static constexpr bool streams = true;
  explicit folder_source(Folder& folder) : folder_(folder), shape_(folder.image_shape()) {}

  std::int64_t size() const { return folder_.size(); }
  shape image_shape() const { return shape_; }
  void check_labels(std::int64_t classes, const std::string& what) const {
    const auto has = static_cast<std::int64_t>(folder_.classes().size());
    if (has > classes)
      throw error("fit: the " + what + " folder has " + std::to_string(has) + " classes, more than the " +
                  std::to_string(classes) + " of the network");
  }
  void load(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end, std::uint64_t epoch,
            counter_rng rng, tensor& images, index_tensor& labels, std::vector<std::int64_t>& indices) const {
    folder_.load(order, begin, end, images, labels, epoch, rng, &indices);
  }
  /// One pass over the folder, a chunk at a time (epoch 0's crops).
  tensor pixel_mean() const {
    std::vector<std::int64_t> order(static_cast<std::size_t>(size()));
    for (std::int64_t i = 0; i < size(); ++i) order[static_cast<std::size_t>(i)] = i;
    std::vector<double> sum(static_cast<std::size_t>(shape_.numel()), 0.0);
    std::int64_t count = 0;
    tensor images;
    index_tensor labels;
    for (std::int64_t b = 0; b < size(); b += 256) {
      const auto n = folder_.load(order, b, std::min(b + 256, size()), images, labels);
      for (std::int64_t i = 0; i < n * shape_.numel(); ++i) sum[static_cast<std::size_t>(i % shape_.numel())] += images[i];
      count += n;
    }
    if (count == 0) throw io_error("pixel mean: no image of the folder could be decoded");
    tensor mean(shape_);
    for (std::int64_t j = 0; j < mean.numel(); ++j) mean[j] = static_cast<float>(sum[static_cast<std::size_t>(j)] / double(count));
    return mean;
  }

 private:
  Folder& folder_;
  shape shape_;
};

/// The first `limit` images of a folder (all when limit is 0), decoded into memory: a test set.
template <class Folder>
labelled_images load_all(Folder& folder, std::int64_t limit = 0) {
  const auto n = limit > 0 && limit < folder.size() ? limit : folder.size();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  labelled_images set;
  folder.load(order, 0, n, set.images, set.labels);
  return set;
}

}  // namespace hush::data
