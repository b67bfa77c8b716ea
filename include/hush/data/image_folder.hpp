#pragma once
// Image files as a labelled data set, read through OpenCV (target hush::opencv):
//   image_folder::by_class(root)   one sub-folder per class (root/cat/1.jpg, root/dog/7.png, ...);
//                                  classes sorted by name, as torchvision's ImageFolder
//   image_folder::cacd(folder)     CACD2000's naming, AGE_First_Last_NNNN.jpg: the identity
//                                  (First_Last, any number of name parts) is the label, the age
//                                  is kept beside it
// Images are decoded when a batch asks for them (CACD2000 has 163,446), resized to `resize`²,
// then cropped to `crop`² (at random in training, centred in evaluation) and flipped at random
// in training. Every random choice is keyed by (seed, epoch, image), so an epoch's batches are
// the same on every run. A file OpenCV cannot decode is reported with its path: it stops the
// run, or with on_broken::skip is left out of its batch and counted.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"
#include "hush/io/opencv.hpp"

namespace hush::data {

/// What image_folder does with a file OpenCV cannot decode: stop the run (the error names the
/// file), or skip it, leaving it out of its batch and counting it (skipped_files()).
enum class on_broken { stop, skip };

/// The files of `dir` (not its sub-folders) with an image extension, sorted by name.
inline std::vector<std::filesystem::path> image_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".ppm" || ext == ".pgm" ||
        ext == ".tif" || ext == ".tiff" || ext == ".webp")
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// How image_folder turns each file into a tensor: resize, then crop (random in training, centred
/// otherwise) and a random flip in training; RGB or grey; a broken file stops the run by default.
struct image_folder_options {
  std::int64_t resize = 0;  // resize every image to resize × resize first (0: keep its size)
  std::int64_t crop = 0;    // then crop crop × crop (0: no crop; all images must share a size)
  bool flip = false;        // mirror left-right with probability 1/2 (training only)
  bool train = true;        // random crop and flip; false: centre crop, no flip
  int channels = 3;         // 3: RGB, 1: grey
  on_broken broken = on_broken::stop;
};

/// Image files as a labelled data set (class sub-folders, or CACD2000's file names), decoded
/// through OpenCV only when a batch is loaded; random crops and flips are keyed by (seed, epoch, image).
class image_folder {
 public:
  /// One image: its file, its class index and, for CACD2000, the age in its name (-1 otherwise).
  struct sample {
    std::filesystem::path path;
    std::int64_t label;
    int age = -1;  // CACD2000 only
  };

