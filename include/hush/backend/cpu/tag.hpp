#pragma once
namespace hush::backend {

/// How the cpu backend runs convolutions: oneDNN's direct convolutions (what PyTorch's CPU
/// convolutions are), or im2col + OpenBLAS sgemm.
enum class cpu_conv_algorithm { dnnl, im2col };

/// The number format of oneDNN's inference convolutions. bf16 rounds each convolution's input
/// and weights to bfloat16 (8 bits of mantissa) and sums and writes in fp32, so the layers around
/// them (pooling, residual sums, batch norm folded in as a bias, linear) are untouched; it pays
/// only where the CPU multiplies bf16 natively (AVX-512-BF16, AMX), which setup checks
/// (cpu_has_bf16, backend/cpu/conv.hpp). Training and eval always run in fp32.
enum class cpu_precision { f32, bf16 };

/// The host backend: 64-byte aligned host buffers, oneDNN's convolutions (or im2col + sgemm through
/// OpenBLAS), OpenMP threads for everything else. Its settings are values of the backend, set on
/// the model before setup (`m.ctx.backend.convolutions = ...`) and read by each layer at setup,
/// so two models in one process can run with different ones, and nothing changes between a
/// forward and its backward.
struct cpu {
  static constexpr const char* name = "cpu";
  /// The optional kernels it has (backend/provides.hpp).
  struct provides {
    static constexpr bool conv_state = true, blocked_layout = true, batch_norm_relu = true;
  };
#if HUSH_WITH_DNNL
  cpu_conv_algorithm convolutions = cpu_conv_algorithm::dnnl;
#else
  cpu_conv_algorithm convolutions = cpu_conv_algorithm::im2col;
#endif
  /// Whether oneDNN's convolutions hand activations to each other in its blocked layout
  /// (core/layout.hpp) or as NCHW, reordered around every call (to measure what it gives).
  bool blocked_layout = true;
  /// Opt-in: bf16 inference convolutions (see cpu_precision), oneDNN only.
  cpu_precision inference_precision = cpu_precision::f32;
  /// Whether oneDNN's fp32 inference convolutions use Winograd's algorithm where it pays (3x3,
  /// stride 1, from 32 input channels: 1.3-2.7x faster each on a Zen 4; dnnl_conv.hpp's winograd_pays). It
  /// rounds differently from the direct kernels training and eval run (ResNet-50's outputs 3e-7
  /// from theirs, relative L2), so inference and eval then agree to rounding, not to the bit.
  bool winograd_inference = true;
};

}  // namespace hush::backend
