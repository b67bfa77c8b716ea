#pragma once
// Convolution through oneDNN (Debian's libdnnl-dev), when hush is built with HUSH_WITH_DNNL.
//
// oneDNN's JIT direct convolutions are what PyTorch's CPU convolutions run. They work in a blocked
// layout (8 channels innermost on AVX2, 16 on AVX-512). Activations that the graph keeps in that
// layout (core/layout.hpp, conv_layouts) are read and written as they are; NCHW ones, and the KCRS
// weights, are reordered in and out on each call. Primitives and the blocked buffers are made once
// per geometry (and layouts) and kept per thread, so a training step allocates nothing. A geometry
// oneDNN declines returns false and the caller takes the im2col path.
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <dnnl.h>

#include "hush/core/error.hpp"
#include "hush/core/kernel_state.hpp"
#include "hush/backend/cpu/dnnl.hpp"
#include "hush/backend/geometry.hpp"
#include "hush/backend/unary_ops.hpp"

namespace hush::backend {

namespace dnnl_detail {

/// Where an operand's reordered copy lives. The copies of one convolution call are needed only
/// during that call, so every plan of a thread shares four growing buffers (one per role, the
/// largest size asked): a network does not hold a blocked copy of every activation. The output
/// gradient has a role of its own, so both backward passes read one reordered copy of it.
/// Inference weights, reordered once and kept, have their own.
enum class copy_in { source, weights, destination, gradient, own };

/// This thread's shared buffer for `role`, at least `bytes` long (cache-line aligned, as oneDNN's
/// kernels want).
inline void* shared_copy(copy_in role, std::size_t bytes) {
  struct free_aligned {
    void operator()(void* p) const { std::free(p); }
  };
  struct buffer {
    std::unique_ptr<void, free_aligned> data;
    std::size_t bytes = 0;
  };
  thread_local std::array<buffer, 4> buffers;
  auto& b = buffers[static_cast<std::size_t>(role)];
  if (b.bytes < bytes) {
    constexpr std::size_t line = 64;
    b.data.reset();
    b.data.reset(std::aligned_alloc(line, (bytes + line - 1) / line * line));
    if (!b.data) throw std::bad_alloc();
    b.bytes = bytes;
  }
  return b.data.get();
}

/// One operand of a convolution: the user's buffer in plain layout and, when the primitive wants
/// another layout (or the result must be added, not written), a copy in the primitive's layout
/// with the reorders between them.
class operand {
 public:
  operand() = default;
  operand(const primitive_desc& pd, dnnl_query_t query, const dnnl_memory_desc_t& plain, copy_in where,
          bool accumulate = false)
      : user_(make_memory(plain, DNNL_MEMORY_NONE)), where_(where) {
    const dnnl_memory_desc_t wanted = *dnnl_primitive_desc_query_md(pd.get(), query, 0);
    // A copy of its own is made even in the user's layout: the user may free the original.
    if (dnnl_memory_desc_equal(&wanted, &plain) && !accumulate && where != copy_in::own) return;
    inner_ = make_memory(wanted, DNNL_MEMORY_NONE);
    bytes_ = dnnl_memory_desc_get_size(&wanted);
    to_inner_ = make_reorder(plain, wanted, false);
    // Kept weights are only read; oneDNN has no way back from some of their layouts (Winograd's).
    if (where != copy_in::own) to_plain_ = make_reorder(wanted, plain, accumulate);
  }
  /// The memory the primitive reads: the user's buffer, or a reordered copy of it.
  dnnl_memory_t input(const float* data) {
    check(dnnl_memory_set_data_handle(user_.get(), const_cast<float*>(data)), "data handle");
    if (!inner_) return user_.get();
    run(to_inner_, {{DNNL_ARG_FROM, user_.get()}, {DNNL_ARG_TO, inner()}});
    return inner_.get();
  }
  /// The memory the primitive writes; `finish` then brings it to the user's buffer.
  dnnl_memory_t output(float* data) {
    check(dnnl_memory_set_data_handle(user_.get(), data), "data handle");
    return inner_ ? inner() : user_.get();
  }
  void finish() {
    if (to_plain_) run(to_plain_, {{DNNL_ARG_FROM, inner_.get()}, {DNNL_ARG_TO, user_.get()}});
  }
  /// What the last input() gave the primitive, without reordering again (an operand of its own).
  dnnl_memory_t current() const { return inner_ ? inner_.get() : user_.get(); }
  /// The layout the primitive reads this operand in.
  const dnnl_memory_desc_t* layout() const {
    const dnnl_memory_desc_t* md = nullptr;
    check(dnnl_memory_get_memory_desc(current(), &md), "memory descriptor");
    return md;
  }

