#pragma once
// Normalisation layers.
//   batch_norm2d: x (N,C,H,W) -> y (N,C,H,W), torch.nn.BatchNorm2d (Ioffe & Szegedy 2015): batch
//     statistics and a running average (momentum) in train mode, the running statistics in eval.
//   layer_norm: x (..., D) -> y (..., D), torch.nn.LayerNorm(D) (Ba et al. 2016).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hush/backend/provides.hpp"
#include "hush/backend/unary_ops.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/layout.hpp"
#include "hush/core/parameter.hpp"
#include "hush/distributed/communicator.hpp"

namespace hush {

/// torch.nn.BatchNorm2d: x (N,C,H,W) -> y (N,C,H,W) = (x - mean)/√(var + eps)·weight + bias per
/// channel. Train mode uses the batch's statistics (over all of ctx.batch_norm_group's processes
/// when it is set) and updates the running ones; eval and inference use the running statistics.
struct batch_norm2d {
  /// batch_norm2d's settings: the channels C, eps (1e-5) added to the variance, and the momentum (0.1:
  /// running = 0.9·running + 0.1·batch), PyTorch's defaults. `batch_norm2d(64)` means
  /// `batch_norm2d({.channels = 64})`.
  struct options {
    std::int64_t channels;
    float eps = 1e-5f;
    float momentum = 0.1f;
  };
  static constexpr const char* kind = "batch_norm2d";
  /// Backward never reads y, so a following activation may overwrite it in place; a following
  /// (leaky) ReLU it applies in the same pass as the normalisation (forward_then).
  static constexpr bool overwritable_output = true, applies_activation = true;
  static constexpr bool is_batch_norm = true;
  /// Reads the cpu backend's blocked layout and writes its output (and dx) in the input's
  /// (core/layout.hpp).
  static constexpr bool prefers_blocked(bool consumer_takes_blocked) { return consumer_takes_blocked; }
  template <class Ctx>
  layout plan_layout(Ctx&, layout in, bool) {
    if (in == layout::blocked && !blocked_kernels<Ctx>)
      throw layout_error("batch_norm2d: a blocked input on a backend without blocked batch-norm kernels");
    return in;
  }
  /// After forward_then, backward_then takes the activation's gradient through it in its own pass.
  static constexpr bool backward_applies_activation = true;

  constexpr explicit batch_norm2d(options o) : opt(o) {}
  constexpr explicit batch_norm2d(std::int64_t channels) : opt{channels} {}

  constexpr std::int64_t parameter_count() const { return 2 * opt.channels; }

