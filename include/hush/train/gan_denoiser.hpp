#pragma once
// A denoiser trained against a discriminator, as seed 001 trains its GAN: the denoiser trainer's
// data (random crops of a photo folder, noised by a noise spec, supervised pairs noisy -> clean;
// validation photos noised once and scored whole), the adversarial recipe's steps (fit_gan).
// The generator's weights file carries `o.metadata` (hush-denoise reads "hush.denoiser" there).
//
//   fit_gan_denoiser(generator, discriminator, train, val, o, recipe, hush::mse_loss{});
// Needs hush::opencv (photos, grids, curves).
#include <cstdint>
#include <string>
#include <vector>

#include "hush/backend/cpu/tag.hpp"  // batches are prepared on the host
#include "hush/core/error.hpp"
#include "hush/data/photos.hpp"
#include "hush/train/denoiser.hpp"
#include "hush/train/gan.hpp"

namespace hush::train {

/// Trains g (the denoiser) against d on crops of `train`; `o` gives the data and the run (its
/// pairs must be supervised: the discriminator's real images are the clean crops; its loss and
/// lr are the recipe's), `recipe` the two networks' optimisers and the adversarial terms.
template <class G, class D, class Backend, class Content>
gan_history fit_gan_denoiser(model<G, Backend>& g, model<D, Backend>& d, const data::photos& train,
                             const data::photos& validation, const denoiser_options& o, const adversarial_options& recipe,
                             Content content = Content{}) {
  o.validate();
  if (o.pairs != pairing::supervised)
    throw error("GAN denoiser training: pairs must be supervised (the discriminator's real images are the clean crops)");
  if (train.channels() != validation.channels())
    throw error("GAN denoiser training: training photos have " + std::to_string(train.channels()) + " channels, validation " +
                std::to_string(validation.channels()));
  if (validation.size() < 1) throw error("GAN denoiser training: no validation photos");
  if (o.crop % denoise::size_multiple<G>() != 0)
    throw error("GAN denoiser training: the crop " + std::to_string(o.crop) + " is not a multiple of " + G::kind + "'s " +
                std::to_string(denoise::size_multiple<G>()));
  train.check_fits(o.crop);
  const std::int64_t c = train.channels();
  const counter_rng rng{o.seed};

  std::vector<tensor> val_clean;
  for (std::int64_t i = 0; i < validation.size(); ++i) val_clean.push_back(validation.image(i));
  const auto val_noisy = detail::noised_once(val_clean, o.noise, o.seed);

  gan_data<G, Backend> data;
  // Batch k holds crops k·batch ... (k+1)·batch - 1 of the run, keyed as the denoiser trainer keys them.
  data.batch = [&, c](std::uint64_t k, tensor& input, tensor& real) {
    real.resize({o.batch, c, o.crop, o.crop});
    input.resize(real.shape());
    const auto first_key = k * std::uint64_t(o.batch);
    train.crops(real, 0, o.batch, o.crop, rng, 1 + k / std::uint64_t(o.steps), first_key);
    std::vector<std::int64_t> keys(static_cast<std::size_t>(o.batch));
    for (std::int64_t j = 0; j < o.batch; ++j) keys[std::size_t(j)] = std::int64_t(first_key) + j;
    noise::apply_to_images(backend::cpu{}, o.noise, rng, real, keys, o.batch, input, 0);
  };
  {  // the grid: the first four validation photos' centres, as noised for validation
    const std::int64_t n = std::min<std::int64_t>(4, validation.size());
    std::int64_t side = o.crop;
    for (std::int64_t i = 0; i < n; ++i) side = std::min({side, val_clean[std::size_t(i)].shape()[1], val_clean[std::size_t(i)].shape()[2]});
    side -= side % denoise::size_multiple<G>();
    if (side >= denoise::size_multiple<G>()) {
      data.grid_input.resize({n, c, side, side}), data.grid_real.resize({n, c, side, side});
      for (std::int64_t i = 0; i < n; ++i) {
        const auto& s = val_clean[std::size_t(i)].shape();
        const auto y0 = (s[1] - side) / 2, x0 = (s[2] - side) / 2;
        for (std::int64_t ch = 0; ch < c; ++ch)
          for (std::int64_t y = 0; y < side; ++y)
            for (std::int64_t x = 0; x < side; ++x) {
              const auto from = (ch * s[1] + y0 + y) * s[2] + x0 + x, to = ((i * c + ch) * side + y) * side + x;
              data.grid_input[to] = val_noisy[std::size_t(i)][from], data.grid_real[to] = val_clean[std::size_t(i)][from];
            }
      }
    }
  }
  data.validate = [&](model<G, Backend>& m) { return score(m, val_clean, val_noisy, o.validation, o.comm); };

  gan_options go;
  static_cast<adversarial_options&>(go) = recipe;
  go.epochs = o.epochs, go.steps = o.steps, go.seed = o.seed, go.out = o.out, go.resume = o.resume;
  go.stop_after = o.stop_after, go.continue_on_non_finite = o.continue_on_non_finite, go.title = o.title;
  go.metadata = o.metadata;
  go.comm = o.comm, go.sync_batch_norm = o.sync_batch_norm, go.bucket_bytes = o.bucket_bytes;  // each process: its shard of a batch
  go.data = "noise " + o.noise.describe() + ", " + std::to_string(train.size()) + " training photos";
  return fit_gan(g, d, data, go, std::move(content));
}

}  // namespace hush::train
