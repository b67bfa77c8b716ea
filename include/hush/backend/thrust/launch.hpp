#pragma once
// The one loop every Thrust kernel is written with: f(i) for i in [0, n), on the device system.
#include <cstdint>

#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include "hush/backend/thrust/tag.hpp"
#include "hush/core/random.hpp"  // HUSH_HD

#if HUSH_WITH_CUDA && !defined(__CUDACC__)
#error "hush: with CUDA (HUSH_WITH_CUDA) the thrust backend's tensors are in GPU memory, so its kernels must be compiled by nvcc: use the thrust backend from a .cu file (core/memory.hpp)"
#endif

namespace hush::backend::detail {

template <class F>
void for_each_index(std::int64_t n, F f) {
  if (n > 0) ::thrust::for_each_n(::thrust::device, ::thrust::counting_iterator<std::int64_t>(0), n, f);
}

}  // namespace hush::backend::detail
