#pragma once
// Where a tensor's values live, as a type. A backend names its memory (`using memory = ...` in
// its tag); tensors, parameters and every buffer a layer keeps are allocated there.
//
//   host_memory    the CPU's: the reference and cpu backends. Elements readable from host code.
//   device_memory  the thrust backend's. With CUDA (HUSH_WITH_CUDA, the hush::cuda target) it is
//                  the GPU's, from cudaMalloc; on Thrust's OpenMP or CPP system it is ordinary
//                  host memory. Its tensors have no element access either way, so a host loop
//                  over device data does not compile, and CI (which has no GPU) proves it.
//
// Both allocate 64-byte aligned, zero-filled blocks; large host blocks come straight from the
// kernel (mmap), whose pages are zero and cost nothing until first written, so a gradient buffer
// that inference never touches stays out of the resident set. HUSH_WITH_CUDA is set for whole
// programs, never per translation unit, so every file of a program agrees on what
// device_memory is (the CUDA runtime's functions are plain C, callable from g++'s files too).
#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#if HUSH_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#include "hush/core/error.hpp"

namespace hush {

namespace detail {

inline constexpr std::size_t mapped_bytes = std::size_t(1) << 18;  // from 256 KiB up: mmap

inline void* host_allocate(std::size_t bytes) {
  if (bytes >= mapped_bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
  void* p = ::operator new(bytes, std::align_val_t{64});
  std::memset(p, 0, bytes);
  return p;
}
inline void host_release(void* p, std::size_t bytes) noexcept {
  if (bytes >= mapped_bytes) ::munmap(p, bytes);
  else ::operator delete(p, std::align_val_t{64});  // unsized: clang needs -fsized-deallocation for the sized form
}

#if HUSH_WITH_CUDA
inline void cuda_check(cudaError_t status, const char* what, std::size_t bytes) {
  if (status != cudaSuccess)
    throw backend_error(std::string("CUDA: ") + what + " of " + std::to_string(bytes) + " bytes failed: " +
                        cudaGetErrorString(status));
}
#endif

}  // namespace detail

/// The CPU's memory, where the reference and cpu backends keep their tensors: 64-byte aligned,
/// zero-filled blocks (large ones mapped from the kernel), readable element by element from host code.
struct host_memory {
  static constexpr const char* name = "host";
  static constexpr bool host_accessible = true;
  static void* allocate(std::size_t bytes) { return detail::host_allocate(bytes); }
  static void release(void* p, std::size_t bytes) noexcept { detail::host_release(p, bytes); }
  static void zero(void* p, std::size_t bytes) { std::memset(p, 0, bytes); }
  static void copy(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  static void to_host(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  static void from_host(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  static void synchronize() {}
};

/// The thrust backend's memory: the GPU's (cudaMalloc) in a CUDA build, ordinary host memory on
/// Thrust's OpenMP or CPP system. Never host-accessible by type, so host code cannot read its
/// tensors' elements either way.
struct device_memory {
  static constexpr const char* name = "device";
  static constexpr bool host_accessible = false;
#if HUSH_WITH_CUDA
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    detail::cuda_check(cudaMalloc(&p, bytes), "cudaMalloc", bytes);
    detail::cuda_check(cudaMemset(p, 0, bytes), "cudaMemset", bytes);
    return p;
  }
  static void release(void* p, std::size_t) noexcept { cudaFree(p); }
  static void zero(void* p, std::size_t bytes) { detail::cuda_check(cudaMemset(p, 0, bytes), "cudaMemset", bytes); }
  static void copy(void* to, const void* from, std::size_t bytes) {
    detail::cuda_check(cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy", bytes);
  }
  static void to_host(void* to, const void* from, std::size_t bytes) {
    detail::cuda_check(cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to the host", bytes);
  }
  static void from_host(void* to, const void* from, std::size_t bytes) {
    detail::cuda_check(cudaMemcpy(to, from, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the device", bytes);
  }
  /// Returns when every kernel launched so far has finished (launches return before they run).
  static void synchronize() {
    if (const cudaError_t status = cudaDeviceSynchronize(); status != cudaSuccess)
      throw backend_error(std::string("CUDA: the work queued on the device failed: ") + cudaGetErrorString(status));
  }
#else
  // Thrust's OpenMP or CPP system: the device is the host.
  static void* allocate(std::size_t bytes) { return detail::host_allocate(bytes); }
  static void release(void* p, std::size_t bytes) noexcept { detail::host_release(p, bytes); }
  static void zero(void* p, std::size_t bytes) { std::memset(p, 0, bytes); }
  static void copy(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  static void to_host(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  static void from_host(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  static void synchronize() {}
#endif
};

/// A backend's memory: what its tag names, host memory when it names none.
template <class Backend>
struct memory_of_t {
  using type = host_memory;
};
/// memory_of_t for a backend whose tag names its memory (`using memory = ...`): that memory.
template <class Backend>
  requires requires { typename Backend::memory; }
struct memory_of_t<Backend> {
  using type = typename Backend::memory;
};
/// The memory `Backend` keeps its tensors in: the one its tag names, else host memory.
template <class Backend>
using memory_of = typename memory_of_t<Backend>::type;

/// Returns when the work handed to `backend` so far is done: a GPU runs kernels after their
/// launch returns; the host backends have finished already. For timing, and before reading a
/// clock.
template <class Backend>
void synchronize(const Backend&) {
  memory_of<Backend>::synchronize();
}

}  // namespace hush
