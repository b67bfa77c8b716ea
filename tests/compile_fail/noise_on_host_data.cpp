// Must NOT compile: a noise applied by the thrust backend to images in host memory (its
// kernels would read host pointers on the GPU). The test passes when the compiler's message
// says to move the images with to(backend, t).
#include "hush/backend/thrust.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/pixel.hpp"

void corrupt(const hush::tensor& clean, hush::tensor& noisy) {
  hush::noise::apply_to_batch(hush::backend::thrust{}, hush::noise::gaussian{0.1f}, hush::counter_rng{1}, clean, noisy);
}