 private:
  struct free_aligned {
    void operator()(void* p) const { std::free(p); }
  };
  /// The copy's memory, pointed at its buffer (allocated on first use: the backward plans that
  /// a layer's setup builds cost nothing in a program that only runs forward).
  dnnl_memory_t inner() {
    void* data = nullptr;
    if (where_ != copy_in::own) {
      data = shared_copy(where_, bytes_);
    } else {
      if (!own_) {
        constexpr std::size_t line = 64;
        own_.reset(std::aligned_alloc(line, (bytes_ + line - 1) / line * line));
        if (!own_) throw std::bad_alloc();
      }
      data = own_.get();
    }
    check(dnnl_memory_set_data_handle(inner_.get(), data), "data handle");
    return inner_.get();
  }
  memory user_, inner_;
  copy_in where_ = copy_in::own;
  std::size_t bytes_ = 0;
  std::unique_ptr<void, free_aligned> own_;
  primitive to_inner_, to_plain_;
};

/// Channels per block of the blocked activation layout: 16 on AVX-512, 8 on AVX2, else 0 (none).
inline std::int64_t activation_block() {
  static const std::int64_t block = [] {
    const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
    const auto has = [&](dnnl_cpu_isa_t feature) { return (isa & feature) == unsigned(feature); };  // a bit mask
    return has(dnnl_cpu_isa_avx512_core) ? 16 : has(dnnl_cpu_isa_avx2) ? 8 : 0;
  }();
  return block;
}
/// The blocked layout for activations with `channels` channels: nChw16c on AVX-512, nChw8c on
/// AVX2, when the channels fill whole blocks; else `any`, oneDNN's own choice.
inline dnnl_format_tag_t activation_layout(std::int64_t channels) {
  const auto block = activation_block();
  if (block == 0 || channels % block) return dnnl_format_tag_any;
  return block == 16 ? dnnl_nChw16c : dnnl_nChw8c;
}

/// A geometry in oneDNN's terms; `any` layouts let it choose its own. Activations are asked for
/// in the blocked layout when their channels fill its blocks: left to itself, oneDNN picks NHWC
/// for its inference kernels, and the reorders from and to NCHW cost 2.7x those of nChw16c
/// (ResNet-50 inference at batch 8: 500 -> 421 ms per image batch; docs/performance.md).
struct geometry_descs {
  dnnl_memory_desc_t x, w, y, any_x, any_w, any_y, bias;
  dnnl_dims_t strides{}, dilates{}, pad_l{}, pad_r{};

