#pragma once
// One setting for the number of threads of OpenMP and of OpenBLAS together, and the OpenBLAS
// kernel choice.
//
// Debian's OpenBLAS 0.3.21 picks its kernels once, when it is loaded, from the CPU's model
// number. It does not know recent Xeons and falls back to "Prescott" (SSE3), which runs sgemm
// 5x slower (36 vs 190 GFLOP/s at 1024², docs/performance.md). Its AVX2 kernels (Haswell, Zen)
// on a CPU with AVX-512 cost about half: 229 vs 442 GFLOP/s at 2048² on an AMD EPYC with
// AVX-512 (docs/performance.md). Setting OPENBLAS_CORETYPE helps only before the library loads.
// hush instead asks OpenBLAS, before the first BLAS call, which kernels it chose; if they use
// narrower vectors than the CPU has, it re-runs OpenBLAS's own dynamic selection with
// OPENBLAS_CORETYPE set (gotoblas_dynamic_quit / gotoblas_dynamic_init, both exported by
// DYNAMIC_ARCH builds). A user's own OPENBLAS_CORETYPE is always respected, and nothing happens
// with another BLAS (the symbols are weak).
#include <cstdlib>
#include <cstring>
#include <string>

#include <omp.h>

extern "C" {
char* openblas_get_corename() __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
void gotoblas_dynamic_init() __attribute__((weak));
void gotoblas_dynamic_quit() __attribute__((weak));
}

namespace hush {

/// The OpenBLAS kernel set in use ("SkylakeX", "Haswell", ...), or "" for another BLAS.
inline std::string blas_kernels() { return openblas_get_corename ? openblas_get_corename() : ""; }

namespace detail {
inline bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
inline const char* best_openblas_coretype() {
  if (cpu_has_avx512()) return "SKYLAKEX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "HASWELL";
  return nullptr;
}
inline bool openblas_kernels_are_generic(const char* core) {
  for (const char* slow : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge", "Katmai",
                           "Coppermine", "Northwood", "Banias", "Atom"})
    if (std::strcmp(core, slow) == 0) return true;
  return false;
}
/// Whether OpenBLAS's kernels use narrower vectors than this CPU has: generic ones, or its AVX2
/// sets (Haswell, Zen) on a CPU with AVX-512.
inline bool openblas_kernels_are_narrow(const char* core) {
  if (openblas_kernels_are_generic(core)) return true;
  return cpu_has_avx512() && (std::strcmp(core, "Haswell") == 0 || std::strcmp(core, "Zen") == 0);
}
}  // namespace detail

/// Makes OpenBLAS use the fastest kernels the CPU supports. Idempotent; called by the cpu backend
/// before its first gemm. Returns the kernel set in use afterwards.
inline std::string ensure_fast_blas() {
  static const std::string chosen = [] {
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return blas_kernels();
    if (std::getenv("OPENBLAS_CORETYPE")) return blas_kernels();  // the user decided
    const char* best = detail::best_openblas_coretype();
    if (best && detail::openblas_kernels_are_narrow(openblas_get_corename())) {
      ::setenv("OPENBLAS_CORETYPE", best, 0);
      gotoblas_dynamic_quit();
      gotoblas_dynamic_init();
    }
    return blas_kernels();
  }();
  return chosen;
}

/// Sets the thread count of both OpenMP (hush's kernels, Thrust's OpenMP system) and OpenBLAS.
inline void set_threads(int n) {
  if (n < 1) n = 1;
  omp_set_num_threads(n);
  if (openblas_set_num_threads) openblas_set_num_threads(n);
}
/// The number of threads OpenMP runs hush's kernels on: what set_threads set, else OpenMP's default.
inline int threads() { return omp_get_max_threads(); }

}  // namespace hush
