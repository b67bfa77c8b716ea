#pragma once
// Plain descriptions of the work a kernel does, shared by every backend. Kernels take these and
// raw pointers, never a layer or graph type, so each kernel is compiled once per backend.
#include <cstdint>

#include "hush/core/random.hpp"  // HUSH_HD

namespace hush {

/// Which operands of a convolution are in the blocked activation layout (core/tensor.hpp) rather
/// than NCHW: x (and dx), y (and dy).
struct conv_layouts {
  bool x = false, y = false;
  int bits() const { return int(x) + 2 * int(y); }
};

/// A 2-D convolution: x (N,C,H,W) * w (K, C/groups, R, S) -> y (N,K,P,Q).
struct conv_geometry {
  std::int64_t n, c, h, w;        // input
  std::int64_t k, r, s;           // output channels, kernel height and width
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
  std::int64_t p = 0, q = 0;      // output height and width, from complete()

  constexpr HUSH_HD std::int64_t c_per_group() const { return c / groups; }
  constexpr HUSH_HD std::int64_t k_per_group() const { return k / groups; }
  /// Rows of one group's im2col matrix: (C/groups)·R·S.
  constexpr HUSH_HD std::int64_t col_rows() const { return c_per_group() * r * s; }
  constexpr conv_geometry& complete() {
    p = (h + 2 * pad_h - dil_h * (r - 1) - 1) / stride_h + 1;
    q = (w + 2 * pad_w - dil_w * (s - 1) - 1) / stride_w + 1;
    return *this;
  }
  constexpr double flops() const { return 2.0 * n * k * p * q * col_rows(); }
};

/// A 2-D pooling window over x (N,C,H,W) -> y (N,C,P,Q).
struct pool_geometry {
  std::int64_t n, c, h, w;
  std::int64_t r, s, stride_h, stride_w, pad_h = 0, pad_w = 0;
  std::int64_t p = 0, q = 0;
  constexpr pool_geometry& complete() {
    p = (h + 2 * pad_h - r) / stride_h + 1;
    q = (w + 2 * pad_w - s) / stride_w + 1;
    return *this;
  }
};

/// Adaptive average pooling x (N,C,H,W) -> y (N,C,P,Q), torch.nn.AdaptiveAvgPool2d: output row p
/// averages input rows [floor(p·H/P), ceil((p+1)·H/P)), and likewise for columns. Windows may
/// overlap (H not a multiple of P) or repeat rows (H < P).
struct adaptive_pool_geometry {
  std::int64_t n, c, h, w, p, q;
  static constexpr HUSH_HD std::int64_t begin(std::int64_t o, std::int64_t in, std::int64_t out) { return o * in / out; }
  static constexpr HUSH_HD std::int64_t end(std::int64_t o, std::int64_t in, std::int64_t out) {
    return ((o + 1) * in + out - 1) / out;
  }
};

/// Upsampling x (N,C,H,W) by an integer factor -> y (N,C,H·scale,W·scale).
struct upsample_geometry {
  std::int64_t n, c, h, w, scale;
  bool bilinear;  // else nearest
  constexpr HUSH_HD std::int64_t out_h() const { return h * scale; }
  constexpr HUSH_HD std::int64_t out_w() const { return w * scale; }
};

/// Bilinear source taps of output index o along an axis of `in` input pixels, as PyTorch's
/// upsample_bilinear2d with align_corners=False: src = (o + 0.5)/scale - 0.5, clamped at 0.
struct bilinear_taps {
  std::int64_t i0, i1;
  float w0, w1;
  static HUSH_HD bilinear_taps at(std::int64_t o, std::int64_t in, std::int64_t scale) {
    float src = (static_cast<float>(o) + 0.5f) / static_cast<float>(scale) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const auto i0 = static_cast<std::int64_t>(src);
    const float w1 = src - static_cast<float>(i0);
    return {i0, i0 + (i0 < in - 1 ? 1 : 0), 1.0f - w1, w1};
  }
};

/// Multi-head scaled dot-product attention over a sequence: qkv (N, T, 3·H·D) holds, per token,
/// the queries, then the keys, then the values, each head's D values together (PyTorch's
/// in_proj and timm's qkv layout); out (N, T, H·D) the heads side by side; probs (N, H, T, T)
/// the softmax weights, softmax(Q·Kᵀ·scale) row by row.
struct attention_geometry {
  std::int64_t n, tokens, heads, head_dim;
  float scale;  // 1/√D
  constexpr HUSH_HD std::int64_t width() const { return heads * head_dim; }      // C
  constexpr HUSH_HD std::int64_t qkv_row() const { return 3 * heads * head_dim; }  // 3C
  constexpr HUSH_HD std::int64_t probs_per_head() const { return tokens * tokens; }
  constexpr HUSH_HD std::int64_t probs_count() const { return n * heads * tokens * tokens; }
};

}  // namespace hush
