#pragma once
// Every backend hush::with_device (core/device.hpp) can hand a program: the cpu backend always,
// and the thrust backend on the GPU where this translation unit is compiled by nvcc in a CUDA
// build. A program written generically over the backend includes this and holds both.
#include "hush/backend/cpu.hpp"
#include "hush/core/device.hpp"
#if HUSH_WITH_CUDA && defined(__CUDACC__)
#include "hush/backend/thrust.hpp"
#endif
#include <string>

namespace hush {

/// Asks a backend from with_device for bf16 inference convolutions (backend/cpu/tag.hpp's
/// cpu_precision; the layers' setup then checks the CPU). Only the cpu backend has them: another
/// throws, naming itself, rather than run in fp32 unasked.
template <class Backend>
void use_bf16_inference(Backend& b) {
  if constexpr (requires { b.inference_precision; }) b.inference_precision = backend::cpu_precision::bf16;
  else throw error(std::string("bf16 inference runs on the cpu backend only, not on ") + Backend::name);
}

}  // namespace hush
