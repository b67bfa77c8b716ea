#pragma once
// Direct convolution: the textbook seven loops, no im2col, so it checks the fast paths
// independently.
#include <cstdint>
#include <vector>

#include "hush/backend/geometry.hpp"
#include "hush/backend/reference/tag.hpp"
#include "hush/backend/unary_ops.hpp"

namespace hush::backend {

namespace detail {
/// Calls f(n, k, p, q, ci, rr, ss, x_index, w_index) for every tap that lands inside the input.
template <class F>
void for_each_conv_tap(const conv_geometry& g, F&& f) {
  const auto cg = g.c_per_group(), kg = g.k_per_group();
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t k = 0; k < g.k; ++k)
      for (std::int64_t p = 0; p < g.p; ++p)
        for (std::int64_t q = 0; q < g.q; ++q)
          for (std::int64_t ci = 0; ci < cg; ++ci)
            for (std::int64_t rr = 0; rr < g.r; ++rr)
              for (std::int64_t ss = 0; ss < g.s; ++ss) {
                const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h;
                const auto iw = q * g.stride_w - g.pad_w + ss * g.dil_w;
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                const auto c = (k / kg) * cg + ci;
                f(n, k, p, q, ((n * g.c + c) * g.h + ih) * g.w + iw, ((k * cg + ci) * g.r + rr) * g.s + ss);
              }
}
}  // namespace detail

/// y = act(conv(x, w) + bias): bias and act may be null; act is a (leaky) ReLU applied as the
/// activation layer would apply it after the convolution.
inline void conv2d_forward(reference, const conv_geometry& g, const float* x, const float* w, const float* bias,
                           const ops::fused_relu* act, float* y, float* /*scratch*/) {
  const auto out = g.n * g.k * g.p * g.q;
  std::vector<double> acc(static_cast<std::size_t>(out));
  detail::for_each_conv_tap(g, [&](auto n, auto k, auto p, auto q, auto xi, auto wi) {
    acc[static_cast<std::size_t>(((n * g.k + k) * g.p + p) * g.q + q)] += double(x[xi]) * double(w[wi]);
  });
  for (std::int64_t i = 0; i < out; ++i) {
    const auto v = static_cast<float>(acc[static_cast<std::size_t>(i)] + (bias ? bias[(i / (g.p * g.q)) % g.k] : 0.0f));
    y[i] = act ? ops::leaky_relu{act->slope}(v) : v;
  }
}

/// dx = convᵀ(dy, w): the gradient with respect to the input (overwrites dx).
inline void conv2d_backward_data(reference, const conv_geometry& g, const float* w, const float* dy, float* dx,
                                 float* /*scratch*/) {
  const auto nx = g.n * g.c * g.h * g.w;
  std::vector<double> gx(static_cast<std::size_t>(nx));
  detail::for_each_conv_tap(g, [&](auto n, auto k, auto p, auto q, auto xi, auto wi) {
    gx[static_cast<std::size_t>(xi)] += double(dy[((n * g.k + k) * g.p + p) * g.q + q]) * w[wi];
  });
  for (std::int64_t i = 0; i < nx; ++i) dx[i] = static_cast<float>(gx[static_cast<std::size_t>(i)]);
}

/// dw += corr(x, dy): the gradient with respect to the weights (accumulates).
inline void conv2d_backward_weight(reference, const conv_geometry& g, const float* x, const float* dy, float* dw,
                                   float* /*scratch*/) {
  const auto nw = g.k * g.c_per_group() * g.r * g.s;
  std::vector<double> gw(static_cast<std::size_t>(nw));
  detail::for_each_conv_tap(g, [&](auto n, auto k, auto p, auto q, auto xi, auto wi) {
    gw[static_cast<std::size_t>(wi)] += double(dy[((n * g.k + k) * g.p + p) * g.q + q]) * x[xi];
  });
  for (std::int64_t i = 0; i < nw; ++i) dw[i] += static_cast<float>(gw[static_cast<std::size_t>(i)]);
}

/// The reference convolution needs no scratch memory.
inline std::int64_t conv2d_scratch(reference, const conv_geometry&) { return 0; }

}  // namespace hush::backend
