#pragma once
namespace hush::backend {
/// Single-source Thrust kernels: compiled by g++ for Thrust's OpenMP device system (what runs
/// here) and by nvcc for CUDA, with cuBLAS for GEMM there. Kernels index raw pointers, so the
/// tensors must be reachable from the device: host memory for OpenMP, managed memory for CUDA.
struct thrust {
  static constexpr const char* name = "thrust";
};
}  // namespace hush::backend