  /// x and y (and their gradients) in the user's buffers: NCHW, or blocked when `layouts` says.
  /// `free`: the primitive's activations in layouts of oneDNN's choosing, even where the channels
  /// fill blocks (see fastest()). `multiply`: the type the primitive reads x and w in (bf16 for
  /// cpu_precision::bf16; the user's buffers stay fp32 and are reordered into it).
  explicit geometry_descs(const conv_geometry& g, conv_layouts layouts = {}, bool free = false,
                          dnnl_data_type_t multiply = dnnl_f32) {
    const auto tag_x = activation_layout(g.c), tag_y = activation_layout(g.k);
    any_x = desc({g.n, g.c, g.h, g.w}, free ? dnnl_format_tag_any : tag_x, multiply);
    any_y = desc({g.n, g.k, g.p, g.q}, free ? dnnl_format_tag_any : tag_y);
    x = layouts.x ? desc({g.n, g.c, g.h, g.w}, tag_x) : desc({g.n, g.c, g.h, g.w}, dnnl_nchw);
    y = layouts.y ? desc({g.n, g.k, g.p, g.q}, tag_y) : desc({g.n, g.k, g.p, g.q}, dnnl_nchw);
    if (g.groups == 1) {
      w = desc({g.k, g.c, g.r, g.s}, dnnl_oihw), any_w = desc({g.k, g.c, g.r, g.s}, dnnl_format_tag_any, multiply);
    } else {
      w = desc({g.groups, g.k_per_group(), g.c_per_group(), g.r, g.s}, dnnl_goihw);
      any_w = desc({g.groups, g.k_per_group(), g.c_per_group(), g.r, g.s}, dnnl_format_tag_any, multiply);
    }
    bias = desc({g.k}, dnnl_x);
    strides[0] = g.stride_h, strides[1] = g.stride_w;
    dilates[0] = g.dil_h - 1, dilates[1] = g.dil_w - 1;  // oneDNN counts the gaps
    pad_l[0] = g.pad_h, pad_l[1] = g.pad_w;
    pad_r[0] = (g.p - 1) * g.stride_h + g.dil_h * (g.r - 1) + 1 - g.h - g.pad_h;
    pad_r[1] = (g.q - 1) * g.stride_w + g.dil_w * (g.s - 1) + 1 - g.w - g.pad_w;
    // Negative when the last rows or columns are never reached (a strided 1×1 convolution of an
    // even image, as in every ResNet downsample shortcut): oneDNN takes that, as PyTorch asks it to.
  }
  primitive_desc forward(bool with_bias, const_dnnl_primitive_attr_t attr = nullptr) const {
    dnnl_convolution_desc_t d;
    check(dnnl_dilated_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct, &any_x, &any_w,
                                                     with_bias ? &bias : nullptr, &any_y, strides, dilates, pad_l, pad_r),
          "forward convolution");
    return create(&d, nullptr, attr);
  }
  static primitive_desc create(const void* op, const primitive_desc* hint, const_dnnl_primitive_attr_t attr = nullptr) {
    dnnl_primitive_desc_t pd = nullptr;
    check(dnnl_primitive_desc_create(&pd, op, attr, engine(), hint ? hint->get() : nullptr), "convolution");
    return primitive_desc(pd);
  }
};

/// Whether oneDNN gave its reference (unoptimised, loop-nest) implementation.
inline bool is_reference(const primitive_desc& pd) {
  const char* impl = nullptr;
  check(dnnl_primitive_desc_query(pd.get(), dnnl_query_impl_info_str, 0, &impl), "implementation name");
  return impl && std::string_view(impl).rfind("ref", 0) == 0;
}

/// make(descs) for the layouts hush asks for; where that gets oneDNN's reference kernel, make
/// again with every activation layout left to oneDNN, whose optimised kernel is worth the
/// reorders. A 4x4/2 convolution from 8 to 16 channels asked for plain x and blocked dy took its
/// reference weight-gradient kernel at 58 ms a call, against 0.05 ms for the one oneDNN then
/// picks (jit:avx2; ONEDNN_VERBOSE, batch 4, a width-8 GAN discriminator).
template <class Make>
primitive_desc fastest(const conv_geometry& g, conv_layouts layouts, Make&& make, dnnl_data_type_t multiply = dnnl_f32) {
  auto pd = make(geometry_descs(g, layouts, false, multiply));
  if (!is_reference(pd)) return pd;
  auto free = make(geometry_descs(g, layouts, true, multiply));
  return is_reference(free) ? std::move(pd) : std::move(free);
}

/// Attributes holding the post-ops: with `sum`, the destination's values added to the result
/// (a residual's shortcut already there), then a (leaky) ReLU; or none.
inline handle<dnnl_primitive_attr_t, dnnl_primitive_attr_destroy> post_ops(const ops::fused_relu* act, bool sum = false) {
  handle<dnnl_primitive_attr_t, dnnl_primitive_attr_destroy> attr;
  if (!act && !sum) return attr;
  dnnl_primitive_attr_t a = nullptr;
  check(dnnl_primitive_attr_create(&a), "attributes");
  attr = decltype(attr)(a);
  dnnl_post_ops_t ops = nullptr;
  check(dnnl_post_ops_create(&ops), "post-ops");
  const handle<dnnl_post_ops_t, dnnl_post_ops_destroy> owned(ops);
  if (sum) check(dnnl_post_ops_append_sum(ops, 1.0f), "sum post-op");
  if (act) check(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, act->slope, 0.0f), "ReLU post-op");
  check(dnnl_primitive_attr_set_post_ops(a, ops), "post-ops");
  return attr;
}

