// nvcc check: PSNR and SSIM as kernels on the CUDA build of the thrust backend, and a convolution
// with its batch norm folded and a ReLU fused (cuDNN's conv + bias + activation) in inference.
#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/metrics/quality.hpp"

double hush_cuda_quality(const hush::device_tensor& clean, const hush::device_tensor& denoised) {
  return hush::metrics::psnr(hush::backend::thrust{}, clean, denoised) + hush::metrics::ssim(hush::backend::thrust{}, clean, denoised);
}

using conv_bn_relu = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu>;

hush::device_tensor hush_cuda_fused_inference(hush::model<conv_bn_relu, hush::backend::thrust>& model, const hush::device_tensor& x) {
  model.infer();
  return model.forward(x);
}
