#pragma once
// The convolution algorithms of the cpu backend (backend/cpu/tag.hpp's cpu::convolutions).
#include <vector>

#include "hush/backend/cpu/tag.hpp"

namespace hush::backend {

/// Every algorithm this build can run, the default first.
inline std::vector<cpu_conv_algorithm> cpu_conv_algorithms() {
#if HUSH_WITH_DNNL
  return {cpu_conv_algorithm::dnnl, cpu_conv_algorithm::im2col};
#else
  return {cpu_conv_algorithm::im2col};
#endif
}

inline const char* name(cpu_conv_algorithm a) { return a == cpu_conv_algorithm::dnnl ? "oneDNN" : "im2col"; }

}  // namespace hush::backend
