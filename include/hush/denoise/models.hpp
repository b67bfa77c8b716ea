#pragma once
// The denoisers by name, for programs that choose one at run time (hush-denoise): the name and
// the two numbers that size it, written into a weights file's metadata ("hush.denoiser") so that
// the file alone says which network it holds.
//   dncnn17            DnCNN-17 (width: its channels, 64 in the paper)
//   residual_unet      seed 001's generator (width: its first level's channels, 64 in pix2pix)
//   noise2noise_unet   the Noise2Noise U-Net (width: its encoder's channels, 48 in the paper)
//   resnet18_unet      ResNet-backbone U-Nets (no width: the trunk is torchvision's)
//   resnet50_unet
#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/models/dncnn.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/resnet_unet.hpp"
#include "hush/models/unet.hpp"

namespace hush::denoise {

/// The names a model_choice may hold: one per denoiser of this header.
inline const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"dncnn17", "residual_unet", "noise2noise_unet", "resnet18_unet",
                                                 "resnet50_unet"};
  return names;
}

/// A denoiser chosen at run time: one of model_names(), its image channels (1 or 3) and width
/// (ignored by the ResNet-backbone U-Nets). text() and parse() write and read the description a
/// weights file's metadata holds; with_model builds the network it names.
struct model_choice {
  std::string name = "residual_unet";
  std::int64_t channels = 3;
  std::int64_t width = 16;  // ignored by the ResNet-backbone U-Nets

  /// "residual_unet channels=3 width=16": what a weights file's metadata holds.
  std::string text() const {
    return name + " channels=" + std::to_string(channels) + " width=" + std::to_string(width);
  }
  /// Reads text() back; `where` names the file in errors.
  static model_choice parse(const std::string& text, const std::string& where) {
    std::istringstream in(text);
    model_choice c;
    std::string channels, width;
    in >> c.name >> channels >> width;
    const auto number = [&](const std::string& field, const char* key) {
      const std::string prefix = std::string(key) + "=";
      try {
        if (field.rfind(prefix, 0) == 0) {
          std::size_t used = 0;
          const auto v = std::stoll(field.substr(prefix.size()), &used);
          if (used == field.size() - prefix.size() && v >= 1 && v <= 4096) return std::int64_t(v);
        }
      } catch (const std::exception&) {
      }
      throw io_error(where + ": its denoiser description '" + text + "' has no valid " + key);
    };
    c.channels = number(channels, "channels"), c.width = number(width, "width");
    c.check(where);
    return c;
  }
  void check(const std::string& where = "denoiser") const {
    const auto& names = model_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw error(where + ": unknown denoiser '" + name + "' (one of " + list + ")");
    }
    if (channels != 1 && channels != 3) throw error(where + ": channels must be 1 or 3, not " + std::to_string(channels));
    if (width < 1 || width > 4096) throw error(where + ": width must be 1 to 4096, not " + std::to_string(width));
  }
};

/// f(network) with the network `c` names, built from its options.
template <class F>
decltype(auto) with_model(const model_choice& c, F&& f) {
  c.check();
  if (c.name == "dncnn17") return f(models::dncnn17({.channels = c.channels, .width = c.width}));
  if (c.name == "residual_unet") return f(models::residual_unet({.channels = c.channels, .width = c.width}));
  if (c.name == "noise2noise_unet")
    return f(models::noise2noise_unet({.channels = c.channels, .out_channels = c.channels, .width = c.width}));
  if (c.name == "resnet18_unet") return f(models::resnet18_unet({.channels = c.channels}));
  return f(models::resnet50_unet({.channels = c.channels}));
}

}  // namespace hush::denoise
