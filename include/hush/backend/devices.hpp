#pragma once
// Every backend hush::with_device (core/device.hpp) can hand a program: the cpu backend always,
// and the thrust backend on the GPU where this translation unit is compiled by nvcc in a CUDA
// build. A program written generically over the backend includes this and holds both.
#include "hush/backend/cpu.hpp"
#include "hush/core/device.hpp"
#if HUSH_WITH_CUDA && defined(__CUDACC__)
#include "hush/backend/thrust.hpp"
#endif
