// nvcc check: a residual block (convolution, batch norm, leaky ReLU) with BCE from logits, on
// the CUDA build of the thrust backend.
#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"

using block = hush::residual<hush::seq<hush::conv2d, hush::batch_norm2d, hush::leaky_relu>>;

float hush_cuda_block_step(hush::context<hush::backend::thrust>& ctx, const hush::device_tensor& x, const hush::device_tensor& target) {
  block b(block::main_type(hush::conv2d({.in = 4, .out = 4, .kernel = 3, .padding = 1}), hush::batch_norm2d(4),
                           hush::leaky_relu(0.2f)));
  hush::bce_with_logits_loss loss;
  b.setup(ctx, x.shape());
  const float l = loss.forward(ctx, b.forward(ctx, x), target);
  b.backward(ctx, x, loss.backward(ctx));
  return l;
}
