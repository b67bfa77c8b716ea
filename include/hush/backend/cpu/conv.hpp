#pragma once
// The cpu convolution: im2col + sgemm. A batch is cut into chunks of samples, one chunk per
// thread at a time (BLAS runs single-threaded inside the parallel region); a lone sample is
// parallelised inside instead (im2col rows, col2im channels, threaded GEMM).
//
// A chunk puts the column matrices of several samples side by side, so one GEMM covers about
// 1,024 output positions: ResNet-20's 7×7 stage would otherwise run 64×49×576 GEMMs, too narrow
// for the kernels and re-packing the weights for every sample. Per thread, the scratch holds the
// chunk's column matrix, its output (or output gradient) in the GEMM's layout, and a
// weight-gradient accumulator. The input gradient of a stride-1 convolution is itself a
// convolution (of dY with the flipped kernel), which avoids col2im.
#include <algorithm>
#include <cstdint>

#include <omp.h>

#include "hush/backend/cpu/conv_algorithm.hpp"
#include "hush/backend/cpu/dense.hpp"
#include "hush/backend/cpu/elementwise.hpp"
#include "hush/backend/geometry.hpp"
#include "hush/backend/im2col_conv.hpp"
#include "hush/backend/unary_ops.hpp"
#include "hush/core/error.hpp"
#include "hush/core/kernel_state.hpp"
#include "hush/core/shape.hpp"
#include "hush/core/tensor.hpp"
#if HUSH_WITH_DNNL
#include "hush/backend/cpu/dnnl_conv.hpp"
#endif