/// Forward: y = conv(x, w) (+ bias), (leaky-)ReLU'd in the same kernel when asked.
struct forward_plan {
  primitive conv;
  operand x, w, y;
  memory bias;
  forward_plan(const conv_geometry& g, bool with_bias, const ops::fused_relu* act, conv_layouts layouts) {
    const geometry_descs d(g, layouts);
    const auto attr = post_ops(act);
    const auto pd = fastest(g, layouts, [&](const geometry_descs& o) { return o.forward(with_bias, attr.get()); });
    conv = make_primitive(pd);
    x = operand(pd, dnnl_query_src_md, d.x, copy_in::source);
    w = operand(pd, dnnl_query_weights_md, d.w, copy_in::weights);
    y = operand(pd, dnnl_query_dst_md, d.y, copy_in::destination);
    if (with_bias) bias = make_memory(d.bias, DNNL_MEMORY_NONE);
  }
};

/// Whether this CPU multiplies bf16 natively (AVX-512-BF16 or AMX), as oneDNN sees it.
inline bool cpu_has_bf16() {
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  return (isa & unsigned(dnnl_cpu_isa_avx512_core_bf16)) == unsigned(dnnl_cpu_isa_avx512_core_bf16);
}

/// What an inference kernel is, beside its geometry, activation, bias and layouts: what it
/// multiplies in, by which algorithm, and whether it adds into y. One plan per kind.
struct inference_kind {
  bool bf16 = false;        // x and the weights rounded to bf16, sums in fp32 (cpu_precision::bf16)
  bool winograd = false;    // Winograd's algorithm where winograd_pays (fp32 only)
  bool accumulate = false;  // y = act(conv + bias + y): a residual's sum as a post-op
  std::uint64_t bits() const { return std::uint64_t(bf16) | std::uint64_t(winograd) << 1 | std::uint64_t(accumulate) << 2; }
};

/// Where oneDNN's Winograd kernels (F(2x2, 3x3) and F(4x4, 3x3), fp32, AVX-512) beat its direct
/// ones: 3x3 kernels at stride 1 without dilation or groups, with at least 32 input channels.
/// Measured on a 2-core Zen 4 (bench/winograd_shapes.cpp, batch 1 and 8): 1.3-2.7x faster from
/// 32 input channels up (64 to 64 at 56x56, batch 1: 1.09 -> 0.57 ms), but 16 to 16 channels at
/// 256x256 1.9x slower and 16 to 32 at batch 8 1.2x slower; docs/performance.md, session 32.
/// oneDNN may still decline a geometry (channels that do not fill its blocks): the direct kernel
/// then runs.
inline bool winograd_pays(const conv_geometry& g) {
  return g.groups == 1 && g.r == 3 && g.s == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 &&
         g.dil_w == 1 && g.c >= 32;
}