  /// One sub-folder per class; files in them with an image extension are the samples.
  static image_folder by_class(const std::filesystem::path& root, image_folder_options o = {}) {
    image_folder set(o);
    if (!std::filesystem::is_directory(root)) throw io_error(root.string() + ": not a folder");
    std::vector<std::filesystem::path> dirs;
    for (const auto& e : std::filesystem::directory_iterator(root))
      if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      const auto label = static_cast<std::int64_t>(set.classes_.size());
      set.classes_.push_back(d.filename().string());
      for (const auto& f : image_files(d)) set.samples_.push_back({f, label});
    }
    if (set.samples_.empty()) throw io_error(root.string() + ": no images in class sub-folders");
    return set;
  }

  /// CACD2000: AGE_First_Last_NNNN.jpg in one folder; identities sorted by name are the classes.
  static image_folder cacd(const std::filesystem::path& folder, image_folder_options o = {}) {
    image_folder set(o);
    if (!std::filesystem::is_directory(folder)) throw io_error(folder.string() + ": not a folder");
    std::map<std::string, std::int64_t> ids;
    std::vector<std::pair<std::filesystem::path, std::pair<std::string, int>>> files;
    for (const auto& f : image_files(folder)) {
      const auto parsed = parse_cacd_name(f.filename().string());
      if (parsed.first.empty())
        throw io_error(f.string() + ": not named as CACD2000 names its images (AGE_First_Last_NNNN.jpg)");
      ids.emplace(parsed.first, 0);
      files.emplace_back(f, parsed);
    }
    if (files.empty()) throw io_error(folder.string() + ": no images");
    for (auto& [name, id] : ids) id = static_cast<std::int64_t>(set.classes_.size()), set.classes_.push_back(name);
    for (const auto& [f, parsed] : files) set.samples_.push_back({f, ids[parsed.first], parsed.second});
    return set;
  }

  /// ("First_Last", age) from "AGE_First_Last_NNNN.ext", or ("", -1) when the name does not fit.
  static std::pair<std::string, int> parse_cacd_name(const std::string& file) {
    const auto stem = std::filesystem::path(file).stem().string();
    const auto first = stem.find('_'), last = stem.rfind('_');
    const auto digits = [](const std::string& s) {
      return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
    };
    if (first == std::string::npos || last <= first + 1) return {"", -1};
    const auto age = stem.substr(0, first), number = stem.substr(last + 1);
    if (!digits(age) || !digits(number) || age.size() > 3) return {"", -1};
    return {stem.substr(first + 1, last - first - 1), std::stoi(age)};
  }

  std::int64_t size() const { return static_cast<std::int64_t>(samples_.size()); }
  const std::vector<std::string>& classes() const { return classes_; }
  const sample& operator[](std::int64_t i) const { return samples_.at(static_cast<std::size_t>(i)); }
  /// Files left out so far because OpenCV could not decode them (on_broken::skip), each once.
  std::int64_t skipped() const { return static_cast<std::int64_t>(skipped_files().size()); }
  std::vector<std::filesystem::path> skipped_files() const {
    std::lock_guard lock(*skipped_mutex_);
    auto files = skipped_;
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    return files;
  }
  /// The shape (C, S, S) of one image after resize and crop: sample 0's, decoded.
  shape image_shape() {
    std::vector<std::int64_t> first{0};
    tensor images;
    index_tensor labels;
    if (load(first, 0, 1, images, labels) == 0) throw io_error(samples_.front().path.string() + ": cannot be decoded");
    return {images.shape()[1], images.shape()[2], images.shape()[3]};
  }
  const image_folder_options& options() const { return opt_; }

  /// Loads samples order[begin, end) into images (n, C, S, S) and labels (n), transformed for
  /// `epoch` with draws from `rng`; returns n, which is smaller than end - begin only when
  /// broken files were skipped (`loaded`, when given, receives the indices of the n loaded).
  /// Safe to call from several threads at once (a batch per thread).
  std::int64_t load(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end, tensor& images,
                    index_tensor& labels, std::uint64_t epoch = 0, counter_rng rng = {},
                    std::vector<std::int64_t>* loaded = nullptr) {
    std::vector<tensor> got;
    std::vector<std::int32_t> ys;
    if (loaded) loaded->clear();
    for (auto i = begin; i < end; ++i) {
      const auto index = order.at(static_cast<std::size_t>(i));
      const auto& s = samples_.at(static_cast<std::size_t>(index));
      cv::Mat m;
      try {
        m = io::read_image(s.path, opt_.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
      } catch (const io_error&) {  // the message names the file
        if (opt_.broken == on_broken::stop) throw;
        std::lock_guard lock(*skipped_mutex_);
        skipped_.push_back(s.path);
        continue;
      }
      got.push_back(transform(m, s.path, rng, epoch, static_cast<std::uint64_t>(index)));
      ys.push_back(static_cast<std::int32_t>(s.label));
      if (loaded) loaded->push_back(index);
    }
    const auto n = static_cast<std::int64_t>(got.size());
    if (n == 0) {
      images.resize({0, opt_.channels, 0, 0}), labels.resize({0});
      return 0;
    }
    const auto& one = got.front().shape();
    images.resize({n, one[0], one[1], one[2]});
    labels.resize({n});
    for (std::int64_t j = 0; j < n; ++j) {
      if (got[static_cast<std::size_t>(j)].shape() != one)
        throw shape_error("image_folder: images of " + got[static_cast<std::size_t>(j)].shape().str() + " and " + one.str() +
                          " in one batch: set resize or crop");
      std::copy_n(got[static_cast<std::size_t>(j)].data(), one.numel(), images.data() + j * one.numel());
      labels[j] = ys[static_cast<std::size_t>(j)];
    }
    return n;
  }

 private:
  explicit image_folder(image_folder_options o) : opt_(o) {
    if (o.channels != 1 && o.channels != 3) throw error("image_folder: channels must be 1 or 3");
    if (o.crop > 0 && o.resize > 0 && o.crop > o.resize)
      throw error("image_folder: crop " + std::to_string(o.crop) + " is larger than resize " + std::to_string(o.resize));
  }


  tensor transform(cv::Mat m, const std::filesystem::path& path, const counter_rng& rng, std::uint64_t epoch,
                   std::uint64_t index) const {
    if (opt_.resize > 0)
      cv::resize(m, m, cv::Size(static_cast<int>(opt_.resize), static_cast<int>(opt_.resize)), 0, 0, cv::INTER_AREA);
    const auto stream = counter_rng::mix(counter_rng::mix(epoch + 0x494d4746ULL) ^ index);
    if (opt_.crop > 0) {
      const int c = static_cast<int>(opt_.crop);
      if (m.rows < c || m.cols < c)
        throw shape_error(path.string() + ": " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                          " is smaller than the crop " + std::to_string(c));
      int y = (m.rows - c) / 2, x = (m.cols - c) / 2;
      if (opt_.train) {
        y = static_cast<int>(rng.uniform(stream, 0) * float(m.rows - c + 1));
        x = static_cast<int>(rng.uniform(stream, 1) * float(m.cols - c + 1));
      }
      m = m(cv::Rect(x, y, c, c)).clone();
    }
    if (opt_.train && opt_.flip && rng.uniform(stream, 2) < 0.5f) cv::flip(m, m, 1);
    return io::to_tensor(m);
  }

  image_folder_options opt_;
  std::vector<std::string> classes_;
  std::vector<sample> samples_;
  std::vector<std::filesystem::path> skipped_;
  std::unique_ptr<std::mutex> skipped_mutex_ = std::make_unique<std::mutex>();  // movable set
};

}  // namespace hush::data
