// nvcc check: the pixel-wise and resolution noise models on the CUDA build of the thrust backend
// (text runs on the host and is not part of it).
#include "hush/backend/thrust.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/low_res.hpp"
#include "hush/noise/pixel.hpp"

void hush_cuda_noise(const hush::device_tensor& clean, hush::device_tensor& noisy) {
  namespace nz = hush::noise;
  const nz::chain<nz::gaussian, nz::salt_pepper, nz::poisson, nz::speckle, nz::bernoulli, nz::impulse> all(
      {0.1f}, {0.05f}, {30.0f}, {0.1f}, {0.1f}, {0.1f});
  nz::apply_to_batch(hush::backend::thrust{}, all, hush::counter_rng{1}, clean, noisy);
  const nz::one_of<nz::gaussian, nz::speckle> either(nz::gaussian::from_variance({0.005f, 0.08f}),
                                                     nz::speckle::from_variance({0.005f, 0.2f}));
  nz::apply_to_batch(hush::backend::thrust{}, either, hush::counter_rng{1}, clean, noisy, 0, 1);
  const nz::chain<nz::low_res, nz::mixed_res> resolution(nz::low_res{0, nz::upsampling::random},
                                                         nz::mixed_res{4, nz::upsampling::bicubic});
  nz::apply_to_batch(hush::backend::thrust{}, resolution, hush::counter_rng{1}, clean, noisy);
}
