#pragma once
// What a trained classifier's weights file says about using it (its model card, in metadata):
//   "hush.class_names"  the classes' names, one per line, in class-index order
//   "hush.input"        the images it was trained on: "<side> unit" (side × side pixels in [0, 1],
//                       as hush's data loaders give them) or "<side> unit-mean" (the training
//                       set's per-pixel mean subtracted too)
// hush-robustness, hush-front-ends and the Fashion-MNIST example write both; hush-infer reads
// them, and for a 1000-class network without them uses ImageNet's names (share/imagenet_classes.txt,
// generated from torchvision by scripts/imagenet_classes) and torchvision's preprocessing.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "hush/core/error.hpp"

namespace hush::data {

/// The metadata keys of a weights file's model card.
inline constexpr const char* class_names_key = "hush.class_names";
/// The key of the images the classifier was trained on (trained_input's text()).
inline constexpr const char* input_key = "hush.input";

/// The images a classifier was trained on: side × side pixels in [0, 1], maybe centred on the
/// training set's per-pixel mean.
struct trained_input {
  std::int64_t side = 0;
  bool mean_subtracted = false;
  std::string text() const { return std::to_string(side) + (mean_subtracted ? " unit-mean" : " unit"); }
  /// Reads text()'s form; `where` names the file in errors.
  static trained_input parse(const std::string& s, const std::string& where) {
    trained_input t;
    const auto space = s.find(' ');
    const auto mode = space == std::string::npos ? std::string() : s.substr(space + 1);
    try {
      t.side = std::stoll(s.substr(0, space));
    } catch (const std::exception&) {
      t.side = 0;
    }
    if (t.side < 1 || (mode != "unit" && mode != "unit-mean"))
      throw io_error(where + ": its " + std::string(input_key) + " '" + s + "' is not '<side> unit' or '<side> unit-mean'");
    t.mean_subtracted = mode == "unit-mean";
    return t;
  }
};

/// Fashion-MNIST's ten classes (Xiao et al. 2017), labels 0 to 9.
inline const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

/// Names as one string, one per line (the metadata's form).
inline std::string join_class_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) {
    if (n.empty() || n.find('\n') != std::string::npos) throw error("class names: '" + n + "' is empty or holds a line break");
    s += (s.empty() ? "" : "\n") + n;
  }
  return s;
}

/// The names in `text`, one per line (a last line break ignored); `where` names it in errors.
inline std::vector<std::string> split_class_names(const std::string& text, const std::string& where) {
  std::vector<std::string> names;
  std::string line;
  for (std::size_t at = 0; at <= text.size(); ++at) {
    if (at < text.size() && text[at] != '\n') {
      line += text[at];
      continue;
    }
    if (at == text.size() && line.empty()) break;  // a final line break
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw io_error(where + ": class name " + std::to_string(names.size() + 1) + " is an empty line");
    names.push_back(std::move(line));
    line.clear();
  }
  return names;
}

/// The names in a text file, one per line.
inline std::vector<std::string> read_class_names(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path.string() + ": cannot read the class names");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return split_class_names(text, path.string());
}

}  // namespace hush::data
