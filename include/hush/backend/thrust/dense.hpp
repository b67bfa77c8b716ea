#pragma once
// GEMM: cuBLAS when compiled by nvcc; on the OpenMP device system the memory is the host's, so
// the host's sgemm (OpenBLAS) is the right tool. Bias kernels are Thrust loops.
#include <cstdint>

#include "hush/backend/thrust/launch.hpp"
#if defined(__CUDACC__)
#include "hush/backend/cuda/cublas.hpp"
#else
#include "hush/backend/cpu/dense.hpp"
#endif

namespace hush::backend {

inline void gemm(thrust, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                 const float* a, const float* b, float beta, float* c) {
#if defined(__CUDACC__)
  cublas_gemm_row_major(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
#else
  gemm(cpu{}, trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
#endif
}

/// `count` products C_b = alpha · op(A_b) · op(B_b) + beta · C_b of row-major sub-matrices with
/// leading dimensions (lda, ...), A_b at a + b·stride_a (and so on): one cuBLAS call on a GPU.
inline void gemm_batched(thrust, std::int64_t count, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
                         std::int64_t k, float alpha, const float* a, std::int64_t lda, std::int64_t stride_a,
                         const float* b, std::int64_t ldb, std::int64_t stride_b, float beta, float* c,
                         std::int64_t ldc, std::int64_t stride_c) {
#if defined(__CUDACC__)
  cublas_gemm_batched_row_major(count, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c,
                                ldc, stride_c);
#else
  for (std::int64_t i = 0; i < count; ++i)
    gemm_strided(cpu{}, trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
                 c + i * stride_c, ldc);
#endif
}

inline void add_bias(thrust, std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* bias, float* y) {
  detail::for_each_index(rows * cols * inner, [=] HUSH_HD(std::int64_t i) { y[i] += bias[(i / inner) % cols]; });
}

/// One thread per bias element sums its column: no atomics, the same order on every run.
inline void sum_into_bias(thrust, std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* dy,
                          float* db) {
  detail::for_each_index(cols, [=] HUSH_HD(std::int64_t j) {
    double s = 0;
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t t = 0; t < inner; ++t) s += dy[(i * cols + j) * inner + t];
    db[j] += static_cast<float>(s);
  });
}

}  // namespace hush::backend
