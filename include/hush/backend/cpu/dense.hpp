#pragma once
// sgemm through CBLAS (OpenBLAS). The one call xtensor-blas would make for us, made directly:
// its gemm is a type-dispatching layer over this function, and its header cost 1.3 s of g++ per
// translation unit (it includes all of xtensor; its BLAS layer alone 0.6 s). xtensor itself is
// for users, through hush/interop/xtensor.hpp. Bias kernels use OpenMP.
#include <cstdint>

#include <cblas.h>

#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/cpu/threads.hpp"

namespace hush::backend {

/// The same product on sub-matrices of larger row-major arrays: row i of A starts at a + i·lda
/// (of B at b + i·ldb, of C at c + i·ldc), as BLAS's leading dimensions. Inside an OpenMP
/// parallel region OpenBLAS (its OpenMP build) runs it on the calling thread.
inline void gemm_strided(cpu, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                         const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                         std::int64_t ldc) {
  static const auto kernels = ensure_fast_blas();
  (void)kernels;
  const auto i = [](std::int64_t v) { return static_cast<int>(v); };
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, i(m), i(n), i(k),
              alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
}

/// C (M×N) = alpha · op(A) · op(B) + beta · C, row-major, op(A) M×K and op(B) K×N.
inline void gemm(cpu, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                 const float* a, const float* b, float beta, float* c) {
  gemm_strided(cpu{}, trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

inline void add_bias(cpu, std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* bias, float* y) {
  if (inner == 1) {  // a linear layer's rows: run along the bias, in vectors
#pragma omp parallel for if (rows * cols > 32768)
    for (std::int64_t i = 0; i < rows; ++i) {
      float* yp = y + i * cols;
#pragma omp simd
      for (std::int64_t j = 0; j < cols; ++j) yp[j] += bias[j];
    }
    return;
  }
#pragma omp parallel for collapse(2) if (rows * cols * inner > 32768)
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      float* yp = y + (i * cols + j) * inner;
      const float b = bias[j];
      for (std::int64_t t = 0; t < inner; ++t) yp[t] += b;
    }
}

inline void sum_into_bias(cpu, std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* dy,
                          float* db) {
#pragma omp parallel for if (rows * cols * inner > 32768)
  for (std::int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const float* p = dy + (i * cols + j) * inner;
      float part = 0;
      for (std::int64_t t = 0; t < inner; ++t) part += p[t];
      s += part;
    }
    db[j] += static_cast<float>(s);
  }
}

}  // namespace hush::backend