  shape output_shape(shape in) const {
    if (in.rank != 4 || in.c() != opt.channels)
      throw shape_error("batch_norm2d: expected (N, " + std::to_string(opt.channels) + ", H, W), got " + in.str());
    return in;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    output_shape(in);
    if (weight.allocate(ctx, {opt.channels})) {
      fill(ctx.backend, opt.channels, 1.0f, ctx[weight.value].data());
      bias.allocate(ctx, {opt.channels});
      ctx[running_mean].resize({opt.channels});
      ctx[running_var].resize({opt.channels});
      fill(ctx.backend, opt.channels, 1.0f, ctx[running_var].data());
      ctx[mean_].resize({opt.channels});
      ctx[var_].resize({opt.channels});
    }
    ctx.keep(y_, in, buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    return run(ctx, x, nullptr);
  }
  /// y = act(bn(x)) with the (leaky) ReLU after this layer applied in the same pass, into this
  /// layer's buffer (the activation's own stays untouched; its backward reads the sign here).
  template <class Ctx, class Act>
    requires requires(const Act& a) { a.as_fused(); }
  const tensor_of<Ctx>& forward_then(Ctx& ctx, const tensor_of<Ctx>& x, const Act& act) {
    const auto f = act.as_fused();
    return run(ctx, x, &f);
  }

  /// Backward of forward_then: dy is the gradient of the activation's output, taken through the
  /// activation (whose output, in this layer's buffer, has its input's sign) in the norm's own
  /// backward pass; the activation's backward and its buffer are skipped.
  template <class Ctx, class Act>
    requires requires(const Act& a) { a.as_fused(); }
  const tensor_of<Ctx>& backward_then(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy, Act& act) {
    const auto f = act.as_fused();
    if constexpr (fused_backward<Ctx>) return run_backward(ctx, x, dy, &f);
    else return backward(ctx, x, act.backward(ctx, ctx[y_], dy));  // a backend without the fused kernel
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    return run_backward(ctx, x, dy, nullptr);
  }

 private:
  template <class Ctx>
  const tensor_of<Ctx>& run(Ctx& ctx, const tensor_of<Ctx>& x, const ops::fused_relu* act) {
    const auto& s = x.shape();
    const auto hw = s.h() * s.w();
    batch_statistics_ = ctx.training();
    ctx[y_].set_layout(x.layout());
    bool blocked = false;
    if constexpr (blocked_kernels<Ctx>) blocked = x.layout() == layout::blocked;
    if (batch_statistics_) {
      if constexpr (blocked_kernels<Ctx>) {
        if (blocked)
          batch_norm_statistics_blocked(ctx.backend, activation_block(ctx.backend), s.n(), s.c(), hw, x.data(),
                                        ctx[mean_].data(), ctx[var_].data());
      }
      if (!blocked) batch_norm_statistics(ctx.backend, s.n(), s.c(), hw, x.data(), ctx[mean_].data(), ctx[var_].data());
      if (synchronised(ctx)) combine_statistics(ctx, s.c());
      batch_norm_update_running(ctx.backend, s.c(), s.n() * hw * group_size(ctx), opt.momentum, ctx[mean_].data(),
                                ctx[var_].data(), ctx[running_mean].data(), ctx[running_var].data());
      ++num_batches_tracked;
    }
    const auto& m = ctx[batch_statistics_ ? mean_ : running_mean];
    const auto& v = ctx[batch_statistics_ ? var_ : running_var];
    if constexpr (blocked_kernels<Ctx>) {
      if (blocked) {
        batch_norm_forward_relu_blocked(ctx.backend, activation_block(ctx.backend), s.n(), s.c(), hw, x.data(), m.data(),
                                        v.data(), opt.eps, ctx[weight.value].data(), ctx[bias.value].data(), act, ctx[y_].data());
        return ctx[y_];
      }
    }
    if constexpr (provides_batch_norm_relu<typename Ctx::backend_type>) {
      batch_norm_forward_relu(ctx.backend, s.n(), s.c(), hw, x.data(), m.data(), v.data(), opt.eps, ctx[weight.value].data(),
                              ctx[bias.value].data(), act, ctx[y_].data());
    } else {
      batch_norm_forward(ctx.backend, s.n(), s.c(), hw, x.data(), m.data(), v.data(), opt.eps, ctx[weight.value].data(),
                         ctx[bias.value].data(), ctx[y_].data());
      if (act) unary_forward(ctx.backend, ops::leaky_relu{act->slope}, ctx[y_].numel(), ctx[y_].data(), ctx[y_].data());
    }
    return ctx[y_];
  }

 public:

  template <class V>
  void visit(V&& v) {
    v.parameter("weight", weight);
    v.parameter("bias", bias);
    v.buffer("running_mean", running_mean);
    v.buffer("running_var", running_var);
    v.counter("num_batches_tracked", num_batches_tracked);
  }

  std::string describe() const { return std::to_string(opt.channels); }

  options opt;
  parameter weight, bias;
  kept running_mean, running_var;
  std::int64_t num_batches_tracked = 0;

 private:
  /// Whether the backend has kernels for the blocked layout (the cpu backend).
  template <class Ctx>
  static constexpr bool blocked_kernels = provides_blocked_layout<typename Ctx::backend_type>;
  /// Whether it has a backward that takes a (leaky) ReLU's gradient through it (the cpu backend).
  template <class Ctx>
  static constexpr bool fused_backward = provides_batch_norm_relu<typename Ctx::backend_type>;

  /// dx (and the parameters' gradients) from dy; `after`: the activation forward_then applied,
  /// whose output's gradient dy is, taken through it here (only where fused_backward).
  template <class Ctx>
  const tensor_of<Ctx>& run_backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy, const ops::fused_relu* after) {
    if (batch_statistics_ && synchronised(ctx)) return synchronised_backward(ctx, x, dy, after);
    return backward_kernel(ctx, x, dy, after, batch_statistics_, ctx[weight.grad].data(), ctx[bias.grad].data());
  }
  /// The backend's backward kernel for x's layout: dx, and Σ dy·x̂ and Σ dy added into dgamma
  /// and dbeta. Without batch statistics, dx = γ·rstd·dy.
  template <class Ctx>
  const tensor_of<Ctx>& backward_kernel(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy,
                                        const ops::fused_relu* after, bool batch_statistics, float* dgamma, float* dbeta) {
    const auto& s = x.shape();
    const auto hw = s.h() * s.w();
    const auto& m = ctx[batch_statistics_ ? mean_ : running_mean];
    const auto& v = ctx[batch_statistics_ ? var_ : running_var];
    const float* y = after ? ctx[y_].data() : nullptr;
    const float slope = after ? after->slope : 1.0f;
    ctx[dx_].set_layout(x.layout());
    if constexpr (blocked_kernels<Ctx>) {
      if (x.layout() == layout::blocked) {
        batch_norm_backward_blocked(ctx.backend, activation_block(ctx.backend), s.n(), s.c(), hw, x.data(), dy.data(),
                                    m.data(), v.data(), opt.eps, ctx[weight.value].data(), ctx[dx_].data(), dgamma, dbeta,
                                    batch_statistics, y, slope);
        return ctx[dx_];
      }
    }
    if constexpr (fused_backward<Ctx>) {
      if (after) {
        batch_norm_backward_relu(ctx.backend, s.n(), s.c(), hw, x.data(), dy.data(), y, slope, m.data(), v.data(),
                                 opt.eps, ctx[weight.value].data(), ctx[dx_].data(), dgamma, dbeta, batch_statistics);
        return ctx[dx_];
      }
    }
    batch_norm_backward(ctx.backend, s.n(), s.c(), hw, x.data(), dy.data(), m.data(), v.data(), opt.eps,
                        ctx[weight.value].data(), ctx[dx_].data(), dgamma, dbeta, batch_statistics);
    return ctx[dx_];
  }