/// Inference: y = conv(x, w) (+ bias), (leaky-)ReLU'd in the same kernel when asked (a post-op),
/// for oneDNN's inference kernels. The weights' reorder into oneDNN's layout (a copy of its own,
/// even where the layout is the caller's) is kept for as long as the caller's weights (pointer
/// and version) stay the same, so the caller may free its weights once they have been read.
/// With `kind.bf16`, x and the weights are reordered into bf16 and the kernel sums in fp32 and
/// writes fp32, where oneDNN has an optimised bf16 kernel for the geometry (a 3-channel first
/// convolution may not: it stays fp32). With `kind.winograd`, where winograd_pays and oneDNN has
/// the kernel, the weights are kept transformed and each call multiplies in Winograd's domain:
/// fewer multiplications, other roundings (ResNet-50's and the U-Net's outputs 1e-7 to 3e-7 from
/// the direct kernels', relative L2; tests/models.cpp). With `kind.accumulate`, y's values are
/// added before the activation (a sum post-op).
struct inference_plan {
  primitive conv;
  operand x, w, y;
  memory bias;
  const float* weights_of = nullptr;
  std::uint64_t weights_version = 0;
  /// Whether the plan's own copy is of the weights of `version` (so it may be given none).
  bool holds(std::uint64_t version) const { return weights_of && weights_version == version; }
  inference_plan(const conv_geometry& g, bool with_bias, const ops::fused_relu* act, conv_layouts layouts,
                 inference_kind kind) {
    const geometry_descs d(g, layouts);
    const auto attr = post_ops(act, kind.accumulate);
    const auto make = [&](const geometry_descs& o, dnnl_alg_kind_t algorithm = dnnl_convolution_direct) {
      dnnl_convolution_desc_t op;
      check(dnnl_dilated_convolution_forward_desc_init(&op, dnnl_forward_inference, algorithm, &o.any_x, &o.any_w,
                                                       with_bias ? &o.bias : nullptr, &o.any_y, o.strides, o.dilates,
                                                       o.pad_l, o.pad_r),
            "inference convolution");
      return geometry_descs::create(&op, nullptr, attr.get());
    };
    primitive_desc pd;
    if (kind.winograd && !kind.bf16 && winograd_pays(g)) {
      try {
        pd = make(d, dnnl_convolution_winograd);
        if (is_reference(pd)) pd = primitive_desc();
      } catch (const declined&) {  // oneDNN has no Winograd kernel for it (channels, CPU, post-ops)
      }
    }
    if (!pd) {
      pd = fastest(g, layouts, make, kind.bf16 ? dnnl_bf16 : dnnl_f32);
      if (kind.bf16 && is_reference(pd)) pd = fastest(g, layouts, make);  // no optimised bf16 kernel: fp32
    }
    conv = make_primitive(pd);
    x = operand(pd, dnnl_query_src_md, d.x, copy_in::source);
    w = operand(pd, dnnl_query_weights_md, d.w, copy_in::own);  // kept between calls
    y = operand(pd, dnnl_query_dst_md, d.y, copy_in::destination);
    if (with_bias) bias = make_memory(d.bias, DNNL_MEMORY_NONE);
  }
};

/// Input gradient: dx = convᵀ(dy, w), overwriting dx.
struct backward_data_plan {
  primitive conv;
  operand w, dy, dx;
  backward_data_plan(const conv_geometry& g, conv_layouts layouts) {
    const geometry_descs d(g, layouts);
    const auto pd = fastest(g, layouts, [&](const geometry_descs& o) {
      dnnl_convolution_desc_t op;
      check(dnnl_dilated_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &o.any_x, &o.any_w, &o.any_y,
                                                             o.strides, o.dilates, o.pad_l, o.pad_r),
            "backward-data convolution");
      const auto hint = o.forward(false);
      return geometry_descs::create(&op, &hint);
    });
    conv = make_primitive(pd);
    w = operand(pd, dnnl_query_weights_md, d.w, copy_in::weights);
    dy = operand(pd, dnnl_query_diff_dst_md, d.y, copy_in::gradient);
    dx = operand(pd, dnnl_query_diff_src_md, d.x, copy_in::destination);
  }
};