namespace hush::backend {

namespace detail {
/// The output columns q whose input column q·stride + offset lies inside [0, w): [lo, hi).
inline void valid_columns(std::int64_t q_count, std::int64_t stride, std::int64_t offset, std::int64_t w,
                          std::int64_t& lo, std::int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = w - offset <= 0 ? 0 : std::min(q_count, (w - offset + stride - 1) / stride);
  if (hi < lo) hi = lo;
}

/// im2col with rows `ld` floats apart (a sample's block inside a chunk's column matrix).
inline void im2col_rows(const conv_geometry& g, const float* x, float* col, std::int64_t ld) {
  const auto rows = g.col_rows();
#pragma omp parallel for if (rows * g.p * g.q > 16384)
  for (std::int64_t row = 0; row < rows; ++row) {
    const auto c = row / (g.r * g.s), rr = (row / g.s) % g.r, ss = row % g.s;
    const auto offset = ss * g.dil_w - g.pad_w;
    std::int64_t lo = 0, hi = 0;
    valid_columns(g.q, g.stride_w, offset, g.w, lo, hi);
    float* out = col + row * ld;
    for (std::int64_t p = 0; p < g.p; ++p, out += g.q) {
      const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h;
      if (ih < 0 || ih >= g.h) {
        std::fill_n(out, g.q, 0.0f);
        continue;
      }
      const float* xr = x + (c * g.h + ih) * g.w;
      std::fill_n(out, lo, 0.0f);
      if (g.stride_w == 1) std::copy(xr + lo + offset, xr + hi + offset, out + lo);
      else
        for (std::int64_t q = lo; q < hi; ++q) out[q] = xr[q * g.stride_w + offset];
      std::fill(out + hi, out + g.q, 0.0f);
    }
  }
}

/// col2im with rows `ld` floats apart.
inline void col2im_rows(const conv_geometry& g, const float* col, std::int64_t ld, float* dx) {
#pragma omp parallel for if (g.c_per_group() * g.h * g.w > 16384)
  for (std::int64_t c = 0; c < g.c_per_group(); ++c) {
    float* plane = dx + c * g.h * g.w;
    std::fill_n(plane, g.h * g.w, 0.0f);
    for (std::int64_t rr = 0; rr < g.r; ++rr)
      for (std::int64_t ss = 0; ss < g.s; ++ss) {
        const auto offset = ss * g.dil_w - g.pad_w;
        std::int64_t lo = 0, hi = 0;
        valid_columns(g.q, g.stride_w, offset, g.w, lo, hi);
        const float* in = col + ((c * g.r + rr) * g.s + ss) * ld;
        for (std::int64_t p = 0; p < g.p; ++p) {
          const auto ih = p * g.stride_h - g.pad_h + rr * g.dil_h;
          if (ih < 0 || ih >= g.h) continue;
          float* dr = plane + ih * g.w;
          const float* ir = in + p * g.q;
          if (g.stride_w == 1)
            for (std::int64_t q = lo; q < hi; ++q) dr[q + offset] += ir[q];
          else
            for (std::int64_t q = lo; q < hi; ++q) dr[q * g.stride_w + offset] += ir[q];
        }
      }
  }
}
}  // namespace detail

/// col[(c·R + r)·S + s][p·Q + q] = x[c][p·sh - ph + r·dh][q·sw - pw + s·dw] (0 outside).
/// The bounds are worked out per row, so the inner loop is a plain copy (a memcpy at stride 1).
inline void im2col(cpu, const conv_geometry& g, const float* x, float* col) {
  detail::im2col_rows(g, x, col, g.p * g.q);
}
/// The adjoint of im2col: dx[c][ih][iw] = Σ of the column entries that read it.
inline void col2im(cpu, const conv_geometry& g, const float* col, float* dx) {
  detail::col2im_rows(g, col, g.p * g.q, dx);
}

namespace detail {
/// How a batch is cut into chunks for the threads; `chunk` samples per GEMM.
struct conv_plan {
  std::int64_t pq, chunk = 1, chunks = 1, col_floats = 0, out_floats = 0, weight_floats = 0;
  /// About 1,024 columns per GEMM, and a multiple of the thread count of chunks, so that no
  /// thread waits for another at the end.
  explicit conv_plan(const conv_geometry& g) : pq(g.p * g.q) {
    const std::int64_t threads = omp_get_max_threads();
    const auto wanted = std::max<std::int64_t>(1, (g.n * pq + 1023) / 1024);
    chunks = std::min(g.n, (wanted + threads - 1) / threads * threads);
    chunk = (g.n + chunks - 1) / chunks;
    chunks = (g.n + chunk - 1) / chunk;
    col_floats = g.col_rows() * chunk * pq, out_floats = g.k * chunk * pq, weight_floats = g.k * g.col_rows();
  }
  std::int64_t per_thread() const { return col_floats + out_floats + weight_floats; }
  /// Chunks only for a batch, one group and more than one thread; else the per-sample path.
  static bool applies(const conv_geometry& g) { return g.n >= 2 && g.groups == 1 && omp_get_max_threads() > 1; }
};

/// A chunk's K planes per sample (NCHW, samples from n0) into the GEMM's layout (K rows of
/// samples·pq), and back.
inline void gather_chunk(const conv_plan& plan, std::int64_t k, std::int64_t samples, const float* nchw, float* rows) {
  for (std::int64_t j = 0; j < samples; ++j)
    for (std::int64_t kk = 0; kk < k; ++kk)
      std::copy_n(nchw + (j * k + kk) * plan.pq, plan.pq, rows + (kk * samples + j) * plan.pq);
}
inline void scatter_chunk(const conv_plan& plan, std::int64_t k, std::int64_t samples, const float* rows, float* nchw) {
  for (std::int64_t j = 0; j < samples; ++j)
    for (std::int64_t kk = 0; kk < k; ++kk)
      std::copy_n(rows + (kk * samples + j) * plan.pq, plan.pq, nchw + (j * k + kk) * plan.pq);
}

/// The column matrices of samples n0, n0 + 1, ... side by side: rows of samples·pq floats.
inline void chunk_columns(const conv_geometry& g, const conv_plan& plan, const float* x, std::int64_t n0,
                          std::int64_t samples, float* col) {
  for (std::int64_t j = 0; j < samples; ++j)
    im2col_rows(g, x + (n0 + j) * g.c * g.h * g.w, col + j * plan.pq, samples * plan.pq);
}

/// f(first sample, samples, this thread's scratch) for each chunk, chunks spread statically.
template <class F>
void for_each_chunk(const conv_geometry& g, const conv_plan& plan, float* scratch, F&& f) {
#pragma omp parallel
  {
    float* mine = scratch + omp_get_thread_num() * plan.per_thread();
#pragma omp for schedule(static)
    for (std::int64_t c = 0; c < plan.chunks; ++c) {
      const auto n0 = c * plan.chunk;
      f(n0, std::min(plan.chunk, g.n - n0), mine);
    }
  }
}
}  // namespace detail

namespace detail {
/// Stride 1, no dilation, one group, padding at most kernel - 1: then dX is the forward
/// convolution of dY with the kernel flipped and its in/out channels swapped (padding
/// R - 1 - pad), which needs im2col of dY instead of col2im into dX, and no zeroing of a large
/// column gradient by the GEMM.
inline bool backward_data_as_forward(const conv_geometry& g) {
  return conv_plan::applies(g) && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.pad_h <= g.r - 1 && g.pad_w <= g.s - 1 && !(g.r == 1 && g.s == 1);
}
inline conv_geometry transposed_geometry(const conv_geometry& g) {
  conv_geometry t{g.n, g.k, g.p, g.q, g.c, g.r, g.s, 1, 1, g.r - 1 - g.pad_h, g.s - 1 - g.pad_w, 1, 1, 1};
  return t.complete();
}
}  // namespace detail

inline std::int64_t conv2d_scratch(cpu, const conv_geometry& g) {
  if (!detail::conv_plan::applies(g)) return im2col_scratch(g);
  const std::int64_t threads = omp_get_max_threads();
  auto floats = threads * detail::conv_plan(g).per_thread();
  if (detail::backward_data_as_forward(g)) {
    const auto t = detail::transposed_geometry(g);
    floats = std::max(floats, g.k * g.col_rows() + threads * detail::conv_plan(t).per_thread());
  }
  return floats;
}

inline void conv2d_forward(cpu, const conv_geometry& g, const float* x, const float* w, const float* bias, float* y,
                           float* scratch) {
  if (!detail::conv_plan::applies(g)) return detail::im2col_conv_forward(cpu{}, g, x, w, bias, y, scratch);
  const detail::conv_plan plan(g);
  detail::for_each_chunk(g, plan, scratch, [&](std::int64_t n0, std::int64_t samples, float* mine) {
    float* col = mine;
    float* out = mine + plan.col_floats;
    detail::chunk_columns(g, plan, x, n0, samples, col);
    float* target = samples == 1 ? y + n0 * g.k * plan.pq : out;  // one sample: already NCHW
    gemm(cpu{}, false, false, g.k, samples * plan.pq, g.col_rows(), 1.0f, w, col, 0.0f, target);  // Y = W·col
    if (samples > 1) detail::scatter_chunk(plan, g.k, samples, out, y + n0 * g.k * plan.pq);
    if (bias) add_bias(cpu{}, samples, g.k, plan.pq, bias, y + n0 * g.k * plan.pq);
  });
}

namespace detail {
inline void relu_in_place(const conv_geometry& g, hush::ops::fused_relu act, float* y) {
  unary_forward(cpu{}, hush::ops::leaky_relu{act.slope}, g.n * g.k * g.p * g.q, y, y);
}
}  // namespace detail

/// Channels per block of the blocked activation layout (core/tensor.hpp): 16 on AVX-512, 8 on
/// AVX2; 0 without oneDNN, or when this backend runs no convolution through it.
inline std::int64_t activation_block(cpu backend) {
#if HUSH_WITH_DNNL
  return backend.convolutions == cpu_conv_algorithm::dnnl ? dnnl_detail::activation_block() : 0;
#else
  (void)backend;
  return 0;
#endif
}
/// Whether activations of `channels` channels can live in the blocked layout (and it is switched on).
inline bool blocked_layout_fits(cpu backend, std::int64_t channels) {
  const auto block = activation_block(backend);
  return backend.blocked_layout && block > 0 && channels % block == 0;
}

/// The tensor of shape `s` at `from` reordered from the blocked layout into NCHW at `to`, or from
/// NCHW into the blocked layout (`to_blocked`).
inline void reorder_activation(cpu, const shape& s, const float* from, float* to, bool to_blocked) {
#if HUSH_WITH_DNNL
  dnnl_reorder_activation(s.n(), s.c(), s.h(), s.w(), from, to, to_blocked);
#else
  (void)s, (void)from, (void)to, (void)to_blocked;
  throw error("reorder_activation: hush was built without oneDNN, so no tensor is blocked");
#endif
}

/// db += Σ dy over samples and positions, dy (n, k, pq) in the blocked layout: per channel block,
/// the lanes of each position added at once.
inline void sum_into_bias_blocked(cpu backend, std::int64_t n, std::int64_t k, std::int64_t pq, const float* dy, float* db) {
  constexpr std::int64_t widest = 16;
  const auto block = activation_block(backend), blocks = k / block;
  if (block > widest) throw error("sum_into_bias_blocked: blocks of more than 16 channels");
#pragma omp parallel for
  for (std::int64_t cb = 0; cb < blocks; ++cb) {
    double sum[widest] = {};
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = dy + (i * blocks + cb) * pq * block;
      float part[widest] = {};
      for (std::int64_t t = 0; t < pq; ++t)
        for (std::int64_t lane = 0; lane < block; ++lane) part[lane] += p[t * block + lane];
      for (std::int64_t lane = 0; lane < block; ++lane) sum[lane] += part[lane];
    }
    for (std::int64_t lane = 0; lane < block; ++lane) db[cb * block + lane] += static_cast<float>(sum[lane]);
  }
}

