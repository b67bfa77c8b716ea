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