/// Weight gradient: dw += Σ dy ⋆ x.
struct backward_weight_plan {
  primitive conv;
  operand x, dy, dw;
  backward_weight_plan(const conv_geometry& g, conv_layouts layouts) {
    const geometry_descs d(g, layouts);
    const auto pd = fastest(g, layouts, [&](const geometry_descs& o) {
      dnnl_convolution_desc_t op;
      check(dnnl_dilated_convolution_backward_weights_desc_init(&op, dnnl_convolution_direct, &o.any_x, &o.any_w, nullptr,
                                                                &o.any_y, o.strides, o.dilates, o.pad_l, o.pad_r),
            "backward-weights convolution");
      const auto hint = o.forward(false);
      return geometry_descs::create(&op, &hint);
    });
    conv = make_primitive(pd);
    x = operand(pd, dnnl_query_src_md, d.x, copy_in::source);
    dy = operand(pd, dnnl_query_diff_dst_md, d.y, copy_in::gradient);
    dw = operand(pd, dnnl_query_diff_weights_md, d.w, copy_in::weights, /*accumulate=*/true);
  }
};

inline void wait() { check(dnnl_stream_wait(stream()), "wait"); }
}  // namespace dnnl_detail

/// "(2, 16, 8, 8) by a 3x3 kernel to 32 channels, stride 1, padding 1" for error messages.
inline std::string describe(const conv_geometry& g) {
  std::string s;  // piecewise: GCC 12 misreports "(" + std::string (PR 105329)
  const auto add = [&](const char* text, std::int64_t v) {
    s += text;
    s += std::to_string(v);
  };
  add("(", g.n), add(", ", g.c), add(", ", g.h), add(", ", g.w), add(") by a ", g.r), add("x", g.s);
  add(" kernel to ", g.k), add(" channels, stride ", g.stride_h), add(", padding ", g.pad_h);
  add(", dilation ", g.dil_h), add(", groups ", g.groups);
  return s;
}

/// oneDNN's side of one convolution layer (a kernel_state): the primitives for its geometry, made
/// when the layer is set up (and for another fused activation or layout on first use), and its
/// inference weights in oneDNN's layout. Owned by the layer, freed with it.
class dnnl_conv_state : public kernel_state::base {
 public:
  /// Builds the forward (with and without bias) and both backward primitives on NCHW operands;
  /// throws dnnl_detail::declined if oneDNN takes none of them.
  explicit dnnl_conv_state(const conv_geometry& g) : g_(g) {
    forward(nullptr, true, {}), forward(nullptr, false, {}), backward_data({}), backward_weight({});
  }

  const conv_geometry& geometry() const { return g_; }

  dnnl_detail::forward_plan& forward(const ops::fused_relu* act, bool bias, conv_layouts layouts) {
    return find(forward_, key(act, int(bias), layouts), [&] { return dnnl_detail::forward_plan(g_, bias, act, layouts); });
  }
  dnnl_detail::inference_plan& inference(const ops::fused_relu* act, bool bias, conv_layouts layouts,
                                         dnnl_detail::inference_kind kind) {
    return find(inference_, key(act, int(bias), layouts) | kind.bits() << 5,
                [&] { return dnnl_detail::inference_plan(g_, bias, act, layouts, kind); });
  }
  dnnl_detail::backward_data_plan& backward_data(conv_layouts layouts) {
    return find(backward_data_, key(nullptr, 0, layouts), [&] { return dnnl_detail::backward_data_plan(g_, layouts); });
  }
  dnnl_detail::backward_weight_plan& backward_weight(conv_layouts layouts) {
    return find(backward_weight_, key(nullptr, 0, layouts), [&] { return dnnl_detail::backward_weight_plan(g_, layouts); });
  }

 private:
  /// A plan's key within the layer: the fused activation's slope (as bits; none: all ones), the
  /// bias, the layouts (and, for inference, the kind's bits from bit 5).
  static std::uint64_t key(const ops::fused_relu* act, int bias, conv_layouts layouts) {
    const std::uint32_t slope = act ? std::bit_cast<std::uint32_t>(act->slope) : ~0u;
    return (std::uint64_t(slope) << 8) | std::uint64_t(bias << 4) | std::uint64_t(layouts.bits());
  }
  template <class Plan, class Make>
  Plan& find(std::map<std::uint64_t, std::unique_ptr<Plan>>& plans, std::uint64_t k, Make make) {
    auto& p = plans[k];
    if (!p) {
      try {
        p = std::make_unique<Plan>(make());
      } catch (const dnnl_detail::declined& e) {
        plans.erase(k);
        throw dnnl_detail::declined(std::string(e.what()) + ", for a convolution of " + describe(g_));
      }
    }
    return *p;
  }

