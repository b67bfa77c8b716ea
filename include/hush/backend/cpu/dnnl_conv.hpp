#pragma once
// Convolution through oneDNN (Debian's libdnnl-dev), when hush is built with HUSH_WITH_DNNL.
//
// oneDNN's JIT direct convolutions are what PyTorch's CPU convolutions run. They work in a blocked
// layout (8 channels innermost on AVX2, 16 on AVX-512), so each call reorders its operands from
// hush's NCHW / KCRS and back: a copy, cheap beside the convolution and much cheaper than the
// im2col column matrix it replaces (docs/performance.md, session 3). Primitives and the blocked
// buffers are made once per geometry and kept per thread, so a training step allocates nothing.
// A geometry oneDNN declines (it throws while building the primitive) returns false and the
// caller takes the im2col path.
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>

#include <dnnl.hpp>

#include "hush/backend/cpu/conv_algorithm.hpp"
#include "hush/backend/geometry.hpp"

namespace hush::backend {

namespace dnnl_detail {
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

inline dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

/// A user buffer in plain layout, and (when the primitive wants another layout) the primitive's
/// own buffer with the reorders between them.
struct operand {
  dnnl::memory::desc plain;
  dnnl::memory inner;  // empty when the primitive takes the plain layout
  dnnl::reorder to_inner, to_plain;

  operand() = default;
  operand(const dnnl::memory::desc& user, const dnnl::memory::desc& wanted, bool in, bool out, bool accumulate = false)
      : plain(user) {
    if (wanted == user && !accumulate) return;
    inner = dnnl::memory(wanted, engine());
    const dnnl::memory u(user, engine(), DNNL_MEMORY_NONE);
    if (in) to_inner = dnnl::reorder(u, inner);
    if (out) {
      dnnl::primitive_attr attr;
      if (accumulate) {  // user += inner: the weight gradient adds to what is there
        dnnl::post_ops sum;
        sum.append_sum(1.0f);
        attr.set_post_ops(sum);
      }
      to_plain = dnnl::reorder(inner, u, attr);
    }
  }
  /// The memory the primitive reads: the user's, or a reordered copy of it.
  dnnl::memory input(dnnl::stream& s, const float* data) const {
    dnnl::memory u(plain, engine(), const_cast<float*>(data));
    if (!inner) return u;
    dnnl::memory copy = inner;
    to_inner.execute(s, u, copy);
    return copy;
  }
  /// The memory the primitive writes: the user's, or the inner buffer that `finish` copies back.
  dnnl::memory output(float* data) const { return inner ? inner : dnnl::memory(plain, engine(), data); }
  void finish(dnnl::stream& s, float* data) const {
    if (!inner) return;
    dnnl::memory from = inner, to(plain, engine(), data);
    to_plain.execute(s, from, to);
  }
};

struct geometry_descs {
  dnnl::memory::desc x, w, y, any_x, any_w, any_y, bias;
  dims strides, dilates, pad_l, pad_r;
  bool fits = true;  // oneDNN takes the padding on the right only when it is not negative

  explicit geometry_descs(const conv_geometry& g) {
    const auto f32 = dnnl::memory::data_type::f32;
    const dims xd{g.n, g.c, g.h, g.w}, yd{g.n, g.k, g.p, g.q};
    const dims wd = g.groups == 1 ? dims{g.k, g.c, g.r, g.s} : dims{g.groups, g.k_per_group(), g.c_per_group(), g.r, g.s};
    const auto wtag = g.groups == 1 ? tag::oihw : tag::goihw;
    x = {xd, f32, tag::nchw}, y = {yd, f32, tag::nchw}, w = {wd, f32, wtag};
    any_x = {xd, f32, tag::any}, any_y = {yd, f32, tag::any}, any_w = {wd, f32, tag::any};
    bias = {{g.k}, f32, tag::x};
    strides = {g.stride_h, g.stride_w};
    dilates = {g.dil_h - 1, g.dil_w - 1};
    pad_l = {g.pad_h, g.pad_w};
    pad_r = {(g.p - 1) * g.stride_h + g.dil_h * (g.r - 1) + 1 - g.h - g.pad_h,
             (g.q - 1) * g.stride_w + g.dil_w * (g.s - 1) + 1 - g.w - g.pad_w};
    fits = pad_r[0] >= 0 && pad_r[1] >= 0;
  }
  dnnl::convolution_forward::primitive_desc forward(bool with_bias) const {
    const auto prop = dnnl::prop_kind::forward_training;
    const auto alg = dnnl::algorithm::convolution_direct;
    return {with_bias ? dnnl::convolution_forward::desc(prop, alg, any_x, any_w, bias, any_y, strides, dilates, pad_l, pad_r)
                      : dnnl::convolution_forward::desc(prop, alg, any_x, any_w, any_y, strides, dilates, pad_l, pad_r),
            engine()};
  }
};

/// Forward: y = conv(x, w) (+ bias).
struct forward_plan {
  dnnl::convolution_forward conv;
  operand x, w, y;
  explicit forward_plan(const conv_geometry& g, bool with_bias) {
    const geometry_descs d(g);
    if (!d.fits) throw dnnl::error(dnnl_unimplemented, "negative right padding");
    const auto pd = d.forward(with_bias);
    conv = dnnl::convolution_forward(pd);
    x = operand(d.x, pd.src_desc(), true, false);
    w = operand(d.w, pd.weights_desc(), true, false);
    y = operand(d.y, pd.dst_desc(), false, true);
  }
};

/// Input gradient: dx = convᵀ(dy, w).
struct backward_data_plan {
  dnnl::convolution_backward_data conv;
  operand w, dy, dx;
  explicit backward_data_plan(const conv_geometry& g) {
    const geometry_descs d(g);
    if (!d.fits) throw dnnl::error(dnnl_unimplemented, "negative right padding");
    const dnnl::convolution_backward_data::primitive_desc pd(
        {dnnl::algorithm::convolution_direct, d.any_x, d.any_w, d.any_y, d.strides, d.dilates, d.pad_l, d.pad_r},
        engine(), d.forward(false));
    conv = dnnl::convolution_backward_data(pd);
    w = operand(d.w, pd.weights_desc(), true, false);
    dy = operand(d.y, pd.diff_dst_desc(), true, false);
    dx = operand(d.x, pd.diff_src_desc(), false, true);
  }
};

/// Weight gradient: dw += Σ dy ⋆ x.
struct backward_weight_plan {
  dnnl::convolution_backward_weights conv;
  operand x, dy, dw;
  explicit backward_weight_plan(const conv_geometry& g) {
    const geometry_descs d(g);
    if (!d.fits) throw dnnl::error(dnnl_unimplemented, "negative right padding");
    const dnnl::convolution_backward_weights::primitive_desc pd(
        {dnnl::algorithm::convolution_direct, d.any_x, d.any_w, d.any_y, d.strides, d.dilates, d.pad_l, d.pad_r},
        engine(), d.forward(false));
    conv = dnnl::convolution_backward_weights(pd);
    x = operand(d.x, pd.src_desc(), true, false);
    dy = operand(d.y, pd.diff_dst_desc(), true, false);
    dw = operand(d.w, pd.diff_weights_desc(), false, true, /*accumulate=*/true);
  }
};

inline auto key(const conv_geometry& g, int kind) {
  return std::make_tuple(kind, g.n, g.c, g.h, g.w, g.k, g.r, g.s, g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h,
                         g.dil_w, g.groups);
}

/// This thread's plan for a geometry, made on first use; nullptr when oneDNN declines it.
template <class Plan, class... Args>
const Plan* plan_for(const conv_geometry& g, int kind, Args... args) {
  thread_local std::map<decltype(key(g, 0)), std::unique_ptr<Plan>> plans;
  auto [it, fresh] = plans.try_emplace(key(g, kind));
  if (fresh) {
    try {
      it->second = std::make_unique<Plan>(g, args...);
    } catch (const dnnl::error&) {
      it->second = nullptr;
    }
  }
  return it->second.get();
}

inline dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}
}  // namespace dnnl_detail