  // ---- batch statistics over the processes of a data-parallel run (ctx.batch_norm_group) ----
  // Every process holds an equal shard of the batch. Forward: the shards' means and E[x²] are
  // averaged, which gives the whole batch's mean and variance. Backward: dx needs Σ dy and
  // Σ dy·x̂ over the whole batch. The backend's own kernel, run without batch statistics, gives
  // dx = γ·rstd·dy and this shard's two sums; after summing them over the processes, the rest
  // of dx, (x − μ)·k_x + k_0 per channel, is the forward kernel's affine map with γ = k_x,
  // β = k_0, σ² = 1, ε = 0, added in. So every backend and layout is covered by its own kernels.
  template <class Ctx>
  static bool synchronised(const Ctx& ctx) {
    return ctx.batch_norm_group != nullptr && ctx.batch_norm_group->size() > 1;
  }
  template <class Ctx>
  static std::int64_t group_size(const Ctx& ctx) {
    return synchronised(ctx) ? ctx.batch_norm_group->size() : 1;
  }
  template <class Ctx>
  static void host_copy(float* to, const float* from, std::int64_t n, bool to_host) {
    using memory = typename Ctx::memory;
    const auto bytes = std::size_t(n) * sizeof(float);
    to_host ? memory::to_host(to, from, bytes) : memory::from_host(to, from, bytes);
  }
  template <class Ctx>
  void combine_statistics(Ctx& ctx, std::int64_t c) {
    std::vector<float> m(static_cast<std::size_t>(c)), v(static_cast<std::size_t>(c));
    host_copy<Ctx>(m.data(), ctx[mean_].data(), c, true);
    host_copy<Ctx>(v.data(), ctx[var_].data(), c, true);
    std::vector<double> sums(2 * std::size_t(c));
    for (std::size_t ch = 0; ch < std::size_t(c); ++ch) sums[ch] = m[ch], sums[c + ch] = double(v[ch]) + double(m[ch]) * m[ch];
    ctx.batch_norm_group->all_reduce_sum(std::span<double>(sums));
    const double p = ctx.batch_norm_group->size();
    for (std::size_t ch = 0; ch < std::size_t(c); ++ch) {
      const double mean = sums[ch] / p;
      m[ch] = static_cast<float>(mean), v[ch] = static_cast<float>(std::max(0.0, sums[c + ch] / p - mean * mean));
    }
    host_copy<Ctx>(ctx[mean_].data(), m.data(), c, false);
    host_copy<Ctx>(ctx[var_].data(), v.data(), c, false);
  }
  template <class Ctx>
  const tensor_of<Ctx>& synchronised_backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy,
                                              const ops::fused_relu* after) {
    const auto& s = x.shape();
    const auto c = s.c(), n = x.numel();
    // scratch: the correction term (n), then k_x, k_0 and ones for the affine map, and the
    // shard's Σ dy·x̂ and Σ dy (c each)
    float* correction = ctx.scratch(n + 5 * c);
    float *k_x = correction + n, *k_0 = k_x + c, *ones = k_0 + c, *dgamma = ones + c, *dbeta = dgamma + c;
    fill(ctx.backend, 2 * c, 0.0f, dgamma);
    const auto& dx = backward_kernel(ctx, x, dy, after, false, dgamma, dbeta);
    axpy(ctx.backend, c, 1.0f, dgamma, ctx[weight.grad].data());  // this process's own parameter gradients
    axpy(ctx.backend, c, 1.0f, dbeta, ctx[bias.grad].data());
    std::vector<float> host(5 * std::size_t(c));  // Σ dy·x̂, Σ dy, γ, μ, σ²
    host_copy<Ctx>(host.data(), dgamma, 2 * c, true);
    host_copy<Ctx>(host.data() + 2 * c, ctx[weight.value].data(), c, true);
    host_copy<Ctx>(host.data() + 3 * c, ctx[mean_].data(), c, true);
    host_copy<Ctx>(host.data() + 4 * c, ctx[var_].data(), c, true);
    std::vector<double> sums(host.begin(), host.begin() + 2 * c);
    ctx.batch_norm_group->all_reduce_sum(std::span<double>(sums));
    const double count = double(s.n() * s.h() * s.w()) * ctx.batch_norm_group->size();
    std::vector<float> coefficients(3 * std::size_t(c));  // k_x, k_0, 1
    for (std::size_t ch = 0; ch < std::size_t(c); ++ch) {
      const double rstd = 1.0 / std::sqrt(double(host[4 * c + ch]) + opt.eps), g = double(host[2 * c + ch]) * rstd;
      coefficients[ch] = static_cast<float>(-g * rstd * sums[ch] / count);
      coefficients[c + ch] = static_cast<float>(-g * sums[c + ch] / count);
      coefficients[2 * c + ch] = 1.0f;
    }
    host_copy<Ctx>(k_x, coefficients.data(), 3 * c, false);
    const auto hw = s.h() * s.w();
    bool blocked = false;
    if constexpr (blocked_kernels<Ctx>) {
      if (x.layout() == layout::blocked) {
        blocked = true;
        batch_norm_forward_relu_blocked(ctx.backend, activation_block(ctx.backend), s.n(), c, hw, x.data(),
                                        ctx[mean_].data(), ones, 0.0f, k_x, k_0, nullptr, correction);
      }
    }
    if (!blocked) batch_norm_forward(ctx.backend, s.n(), c, hw, x.data(), ctx[mean_].data(), ones, 0.0f, k_x, k_0, correction);
    add(ctx.backend, n, dx.data(), correction, ctx[dx_].data());
    return ctx[dx_];
  }

