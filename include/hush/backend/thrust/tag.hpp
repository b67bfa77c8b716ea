#pragma once
#include "hush/core/memory.hpp"

namespace hush::backend {
/// Single-source Thrust kernels: compiled by g++ for Thrust's OpenMP device system (what runs
/// here) and by nvcc for CUDA, with cuBLAS for GEMM there. Its tensors are device tensors
/// (core/memory.hpp): the GPU's memory with CUDA, host memory on the OpenMP system, and in both
/// cases out of host code's reach, so what runs here is what would run on a GPU.
struct thrust {
  static constexpr const char* name = "thrust";
  using memory = device_memory;
};
}  // namespace hush::backend
