#pragma once
// cuDNN's convolutions for the thrust backend under CUDA (nvcc with HUSH_WITH_CUDA), as oneDNN
// serves the cpu backend: the forward pass (with bias and ReLU fused, for inference), the input
// gradient and the weight gradient, through cuDNN 9's descriptor API (marked deprecated in
// cuDNN 9, still shipped and supported).
//
// For each geometry a plan is made once per thread: the descriptors, and the algorithms cuDNN's
// heuristics rank first among the deterministic ones (hush's Thrust adjoints give the same bits on
// every run, and so must this), in plain FP32 arithmetic (CUDNN_FMA_MATH: no TF32, so results
// stay comparable with the reference backend). The workspace comes from the context's scratch.
// Compiled in CI; never run yet: no GPU (docs/gpu.md).
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "hush/backend/geometry.hpp"
#include "hush/core/error.hpp"

namespace hush::backend::cuda {

inline std::string describe(const conv_geometry& g) {
  return "(" + std::to_string(g.n) + ", " + std::to_string(g.c) + ", " + std::to_string(g.h) + ", " +
         std::to_string(g.w) + ") by a " + std::to_string(g.r) + "x" + std::to_string(g.s) + " kernel to " +
         std::to_string(g.k) + " channels, stride " + std::to_string(g.stride_h) + ", padding " +
         std::to_string(g.pad_h) + ", dilation " + std::to_string(g.dil_h) + ", groups " + std::to_string(g.groups);
}

inline void check(cudnnStatus_t status, const char* what, const conv_geometry& g) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw backend_error(std::string("cuDNN: ") + what + " failed (" + cudnnGetErrorString(status) +
                        ") for a convolution of " + describe(g));
}

inline cudnnHandle_t cudnn_handle() {
  static cudnnHandle_t handle = [] {
    cudnnHandle_t h{};
    if (cudnnCreate(&h) != CUDNN_STATUS_SUCCESS) throw backend_error("cuDNN: cudnnCreate failed (is a CUDA device available?)");
    return h;
  }();
  return handle;
}

/// The first of cuDNN's ranked algorithms that works, is deterministic and uses FP32 arithmetic.
template <class Perf>
auto first_usable(const Perf* perf, int count, const char* what, const conv_geometry& g) {
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC &&
        perf[i].mathType != CUDNN_TENSOR_OP_MATH && perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      return perf[i];
  throw backend_error(std::string("cuDNN: no deterministic FP32 algorithm for the ") + what + " of a convolution of " +
                      describe(g));
}