  bool batch_statistics_ = true;  // what the last forward used, so backward matches it
  kept mean_, var_, y_, dx_;
};

/// torch.nn.LayerNorm(D): x (..., D) -> y (..., D), each row of D values normalised by its own mean
/// and variance, then scaled by weight and shifted by bias (both (D), starting at 1 and 0). The same
/// in every mode: there are no running statistics.
struct layer_norm {
  /// layer_norm's settings: the normalised size D (the input's last dimension) and eps (1e-5,
  /// PyTorch's default) added to the variance. `layer_norm(768)` means `layer_norm({.features = 768})`.
  struct options {
    std::int64_t features;
    float eps = 1e-5f;
  };
  static constexpr const char* kind = "layer_norm";

  constexpr explicit layer_norm(options o) : opt(o) {}
  constexpr explicit layer_norm(std::int64_t features) : opt{features} {}

  constexpr std::int64_t parameter_count() const { return 2 * opt.features; }

  shape output_shape(shape in) const {
    if (in.rank < 2 || in[in.rank - 1] != opt.features)
      throw shape_error("layer_norm: expected (..., " + std::to_string(opt.features) + "), got " + in.str());
    return in;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    output_shape(in);
    if (weight.allocate(ctx, {opt.features})) {
      fill(ctx.backend, opt.features, 1.0f, ctx[weight.value].data());
      bias.allocate(ctx, {opt.features});
    }
    const auto rows = in.numel() / opt.features;
    ctx.keep(mean_, {rows}, buffer_role::saved);
    ctx.keep(rstd_, {rows}, buffer_role::saved);
    ctx.keep(y_, in, buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    layer_norm_forward(ctx.backend, x.numel() / opt.features, opt.features, x.data(), ctx[weight.value].data(),
                       ctx[bias.value].data(), opt.eps, ctx[y_].data(), ctx[mean_].data(), ctx[rstd_].data());
    return ctx[y_];
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    layer_norm_backward(ctx.backend, x.numel() / opt.features, opt.features, x.data(), dy.data(), ctx[weight.value].data(),
                        ctx[mean_].data(), ctx[rstd_].data(), ctx[dx_].data(), ctx[weight.grad].data(), ctx[bias.grad].data());
    return ctx[dx_];
  }

  template <class V>
  void visit(V&& v) {
    v.parameter("weight", weight);
    v.parameter("bias", bias);
  }

  std::string describe() const { return std::to_string(opt.features); }

  options opt;
  parameter weight, bias;

 private:
  kept mean_, rstd_, y_, dx_;
};

}  // namespace hush