  conv_geometry g_;
  std::map<std::uint64_t, std::unique_ptr<dnnl_detail::forward_plan>> forward_;
  std::map<std::uint64_t, std::unique_ptr<dnnl_detail::inference_plan>> inference_;
  std::map<std::uint64_t, std::unique_ptr<dnnl_detail::backward_data_plan>> backward_data_;
  std::map<std::uint64_t, std::unique_ptr<dnnl_detail::backward_weight_plan>> backward_weight_;
};

/// A layer's oneDNN state for this geometry, or an empty one where oneDNN declines it (the
/// layer then runs im2col).
inline kernel_state make_dnnl_conv(const conv_geometry& g) {
  try {
    return kernel_state(new dnnl_conv_state(g));
  } catch (const dnnl_detail::declined&) {
    return {};
  }
}

/// The tensor (n, c, h, w) reordered from the blocked layout into NCHW, or back (`to_blocked`).
inline void dnnl_reorder_activation(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, const float* from,
                                    float* to, bool to_blocked) {
  using namespace dnnl_detail;
  struct reorder {
    memory from, to;
    primitive op;
  };
  // Reorders depend on the shape only (no weights); oneDNN's primitive cache would serve them
  // too, but building the descriptors costs more than a small reorder.
  thread_local std::map<std::array<std::int64_t, 5>, reorder> reorders;
  auto [it, fresh] = reorders.try_emplace({n, c, h, w, std::int64_t(to_blocked)});
  auto& r = it->second;
  if (fresh) {
    auto a = desc({n, c, h, w}, activation_layout(c)), b = desc({n, c, h, w}, dnnl_nchw);
    if (to_blocked) std::swap(a, b);
    r = {make_memory(a, DNNL_MEMORY_NONE), make_memory(b, DNNL_MEMORY_NONE), make_reorder(a, b, false)};
  }
  check(dnnl_memory_set_data_handle(r.from.get(), const_cast<float*>(from)), "data handle");
  check(dnnl_memory_set_data_handle(r.to.get(), to), "data handle");
  run(r.op, {{DNNL_ARG_FROM, r.from.get()}, {DNNL_ARG_TO, r.to.get()}});
  wait();
}

/// y = conv(x, w) + bias, (leaky-)ReLU'd when `act` is given, x and y in the given layouts.
inline void dnnl_conv2d_forward(dnnl_conv_state& s, const float* x, const float* w, const float* bias, float* y,
                                const ops::fused_relu* act = nullptr, conv_layouts layouts = {}) {
  using namespace dnnl_detail;
  auto& plan = s.forward(act, bias != nullptr, layouts);
  const auto src = plan.x.input(x), weights = plan.w.input(w), dst = plan.y.output(y);
  if (bias) {
    check(dnnl_memory_set_data_handle(plan.bias.get(), const_cast<float*>(bias)), "data handle");
    run(plan.conv, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, plan.bias.get()}, {DNNL_ARG_DST, dst}});
  } else {
    run(plan.conv, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  }
  plan.y.finish();
  wait();
}