/// One geometry's descriptors and algorithms.
class conv_plan {
 public:
  explicit conv_plan(const conv_geometry& g) : g_(g) {
    const auto i = [](std::int64_t v) { return static_cast<int>(v); };
    check(cudnnCreateTensorDescriptor(&x_), "cudnnCreateTensorDescriptor", g);
    check(cudnnCreateTensorDescriptor(&y_), "cudnnCreateTensorDescriptor", g);
    check(cudnnCreateFilterDescriptor(&w_), "cudnnCreateFilterDescriptor", g);
    check(cudnnCreateConvolutionDescriptor(&conv_), "cudnnCreateConvolutionDescriptor", g);
    check(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i(g.n), i(g.c), i(g.h), i(g.w)),
          "cudnnSetTensor4dDescriptor (x)", g);
    check(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i(g.n), i(g.k), i(g.p), i(g.q)),
          "cudnnSetTensor4dDescriptor (y)", g);
    check(cudnnSetFilter4dDescriptor(w_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, i(g.k), i(g.c_per_group()), i(g.r), i(g.s)),
          "cudnnSetFilter4dDescriptor", g);
    check(cudnnSetConvolution2dDescriptor(conv_, i(g.pad_h), i(g.pad_w), i(g.stride_h), i(g.stride_w), i(g.dil_h),
                                          i(g.dil_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "cudnnSetConvolution2dDescriptor", g);
    check(cudnnSetConvolutionGroupCount(conv_, i(g.groups)), "cudnnSetConvolutionGroupCount", g);
    check(cudnnSetConvolutionMathType(conv_, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType", g);
    check(cudnnCreateTensorDescriptor(&bias_), "cudnnCreateTensorDescriptor", g);
    check(cudnnSetTensor4dDescriptor(bias_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, i(g.k), 1, 1),
          "cudnnSetTensor4dDescriptor (bias)", g);
    check(cudnnCreateActivationDescriptor(&relu_), "cudnnCreateActivationDescriptor", g);
    check(cudnnSetActivationDescriptor(relu_, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
          "cudnnSetActivationDescriptor", g);
    const auto h = cudnn_handle();
    int n = 0;
    cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    check(cudnnGetConvolutionForwardAlgorithm_v7(h, x_, w_, conv_, y_, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, fwd),
          "choosing the forward algorithm", g);
    const auto f = first_usable(fwd, n, "forward pass", g);
    cudnnConvolutionBwdDataAlgoPerf_t data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    check(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w_, y_, conv_, x_, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, data),
          "choosing the input-gradient algorithm", g);
    const auto d = first_usable(data, n, "input gradient", g);
    cudnnConvolutionBwdFilterAlgoPerf_t filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x_, y_, conv_, w_, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n,
                                                        filter),
          "choosing the weight-gradient algorithm", g);
    const auto k = first_usable(filter, n, "weight gradient", g);
    forward_ = f.algo, data_ = d.algo, filter_ = k.algo;
    workspace_ = std::max({f.memory, d.memory, k.memory});
  }
  conv_plan(const conv_plan&) = delete;
  conv_plan& operator=(const conv_plan&) = delete;
  ~conv_plan() {
    cudnnDestroyActivationDescriptor(relu_);
    cudnnDestroyTensorDescriptor(bias_);
    cudnnDestroyConvolutionDescriptor(conv_);
    cudnnDestroyFilterDescriptor(w_);
    cudnnDestroyTensorDescriptor(y_);
    cudnnDestroyTensorDescriptor(x_);
  }

  std::size_t workspace_bytes() const { return workspace_; }

  /// y = conv(x, w).
  void forward(const float* x, const float* w, float* y, void* workspace) const {
    const float one = 1.0f, zero = 0.0f;
    check(cudnnConvolutionForward(cudnn_handle(), &one, x_, x, w_, w, conv_, forward_, workspace, workspace_, &zero, y_, y),
          "cudnnConvolutionForward", g_);
  }
  /// y = max(conv(x, w) + bias, 0) in one cuDNN call (cudnnConvolutionBiasActivationForward,
  /// inference's conv + folded batch norm + ReLU). cuDNN fuses no leaky ReLU: those take
  /// forward() and one pass for the bias and the activation.
  void forward_bias_relu(const float* x, const float* w, const float* bias, float* y, void* workspace) const {
    const float one = 1.0f, zero = 0.0f;  // alpha2 = 0: the z input (y itself) is not read
    check(cudnnConvolutionBiasActivationForward(cudnn_handle(), &one, x_, x, w_, w, conv_, forward_, workspace, workspace_,
                                                &zero, y_, y, bias_, bias, relu_, y_, y),
          "cudnnConvolutionBiasActivationForward", g_);
  }
  /// dx = the input gradient of dy (written, as every backend's conv2d_backward_data does).
  void backward_data(const float* w, const float* dy, float* dx, void* workspace) const {
    const float one = 1.0f, zero = 0.0f;
    check(cudnnConvolutionBackwardData(cudnn_handle(), &one, w_, w, y_, dy, conv_, data_, workspace, workspace_, &zero,
                                       x_, dx),
          "cudnnConvolutionBackwardData", g_);
  }
  /// dw += the weight gradient of dy (added, as parameters' gradients are).
  void backward_weight(const float* x, const float* dy, float* dw, void* workspace) const {
    const float one = 1.0f;
    check(cudnnConvolutionBackwardFilter(cudnn_handle(), &one, x_, x, y_, dy, conv_, filter_, workspace, workspace_,
                                         &one, w_, dw),
          "cudnnConvolutionBackwardFilter", g_);
  }

 private:
  conv_geometry g_;
  cudnnTensorDescriptor_t x_{}, y_{}, bias_{};
  cudnnActivationDescriptor_t relu_{};
  cudnnFilterDescriptor_t w_{};
  cudnnConvolutionDescriptor_t conv_{};
  cudnnConvolutionFwdAlgo_t forward_{};
  cudnnConvolutionBwdDataAlgo_t data_{};
  cudnnConvolutionBwdFilterAlgo_t filter_{};
  std::size_t workspace_ = 0;
};

/// The plan for `g`, made the first time this thread meets the geometry.
inline const conv_plan& plan_for(const conv_geometry& g) {
  const std::array<std::int64_t, 14> key{g.n,        g.c,        g.h,     g.w,     g.k,     g.r,     g.s,
                                         g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w, g.groups};
  thread_local std::map<std::array<std::int64_t, 14>, std::unique_ptr<conv_plan>> plans;
  auto& p = plans[key];
  if (!p) {
    auto complete = g;
    complete.complete();
    p = std::make_unique<conv_plan>(complete);
  }
  return *p;
}

}  // namespace hush::backend::cuda