/// y (n, c) = the mean of each channel's plane, x (n, c, hw) in the blocked layout: summed in
/// double in the order of the positions, as the NCHW pool sums (the same values).
inline void global_avg_pool_blocked_forward(cpu backend, std::int64_t n, std::int64_t c, std::int64_t hw, const float* x, float* y) {
  constexpr std::int64_t widest = 16;
  const auto block = activation_block(backend), blocks = c / block;
  if (block > widest) throw error("global_avg_pool_blocked_forward: blocks of more than 16 channels");
#pragma omp parallel for if (n * blocks > 1 && n * c * hw > 16384)
  for (std::int64_t i = 0; i < n * blocks; ++i) {
    const float* p = x + i * hw * block;
    double sum[widest] = {};
    for (std::int64_t t = 0; t < hw; ++t)
      for (std::int64_t lane = 0; lane < block; ++lane) sum[lane] += p[t * block + lane];
    for (std::int64_t lane = 0; lane < block; ++lane) y[i * block + lane] = static_cast<float>(sum[lane] / double(hw));
  }
}
/// dx (n, c, hw) in the blocked layout = dy (n, c) / hw at every position of the channel's plane.
inline void global_avg_pool_blocked_backward(cpu backend, std::int64_t n, std::int64_t c, std::int64_t hw, const float* dy, float* dx) {
  const auto block = activation_block(backend), blocks = c / block;
#pragma omp parallel for if (n * blocks > 1 && n * c * hw > 16384)
  for (std::int64_t i = 0; i < n * blocks; ++i)
    for (std::int64_t t = 0; t < hw; ++t)
      for (std::int64_t lane = 0; lane < block; ++lane) dx[(i * hw + t) * block + lane] = dy[i * block + lane] / float(hw);
}

