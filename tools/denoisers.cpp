#include "denoisers.hpp"

#include <cstdlib>
#include <memory>
#include <optional>

#include "hush/backend/devices.hpp"
#include "hush/hush.hpp"
#include "hush/models/mae.hpp"

namespace fs = std::filesystem;

namespace hush::tools {

device_choice denoiser_device() {
  return choose_device();
}

fs::path shipped_weights(const char* argv0) {
  const fs::path rel = fs::path("denoisers") / "blind.safetensors";
  if (const char* dir = std::getenv("HUSH_DATA_DIR")) return fs::path(dir) / rel;
  std::error_code ec;
  const auto exe = fs::canonical("/proc/self/exe", ec);
  const auto installed = (ec ? fs::path(argv0) : exe).parent_path().parent_path() / "share" / "hush" / rel;
  if (fs::exists(installed)) return installed;
  return fs::path(HUSH_SOURCE_SHARE) / rel;
}

namespace {

/// What a weights file holds: the denoiser its "hush.denoiser" metadata names, or nothing for
/// hush-mae's photo MAE; io_error naming the file when it is neither.
std::optional<denoise::model_choice> denoiser_in(const io::safetensors_file& file, const std::string& path) {
  if (const auto net = file.metadata.find("hush.network"); net != file.metadata.end() && net->second == "mae_small")
    return std::nullopt;
  const auto it = file.metadata.find("hush.denoiser");
  if (it == file.metadata.end())
    throw io_error(path + ": not a denoiser's weights (no 'hush.denoiser' metadata; 'hush-denoise train' writes it)");
  return denoise::model_choice::parse(it->second, path);
}

/// hush-mae's MAE as a denoiser: its reconstruction of each 32-pixel tile at `ratio`.
template <class Backend>
loaded_denoiser load_mae(Backend backend, const std::string& path, const io::safetensors_file& file, float ratio) {
  using net_type = models::mae_reconstruction<models::mae_small>;
  const auto number = [&](const char* key) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw io_error(path + ": no '" + key + "' in its metadata (is it hush-mae's?)");
    return std::stoll(it->second);
  };
  const auto channels = number("hush.channels"), image = number("hush.image");
  if (image != net_type::size_multiple || number("hush.patch") != 4 || (channels != 1 && channels != 3))
    throw io_error(path + ": an MAE of " + std::to_string(image) +
                   "-pixel images; hush-denoise runs mae_small trained on " + std::to_string(net_type::size_multiple) +
                   "-pixel photo crops (hush-mae train --data photos)");
  models::mae_options o{.image = image, .patch = 4, .channels = channels, .mask_ratio = ratio};
  auto m = std::make_shared<model<net_type, Backend>>(typename model<net_type, Backend>::options{.backend = backend},
                                                      net_type(models::mae_small(o)));
  m->setup({1, channels, image, image});
  load_weights(m->net.mae, path, {.strict = false});  // the MAE's own structure, as hush-mae saved it
  denoise::model_choice choice;
  choice.name = "mae_small (mask ratio " + std::to_string(ratio).substr(0, 4) + ")", choice.channels = channels,
  choice.width = 1;
  return {choice, [m, image](const tensor& noisy, denoise::apply_options how) {
            how.tile = image, how.overlap = image / 4;  // the MAE takes its own side only
            return denoise::apply(*m, noisy, how);
          }};
}

}  // namespace

loaded_denoiser load_denoiser(const device_choice& device, const std::string& path, float mae_ratio, bool bf16) {
  return with_device(device, [&](auto backend) -> loaded_denoiser {
    using Backend = decltype(backend);
    if (bf16) use_bf16_inference(backend);
    const auto file = io::read_safetensors(path);
    const auto found = denoiser_in(file, path);
    if (!found) return load_mae(backend, path, file, mae_ratio);
    const auto& choice = *found;
    return {choice, denoise::with_model(choice, [&]<class Net>(Net net) -> decltype(loaded_denoiser::run) {
              auto m = std::make_shared<model<Net, Backend>>(typename model<Net, Backend>::options{.backend = backend},
                                                             std::move(net));
              m->setup({1, choice.channels, 32, 32});  // any size the network takes: apply() sets it up for each photo
              load_weights(m->net, path, {.strict = false});  // a checkpoint's optimizer state is left aside
              return [m](const tensor& noisy, const denoise::apply_options& how) {
                return denoise::apply(*m, noisy, how);
              };
            })};
  });
}

std::string describe_denoiser(const std::string& path) {
  const auto choice = denoiser_in(io::read_safetensors(path), path);
  return choice ? choice->text() : "mae_small (hush-mae)";
}

}  // namespace hush::tools
