// nvcc check: a U-Net level (concat_skip, transposed convolution, GELU, dropout, average
// pooling) with a weighted MSE + L1 loss and an Adam step, on the CUDA build of the thrust
// backend. The network lives on the heap: nvcc 13.0's device front end (cicc) crashes with a
// segmentation fault when this network (or a hush::model of it) is a local variable of a function
// that calls its setup, and compiles it behind a unique_ptr (docs/gpu.md, "nvcc's crash").
#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"

#include <memory>

using inner = hush::seq<hush::conv2d, hush::gelu, hush::dropout, hush::conv_transpose2d, hush::sigmoid>;
using unet_level = hush::seq<hush::conv2d, hush::concat_skip<inner>, hush::avg_pool2d>;

float hush_cuda_unet_step(hush::context<hush::backend::thrust>& ctx, const hush::device_tensor& x, const hush::device_tensor& target) {
  const auto held = std::make_unique<unet_level>(hush::conv2d({.in = 3, .out = 4, .kernel = 3, .padding = 1}),
                 hush::concat_skip<inner>(inner(hush::conv2d({.in = 4, .out = 8, .kernel = 4, .stride = 2, .padding = 1}),
                                                hush::gelu{}, hush::dropout(0.1f),
                                                hush::conv_transpose2d({.in = 8, .out = 4, .kernel = 4, .stride = 2, .padding = 1}),
                                                hush::sigmoid{})),
                 hush::avg_pool2d({.kernel = 2}));
  auto& net = *held;
  net.setup(ctx, x.shape());
  hush::weighted_sum<hush::mse_loss, hush::l1_loss> loss({1.0f, 0.1f});
  hush::adam opt(net, {});
  const float l = loss.forward(ctx, net.forward(ctx, x), target);
  net.backward(ctx, x, loss.backward(ctx));
  opt.step(ctx.backend);
  return l;
}