inline void conv2d_backward_data(cpu, const conv_geometry& g, const float* w, const float* dy, float* dx,
                                 float* scratch) {
  if (!detail::conv_plan::applies(g)) return detail::im2col_conv_backward_data(cpu{}, g, w, dy, dx, scratch);
  if (detail::backward_data_as_forward(g)) {
    // w' (C, K, R, S): w'[c][k][r][s] = w[k][c][R-1-r][S-1-s], then dX = conv(dY, w').
    float* flipped = scratch;
    const auto rs = g.r * g.s;
    for (std::int64_t k = 0; k < g.k; ++k)
      for (std::int64_t c = 0; c < g.c; ++c)
        for (std::int64_t i = 0; i < rs; ++i) flipped[(c * g.k + k) * rs + (rs - 1 - i)] = w[(k * g.c + c) * rs + i];
    return conv2d_forward(cpu{}, detail::transposed_geometry(g), dy, flipped, nullptr, dx, scratch + g.k * g.col_rows());
  }
  const detail::conv_plan plan(g);
  const auto rows = g.col_rows(), in_floats = g.c * g.h * g.w;
  detail::for_each_chunk(g, plan, scratch, [&](std::int64_t n0, std::int64_t samples, float* mine) {
    float* dcol = mine;
    float* dout = mine + plan.col_floats;
    const auto width = samples * plan.pq;
    const float* dyg = dy + n0 * g.k * plan.pq;
    if (samples > 1) detail::gather_chunk(plan, g.k, samples, dyg, dout), dyg = dout;
    gemm(cpu{}, true, false, rows, width, g.k, 1.0f, w, dyg, 0.0f, dcol);  // dcol = Wᵀ·dY
    for (std::int64_t j = 0; j < samples; ++j) detail::col2im_rows(g, dcol + j * plan.pq, width, dx + (n0 + j) * in_floats);
  });
}

