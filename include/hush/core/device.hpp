#pragma once
// The device a program runs on, chosen at run time: a CUDA GPU when the program can run one
// (its code compiled by nvcc with HUSH_WITH_CUDA) and one is present, the CPU otherwise.
// HUSH_DEVICE=cpu|cuda overrides the choice; an unknown value, or cuda where there is none, is an
// error that says why. Programs print choice.line() first, so a run says where it ran.
//
//   const auto choice = hush::choose_device();
//   std::printf("%s\n", choice.line().c_str());
//   return hush::with_device(choice, [&](auto backend) { return train(backend, ...); });
//
// with_device calls f(backend::cpu{}) or, where compiled, f(backend::thrust{}): the program is
// written once, generic over the backend, and holds both.
#include <cstdlib>
#include <string>

#if HUSH_WITH_CUDA && defined(__CUDACC__)
#include <cuda_runtime_api.h>
#endif

#include "hush/backend/cpu/tag.hpp"
#include "hush/core/error.hpp"
#if HUSH_WITH_CUDA && defined(__CUDACC__)
#include "hush/backend/thrust/tag.hpp"
#endif

namespace hush {

/// Where a program runs: on the CPU (the cpu backend) or a CUDA GPU (thrust); choose_device
/// picks one.
enum class device { cpu, cuda };

/// Whether this translation unit has a CUDA path (compiled by nvcc, in a CUDA build).
inline constexpr bool cuda_compiled =
#if HUSH_WITH_CUDA && defined(__CUDACC__)
    true;
#else
    false;
#endif

/// The device choose_device() picked, and why; with_device runs a program on its backend, and
/// line() is what a program prints first to say where it runs.
struct device_choice {
  hush::device device = hush::device::cpu;
  std::string why;  ///< what decided it: "no CUDA device: ...", "HUSH_DEVICE=cpu", the GPU's name
  /// The line a program prints first: "hush: running on the CPU (compiled without CUDA)".
  std::string line() const {
    return std::string("hush: running on ") + (device == hush::device::cuda ? "the GPU" : "the CPU") + " (" + why + ")";
  }
};

/// How many CUDA devices this program can use; 0 with the reason when none.
inline int cuda_devices(std::string& why) {
#if HUSH_WITH_CUDA && defined(__CUDACC__)
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    why = std::string("no CUDA device: ") + cudaGetErrorString(status);
    return 0;
  }
  if (n == 0) {
    why = "no CUDA device found";
    return 0;
  }
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  why = std::string(p.name) + ", device 0 of " + std::to_string(n);
  return n;
#else
  why = "compiled without CUDA";
  return 0;
#endif
}

/// The best device this program can run on, or the one HUSH_DEVICE (`requested`) names.
inline device_choice choose_device(const char* requested = std::getenv("HUSH_DEVICE")) {
  std::string why;
  const int gpus = cuda_devices(why);
  const std::string want = requested ? requested : "";
  if (want.empty()) return {gpus > 0 ? device::cuda : device::cpu, why};
  if (want == "cpu") return {device::cpu, "HUSH_DEVICE=cpu"};
  if (want == "cuda") {
    if (gpus > 0) return {device::cuda, why + "; HUSH_DEVICE=cuda"};
    throw error("HUSH_DEVICE=cuda, but this program cannot use a GPU (" + why + "); unset it or use HUSH_DEVICE=cpu");
  }
  throw error("HUSH_DEVICE=" + want + " is not a device: use cpu or cuda, or leave it unset for the best one found");
}

/// f(backend) with the chosen device's backend: the cpu backend, or thrust on the GPU.
template <class F>
decltype(auto) with_device(const device_choice& choice, F&& f) {
#if HUSH_WITH_CUDA && defined(__CUDACC__)
  if (choice.device == device::cuda) return f(backend::thrust{});
#else
  if (choice.device == device::cuda) throw error("with_device: this program has no CUDA path (compiled without CUDA)");
#endif
  return f(backend::cpu{});
}

}  // namespace hush
