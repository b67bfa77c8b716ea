#pragma once
// Which algorithm the cpu backend runs convolutions with: oneDNN's direct convolutions when hush
// is built with it (HUSH_WITH_DNNL), else im2col + OpenBLAS sgemm. A process-wide switch, so the
// tests can check both paths against the reference and the benchmarks can compare them.
#include <atomic>
#include <vector>

namespace hush::backend {

enum class cpu_conv_algorithm { dnnl, im2col };

/// Every algorithm this build can run, the default first.
inline std::vector<cpu_conv_algorithm> cpu_conv_algorithms() {
#if HUSH_WITH_DNNL
  return {cpu_conv_algorithm::dnnl, cpu_conv_algorithm::im2col};
#else
  return {cpu_conv_algorithm::im2col};
#endif
}

/// The algorithm in use; set it to switch.
inline std::atomic<cpu_conv_algorithm>& cpu_conv() {
  static std::atomic<cpu_conv_algorithm> chosen{cpu_conv_algorithms().front()};
  return chosen;
}

/// Sets one of these process-wide switches while it lives, and restores the previous setting.
template <class T, std::atomic<T>& (*Switch)()>
class scoped_switch {
 public:
  explicit scoped_switch(T value) : previous_(Switch().exchange(value)) {}
  ~scoped_switch() { Switch() = previous_; }
  scoped_switch(const scoped_switch&) = delete;
  scoped_switch& operator=(const scoped_switch&) = delete;

 private:
  T previous_;
};

/// Runs the cpu convolutions with an algorithm while it lives.
using scoped_cpu_conv = scoped_switch<cpu_conv_algorithm, cpu_conv>;

inline const char* name(cpu_conv_algorithm a) { return a == cpu_conv_algorithm::dnnl ? "oneDNN" : "im2col"; }

/// Whether oneDNN's convolutions hand activations to each other in its blocked layout
/// (core/layout.hpp; the default) or reorder them to NCHW and back around every call. A
/// process-wide switch, so tests and benchmarks can compare the two.
inline std::atomic<bool>& cpu_blocked_layout() {
  static std::atomic<bool> on{true};
  return on;
}
using scoped_cpu_blocked_layout = scoped_switch<bool, cpu_blocked_layout>;

}  // namespace hush::backend
