#pragma once
// cuBLAS GEMM for row-major operands (nvcc only). Row-major C = op(A)·op(B) is column-major
// Cᵀ = op(B)ᵀ·op(A)ᵀ, so the operands are passed swapped.
#include <cublas_v2.h>

#include <cstdint>
#include <string>

#include "hush/core/error.hpp"

namespace hush::backend {

inline cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h{};
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) throw backend_error("cuBLAS: cublasCreate failed (is a CUDA device available?)");
    return h;
  }();
  return handle;
}

inline void cublas_gemm_row_major(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                                  float alpha, const float* a, const float* b, float beta, float* c) {
  const auto status = cublasSgemm(cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
                                  static_cast<int>(trans_b ? k : n), a, static_cast<int>(trans_a ? m : k), &beta, c,
                                  static_cast<int>(n));
  if (status != CUBLAS_STATUS_SUCCESS)
    throw backend_error("cuBLAS: cublasSgemm failed (cublasStatus_t " + std::to_string(static_cast<int>(status)) +
                        ") for a product of (" + std::to_string(m) + " x " + std::to_string(k) + ") by (" +
                        std::to_string(k) + " x " + std::to_string(n) + ")");
}

/// `count` products of sub-matrices with leading dimensions, matrix b of A starting at
/// a + b·stride_a (and so on): cublasSgemmStridedBatched, operands swapped as above.
inline void cublas_gemm_batched_row_major(std::int64_t count, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
                                          std::int64_t k, float alpha, const float* a, std::int64_t lda,
                                          std::int64_t stride_a, const float* b, std::int64_t ldb, std::int64_t stride_b,
                                          float beta, float* c, std::int64_t ldc, std::int64_t stride_c) {
  const auto status = cublasSgemmStridedBatched(
      cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
      static_cast<int>(m), static_cast<int>(k), &alpha, b, static_cast<int>(ldb), stride_b, a, static_cast<int>(lda),
      stride_a, &beta, c, static_cast<int>(ldc), stride_c, static_cast<int>(count));
  if (status != CUBLAS_STATUS_SUCCESS)
    throw backend_error("cuBLAS: cublasSgemmStridedBatched failed (cublasStatus_t " +
                        std::to_string(static_cast<int>(status)) + ") for " + std::to_string(count) + " products of (" +
                        std::to_string(m) + " x " + std::to_string(k) + ") by (" + std::to_string(k) + " x " +
                        std::to_string(n) + ")");
}

}  // namespace hush::backend
