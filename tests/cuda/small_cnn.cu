// Compiled by nvcc in CI (no GPU is needed to compile): the same Thrust kernels and the same
// network type as on the host, instantiated for CUDA with cuBLAS for GEMM. One network per
// translation unit: nvcc 13.0's device front end (cicc) crashed with a segmentation fault on
// several of these networks in one file, each of which compiles alone.
#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"

/// One training step of the small CNN on the CUDA build of the thrust backend.
float hush_cuda_training_step(const hush::device_tensor& x, const hush::device_tensor& labels) {
  static hush::model<hush::models::fashion_cnn, hush::backend::thrust> model({.seed = 1});
  static hush::cross_entropy loss;
  model.zero_grad();
  const float l = loss.forward(model.ctx, model.forward(x), labels);
  model.backward(loss.backward(model.ctx));
  hush::sgd opt(model.net, {.lr = 0.01f, .momentum = 0.9f});
  opt.step(model.ctx.backend);
  return l;
}