/// dW += Σ dY·colᵀ over the chunks: each thread sums its chunks into its own accumulator, then the
/// accumulators are added in thread order, so the result is the same on every run.
inline void conv2d_backward_weight(cpu, const conv_geometry& g, const float* x, const float* dy, float* dw,
                                   float* scratch) {
  if (!detail::conv_plan::applies(g)) return detail::im2col_conv_backward_weight(cpu{}, g, x, dy, dw, scratch);
  const detail::conv_plan plan(g);
  const auto threads = omp_get_max_threads();
  const auto accumulator = [&](int t) { return scratch + t * plan.per_thread() + plan.col_floats + plan.out_floats; };
  for (int t = 0; t < threads; ++t) std::fill_n(accumulator(t), plan.weight_floats, 0.0f);
  detail::for_each_chunk(g, plan, scratch, [&](std::int64_t n0, std::int64_t samples, float* mine) {
    float* col = mine;
    float* dout = mine + plan.col_floats;
    detail::chunk_columns(g, plan, x, n0, samples, col);
    const float* dyg = dy + n0 * g.k * plan.pq;
    if (samples > 1) detail::gather_chunk(plan, g.k, samples, dyg, dout), dyg = dout;
    gemm(cpu{}, false, true, g.k, g.col_rows(), samples * plan.pq, 1.0f, dyg, col, 1.0f, accumulator(omp_get_thread_num()));
  });
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < plan.weight_floats; ++i) {
    float s = dw[i];
    for (int t = 0; t < threads; ++t) s += accumulator(t)[i];
    dw[i] = s;
  }
}

// ---- A convolution layer's own state (core/kernel_state.hpp): its oneDNN primitives ----------
// The functions below take the state conv2d_state made at the layer's setup. An empty state
// (im2col chosen, oneDNN absent, or a geometry it declined) runs the im2col functions above.

/// The state of a convolution layer of this geometry: oneDNN's primitives when the backend's
/// algorithm is oneDNN and it takes the geometry, else empty.
/// Asking for bf16 inference where it cannot run is an error here, at setup, rather than fp32
/// results the caller did not ask for or bf16 emulated at a fraction of fp32's speed.
inline kernel_state conv2d_state(cpu backend, const conv_geometry& g) {
  if (backend.inference_precision == cpu_precision::bf16) {
#if HUSH_WITH_DNNL
    if (backend.convolutions != cpu_conv_algorithm::dnnl)
      throw error("bf16 inference runs through oneDNN's convolutions, not im2col (cpu::convolutions)");
    if (!dnnl_detail::cpu_has_bf16())
      throw error("bf16 inference needs a CPU that multiplies bf16 (AVX-512-BF16 or AMX); this one does not");
#else
    throw error("bf16 inference runs through oneDNN, and this build has none (HUSH_WITH_DNNL)");
#endif
  }
#if HUSH_WITH_DNNL
  if (backend.convolutions == cpu_conv_algorithm::dnnl) return make_dnnl_conv(g);
#else
  (void)g;
#endif
  return {};
}

/// Whether the layer's convolutions take and give blocked operands (conv_layouts): oneDNN runs them.
inline bool conv2d_keeps_layouts(cpu, const kernel_state& s) { return bool(s); }
/// Whether conv2d_infer keeps its own copy of the weights it is given (oneDNN's state does), so
/// that a caller may free weights made for inference alone (a folded batch norm's) once read.
inline bool conv2d_keeps_inference_weights(cpu, const kernel_state& s) { return bool(s); }
#if HUSH_WITH_DNNL
namespace detail {
/// The oneDNN inference kernel the backend's settings ask for.
inline dnnl_detail::inference_kind inference_kind(const cpu& backend, bool accumulate) {
  return {.bf16 = backend.inference_precision == cpu_precision::bf16,
          .winograd = backend.winograd_inference,
          .accumulate = accumulate};
}
}  // namespace detail
#endif

/// Whether conv2d_infer (conv2d_infer_accumulate with `accumulate`) with these settings holds the
/// weights of `version`, so that it may be given none: false until a call has given them (each
/// batch size has its own kernels).
inline bool conv2d_infer_holds_weights([[maybe_unused]] cpu backend, [[maybe_unused]] kernel_state& s,
                                       [[maybe_unused]] std::uint64_t version, [[maybe_unused]] bool bias,
                                       [[maybe_unused]] const hush::ops::fused_relu* act,
                                       [[maybe_unused]] conv_layouts layouts, [[maybe_unused]] bool accumulate) {
#if HUSH_WITH_DNNL
  if (s)
    return dnnl_conv2d_infer_holds(s.as<dnnl_conv_state>(), version, bias, act, layouts,
                                   detail::inference_kind(backend, accumulate));
#endif
  return false;
}

inline std::int64_t conv2d_scratch(cpu backend, const kernel_state& s, const conv_geometry& g) {
  return s ? 0 : conv2d_scratch(backend, g);  // oneDNN's copies live in its own buffers
}

