#pragma once
// The trained denoisers hush's tools run, loaded from their weights files: what hush-denoise and
// hush-denoise-app share. Compiled once (tools/denoisers.cpp, every network type's code) and
// linked into both, so neither pays for the networks' templates again.
#include <filesystem>
#include <functional>
#include <string>

#include "hush/core/device.hpp"
#include "hush/core/tensor.hpp"
#include "hush/denoise/apply.hpp"
#include "hush/denoise/models.hpp"

namespace hush::tools {

/// The device the denoisers run on (HUSH_DEVICE, or the GPU when there is one), chosen where they
/// are compiled: a program built with the host compiler alone still gets the GPU of a CUDA build.
device_choice denoiser_device();

/// The shipped blind denoiser: $HUSH_DATA_DIR/denoisers/blind.safetensors, else the installed
/// share/hush beside this program's prefix, else the source tree it was built from.
std::filesystem::path shipped_weights(const char* argv0);

/// A trained denoiser: the network its weights file names, and that network as a function of a
/// photo (C, H, W) in [0, 1], run with `how` (tiles, progress, a stop token). Not thread-safe:
/// one photo at a time.
struct loaded_denoiser {
  denoise::model_choice choice;
  std::function<tensor(const tensor& noisy, const denoise::apply_options& how)> run;
};

/// The denoiser a weights file holds: `hush-denoise train`'s weights or checkpoint (its
/// "hush.denoiser" metadata names the network), or hush-mae's photo MAE, run in its 32-pixel
/// tiles at `mae_ratio`. Throws io_error naming the file when it is neither. `bf16`: its
/// convolutions in bf16 (use_bf16_inference; the cpu backend on a CPU with native bf16).
loaded_denoiser load_denoiser(const device_choice& device, const std::string& path, float mae_ratio = 0.75f,
                              bool bf16 = false);

/// What load_denoiser would load from `path`, in words ("residual_unet channels=3 width=16"),
/// without setting up a network; the same io_error when it holds no denoiser.
std::string describe_denoiser(const std::string& path);

}  // namespace hush::tools