/// Whether oneDNN runs all three convolutions of this geometry (else none of them take it, and
/// the caller's im2col path needs its scratch).
inline bool dnnl_takes(const conv_geometry& g) {
  using namespace dnnl_detail;
  return cpu_conv() == cpu_conv_algorithm::dnnl && plan_for<forward_plan>(g, 0, false) &&
         plan_for<backward_data_plan>(g, 2) && plan_for<backward_weight_plan>(g, 3);
}

/// y = conv(x, w) + bias through oneDNN; false (and nothing written) if it declines the geometry.
inline bool dnnl_conv2d_forward(const conv_geometry& g, const float* x, const float* w, const float* bias, float* y) {
  if (cpu_conv() != cpu_conv_algorithm::dnnl) return false;
  const auto* plan = dnnl_detail::plan_for<dnnl_detail::forward_plan>(g, bias ? 1 : 0, bias != nullptr);
  if (!plan) return false;
  auto& s = dnnl_detail::stream();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, plan->x.input(s, x)}, {DNNL_ARG_WEIGHTS, plan->w.input(s, w)}, {DNNL_ARG_DST, plan->y.output(y)}};
  if (bias)
    args.emplace(DNNL_ARG_BIAS, dnnl::memory({{g.k}, dnnl::memory::data_type::f32, dnnl_detail::tag::x},
                                             dnnl_detail::engine(), const_cast<float*>(bias)));
  plan->conv.execute(s, args);
  plan->y.finish(s, y);
  s.wait();
  return true;
}

/// dx = convᵀ(dy, w) through oneDNN (dx overwritten); false if it declines the geometry.
inline bool dnnl_conv2d_backward_data(const conv_geometry& g, const float* w, const float* dy, float* dx) {
  if (cpu_conv() != cpu_conv_algorithm::dnnl) return false;
  const auto* plan = dnnl_detail::plan_for<dnnl_detail::backward_data_plan>(g, 2);
  if (!plan) return false;
  auto& s = dnnl_detail::stream();
  plan->conv.execute(s, {{DNNL_ARG_WEIGHTS, plan->w.input(s, w)},
                         {DNNL_ARG_DIFF_DST, plan->dy.input(s, dy)},
                         {DNNL_ARG_DIFF_SRC, plan->dx.output(dx)}});
  plan->dx.finish(s, dx);
  s.wait();
  return true;
}

/// dw += Σ dy ⋆ x through oneDNN; false if it declines the geometry.
inline bool dnnl_conv2d_backward_weight(const conv_geometry& g, const float* x, const float* dy, float* dw) {
  if (cpu_conv() != cpu_conv_algorithm::dnnl) return false;
  const auto* plan = dnnl_detail::plan_for<dnnl_detail::backward_weight_plan>(g, 3);
  if (!plan) return false;
  auto& s = dnnl_detail::stream();
  plan->conv.execute(s, {{DNNL_ARG_SRC, plan->x.input(s, x)},
                         {DNNL_ARG_DIFF_DST, plan->dy.input(s, dy)},
                         {DNNL_ARG_DIFF_WEIGHTS, plan->dw.output(dw)}});
  plan->dw.finish(s, dw);
  s.wait();
  return true;
}

}  // namespace hush::backend
