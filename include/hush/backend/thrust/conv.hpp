#pragma once
// The thrust convolution: im2col + GEMM (backend/im2col_conv.hpp), with im2col and its adjoint as
// Thrust loops; the adjoint in gather form (each input element sums the column entries that
// read it), so no atomics.
#include <cstdint>

#include "hush/backend/geometry.hpp"
#include "hush/backend/im2col_conv.hpp"
#include "hush/backend/thrust/dense.hpp"
#include "hush/backend/thrust/launch.hpp"
#include "hush/backend/unary_ops.hpp"
#if defined(__CUDACC__)
#include "hush/backend/cuda/cudnn.hpp"
#endif

namespace hush::backend {

inline void im2col(thrust, const conv_geometry& g, const float* x, float* col) {
  // One index per (column row, output row): the inner loop runs along q, so the index
  // arithmetic (64-bit divisions) is paid once per output row, not once per element.
  detail::for_each_index(g.col_rows() * g.p, [=] HUSH_HD(std::int64_t i) {
    const auto row = i / g.p, p = i % g.p;
    const auto c = row / (g.r * g.s), rr = (row / g.s) % g.r, ss = row % g.s;
    const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h;
    float* out = col + (row * g.p + p) * g.q;
    const float* xr = x + (c * g.h + ih) * g.w;
    const bool inside = ih >= 0 && ih < g.h;
    for (std::int64_t q = 0; q < g.q; ++q) {
      const auto iw = q * g.stride_w - g.pad_w + ss * g.dil_w;
      out[q] = (inside && iw >= 0 && iw < g.w) ? xr[iw] : 0.0f;
    }
  });
}
inline void col2im(thrust, const conv_geometry& g, const float* col, float* dx) {
  const auto pq = g.p * g.q;
  // One index per input row (c, ih), the inner loop along iw.
  detail::for_each_index(g.c_per_group() * g.h, [=] HUSH_HD(std::int64_t i) {
    const auto c = i / g.h, ih = i % g.h;
    for (std::int64_t iw = 0; iw < g.w; ++iw) {
      float s = 0.0f;
      for (std::int64_t rr = 0; rr < g.r; ++rr) {
        const auto ph = ih + g.pad_h - rr * g.dil_h;  // = p·stride_h when tap rr of row p reads ih
        if (ph < 0 || ph % g.stride_h) continue;
        const auto p = ph / g.stride_h;
        if (p >= g.p) continue;
        for (std::int64_t ss = 0; ss < g.s; ++ss) {
          const auto qw = iw + g.pad_w - ss * g.dil_w;
          if (qw < 0 || qw % g.stride_w) continue;
          const auto q = qw / g.stride_w;
          if (q < g.q) s += col[((c * g.r + rr) * g.s + ss) * pq + p * g.q + q];
        }
      }
      dx[(c * g.h + ih) * g.w + iw] = s;
    }
  });
}

// The convolution itself: cuDNN's with CUDA (backend/cuda/cudnn.hpp), im2col + GEMM otherwise
// (Thrust's OpenMP system, what CI runs; also the portable fallback).
inline std::int64_t conv2d_scratch(thrust, const conv_geometry& g) {
#if defined(__CUDACC__)
  return static_cast<std::int64_t>((cuda::plan_for(g).workspace_bytes() + sizeof(float) - 1) / sizeof(float));
#else
  return im2col_scratch(g);
#endif
}

/// y = act(y + bias) in one pass, either of them possibly null.
inline void add_bias_then_relu(thrust, const conv_geometry& g, const float* bias, const ops::fused_relu* act, float* y) {
  if (!bias && !act) return;
  const auto pq = g.p * g.q, k = g.k;
  const float slope = act ? act->slope : 1.0f;  // slope 1: the identity
  detail::for_each_index(g.n * k * pq, [=] HUSH_HD(std::int64_t i) {
    const float v = bias ? y[i] + bias[(i / pq) % k] : y[i];
    y[i] = ops::leaky_relu{slope}(v);
  });
}

/// y = act(conv(x, w) + bias), bias and act possibly null. With CUDA, cuDNN's fused
/// convolution + bias + ReLU where it has one (a ReLU and a bias), else its convolution and one
/// pass for the rest.
inline void conv2d_forward(thrust, const conv_geometry& g, const float* x, const float* w, const float* bias,
                           const ops::fused_relu* act, float* y, float* scratch) {
#if defined(__CUDACC__)
  const auto& plan = cuda::plan_for(g);
  if (bias && act && act->slope == 0.0f) return plan.forward_bias_relu(x, w, bias, y, scratch);
  plan.forward(x, w, y, scratch);
#else
  detail::im2col_conv_forward(thrust{}, g, x, w, nullptr, y, scratch);
#endif
  add_bias_then_relu(thrust{}, g, bias, act, y);
}

inline void conv2d_backward_data(thrust, const conv_geometry& g, const float* w, const float* dy, float* dx,
                                 float* scratch) {
#if defined(__CUDACC__)
  cuda::plan_for(g).backward_data(w, dy, dx, scratch);
#else
  detail::im2col_conv_backward_data(thrust{}, g, w, dy, dx, scratch);
#endif
}

inline void conv2d_backward_weight(thrust, const conv_geometry& g, const float* x, const float* dy, float* dw,
                                   float* scratch) {
#if defined(__CUDACC__)
  cuda::plan_for(g).backward_weight(x, dy, dw, scratch);
#else
  detail::im2col_conv_backward_weight(thrust{}, g, x, dy, dw, scratch);
#endif
}

}  // namespace hush::backend
