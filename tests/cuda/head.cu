// nvcc check: bilinear upsampling, layer norm, global pooling and softmax with BCE and SGD, on
// the CUDA build of the thrust backend.
#include "step.hpp"

namespace {
struct head : hush::seq<hush::conv2d, hush::upsample, hush::layer_norm, hush::global_avg_pool, hush::softmax> {
  static constexpr const char* kind = "head";
  head()
      : seq(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}),
            hush::upsample({.scale = 2, .interpolation = hush::upsample::interpolation::bilinear}), hush::layer_norm(8),
            hush::global_avg_pool{}, hush::softmax{}) {}
};
}  // namespace

float hush_cuda_head_step(const hush::device_tensor& x, const hush::device_tensor& target) {
  static hush::model<head, hush::backend::thrust> model({.seed = 1});
  static hush::bce_loss loss;
  static hush::sgd opt(model.net, {.lr = 0.1f});
  return step(model, loss, opt, x, target);
}