/// Training or eval: y = act?(conv(x, w) + bias), x and y in the given layouts (blocked ones only
/// when conv2d_keeps_layouts), the (leaky) ReLU applied by oneDNN's kernel as it writes y.
inline void conv2d_forward(cpu backend, [[maybe_unused]] kernel_state& s, const conv_geometry& g, const float* x, const float* w,
                           const float* bias, const hush::ops::fused_relu* act, float* y, conv_layouts layouts,
                           float* scratch) {
#if HUSH_WITH_DNNL
  if (s) return dnnl_conv2d_forward(s.as<dnnl_conv_state>(), x, w, bias, y, act, layouts);
#endif
  if (layouts.x || layouts.y) throw error("conv2d_forward: blocked operands for an im2col convolution");
  conv2d_forward(backend, g, x, w, bias, y, scratch);
  if (act) detail::relu_in_place(g, *act, y);
}

/// Inference: as conv2d_forward, through oneDNN's inference kernels. `version` changes whenever
/// the weights at `w` do, so the layer's state keeps them in oneDNN's layout between calls. `w`
/// may be null where conv2d_infer_holds_weights.
inline void conv2d_infer(cpu backend, kernel_state& s, const conv_geometry& g, const float* x, const float* w,
                         std::uint64_t version, const float* bias, const hush::ops::fused_relu* act, float* y,
                         conv_layouts layouts, float* scratch) {
#if HUSH_WITH_DNNL
  if (s)
    return dnnl_conv2d_infer(s.as<dnnl_conv_state>(), x, w, version, bias, act, y, layouts,
                             detail::inference_kind(backend, false));
#else
  (void)version;
#endif
  conv2d_forward(backend, s, g, x, w, bias, act, y, layouts, scratch);
}

/// Inference into y that already holds a residual's shortcut: y = act?(conv(x, w) + bias + y) in
/// one oneDNN kernel (a sum post-op). Only with oneDNN's state (conv2d_keeps_layouts). `w` as in
/// conv2d_infer.
inline void conv2d_infer_accumulate(cpu backend, kernel_state& s, const conv_geometry&, const float* x, const float* w,
                                    std::uint64_t version, const float* bias, const hush::ops::fused_relu* act, float* y,
                                    conv_layouts layouts) {
#if HUSH_WITH_DNNL
  if (s)
    return dnnl_conv2d_infer(s.as<dnnl_conv_state>(), x, w, version, bias, act, y, layouts,
                             detail::inference_kind(backend, true));
#else
  (void)backend, (void)s, (void)x, (void)w, (void)version, (void)bias, (void)act, (void)y, (void)layouts;
#endif
  throw error("conv2d_infer_accumulate: no oneDNN state for this convolution (check conv2d_keeps_layouts first)");
}

/// Both backward passes, dw += Σ dY ⋆ x and dx = convᵀ(dY, w), x, dx and dY in the given layouts:
/// through oneDNN with one reorder of dY for the two, else one after the other.
inline void conv2d_backward(cpu backend, [[maybe_unused]] kernel_state& s, const conv_geometry& g, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, conv_layouts layouts, float* scratch) {
#if HUSH_WITH_DNNL
  if (s) return dnnl_conv2d_backward(s.as<dnnl_conv_state>(), x, w, dy, dx, dw, layouts);
#endif
  if (layouts.x || layouts.y) throw error("conv2d_backward: blocked operands for an im2col convolution");
  conv2d_backward_weight(backend, g, x, dy, dw, scratch);
  conv2d_backward_data(backend, g, w, dy, dx, scratch);
}

/// dx = convᵀ(dy, w) and dw += Σ dy ⋆ x one at a time, NCHW (conv_transpose2d's forward and
/// weight gradient).
inline void conv2d_backward_data(cpu backend, [[maybe_unused]] kernel_state& s, const conv_geometry& g, const float* w, const float* dy,
                                 float* dx, float* scratch) {
#if HUSH_WITH_DNNL
  if (s) return dnnl_conv2d_backward_data(s.as<dnnl_conv_state>(), w, dy, dx);
#endif
  conv2d_backward_data(backend, g, w, dy, dx, scratch);
}
inline void conv2d_backward_weight(cpu backend, [[maybe_unused]] kernel_state& s, const conv_geometry& g, const float* x, const float* dy,
                                   float* dw, float* scratch) {
#if HUSH_WITH_DNNL
  if (s) return dnnl_conv2d_backward_weight(s.as<dnnl_conv_state>(), x, dy, dw);
#endif
  conv2d_backward_weight(backend, g, x, dy, dw, scratch);
}

}  // namespace hush::backend