/// Inference: y = act?(conv(x, w) + bias), or with `kind.accumulate` y = act?(conv(x, w) + bias + y),
/// x and y in the given layouts, multiplied as `kind` asks (inference_plan). The weights are
/// copied into oneDNN's layout when `version` differs from the last call's (the layer's weights
/// changed) and kept in the layer's state until then. `w` may be null where
/// dnnl_conv2d_infer_holds says the kernel holds the weights of `version` (the caller has freed
/// its copy).
inline void dnnl_conv2d_infer(dnnl_conv_state& s, const float* x, const float* w, std::uint64_t version,
                              const float* bias, const ops::fused_relu* act, float* y, conv_layouts layouts,
                              dnnl_detail::inference_kind kind = {}) {
  using namespace dnnl_detail;
  auto& plan = s.inference(act, bias != nullptr, layouts, kind);
  if (!w && !plan.holds(version))
    throw error("conv2d inference: no weights given, and the kernel holds none of this version (" + describe(s.geometry()) + ")");
  if (w && (plan.weights_of != w || plan.weights_version != version)) {
    plan.w.input(w);  // copied into the plan's own buffer, in its layout
    plan.weights_of = w, plan.weights_version = version;
  }
  // Accumulating, the kernel reads y: brought into its layout first where that differs from y's.
  const auto src = plan.x.input(x), dst = kind.accumulate ? plan.y.input(y) : plan.y.output(y);
  if (bias) {
    check(dnnl_memory_set_data_handle(plan.bias.get(), const_cast<float*>(bias)), "data handle");
    run(plan.conv, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, plan.w.current()}, {DNNL_ARG_BIAS, plan.bias.get()},
                    {DNNL_ARG_DST, dst}});
  } else {  // a convolution without bias and no batch norm after it to fold (a bias-free conv + ReLU)
    run(plan.conv, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, plan.w.current()}, {DNNL_ARG_DST, dst}});
  }
  plan.y.finish();
  wait();
}

/// Whether the inference kernel for these settings (dnnl_conv2d_infer's) holds the weights of
/// `version`, so that it may be given none.
inline bool dnnl_conv2d_infer_holds(dnnl_conv_state& s, std::uint64_t version, bool bias, const ops::fused_relu* act,
                                    conv_layouts layouts, dnnl_detail::inference_kind kind) {
  const auto& plan = s.inference(act, bias, layouts, kind);
  return plan.holds(version);
}

/// Both backward passes: dw += Σ dy ⋆ x, then dx = convᵀ(dy, w) (overwritten), with dy
/// reordered once when both want it in the same layout; x, dx, dy in the given layouts.
inline void dnnl_conv2d_backward(dnnl_conv_state& s, const float* x, const float* w, const float* dy, float* dx,
                                 float* dw, conv_layouts layouts = {}) {
  using namespace dnnl_detail;
  auto& weights = s.backward_weight(layouts);
  auto& data = s.backward_data(layouts);
  const auto gradient = weights.dy.input(dy);
  run(weights.conv, {{DNNL_ARG_SRC, weights.x.input(x)}, {DNNL_ARG_DIFF_DST, gradient},
                     {DNNL_ARG_DIFF_WEIGHTS, weights.dw.output(dw)}});
  weights.dw.finish();
  const bool same = dnnl_memory_desc_equal(weights.dy.layout(), data.dy.layout());
  run(data.conv, {{DNNL_ARG_WEIGHTS, data.w.input(w)}, {DNNL_ARG_DIFF_DST, same ? gradient : data.dy.input(dy)},
                  {DNNL_ARG_DIFF_SRC, data.dx.output(dx)}});
  data.dx.finish();
  wait();
}

/// dx = convᵀ(dy, w) (dx overwritten), NCHW operands.
inline void dnnl_conv2d_backward_data(dnnl_conv_state& s, const float* w, const float* dy, float* dx) {
  using namespace dnnl_detail;
  auto& plan = s.backward_data({});
  run(plan.conv, {{DNNL_ARG_WEIGHTS, plan.w.input(w)}, {DNNL_ARG_DIFF_DST, plan.dy.input(dy)},
                  {DNNL_ARG_DIFF_SRC, plan.dx.output(dx)}});
  plan.dx.finish();
  wait();
}

/// dw += Σ dy ⋆ x, NCHW operands.
inline void dnnl_conv2d_backward_weight(dnnl_conv_state& s, const float* x, const float* dy, float* dw) {
  using namespace dnnl_detail;
  auto& plan = s.backward_weight({});
  run(plan.conv, {{DNNL_ARG_SRC, plan.x.input(x)}, {DNNL_ARG_DIFF_DST, plan.dy.input(dy)},
                  {DNNL_ARG_DIFF_WEIGHTS, plan.dw.output(dw)}});
  plan.dw.finish();
  wait();
}

}  // namespace hush::backend
