#pragma once
namespace hush::backend {
/// The host backend: xtensor buffers, im2col + sgemm through xtensor-blas over OpenBLAS,
/// OpenMP threads for everything else.
struct cpu {
  static constexpr const char* name = "cpu";
};
}  // namespace hush::backend
