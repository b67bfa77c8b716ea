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

/// Runs the cpu convolutions with `algorithm` while it lives.
class scoped_cpu_conv {
 public:
  explicit scoped_cpu_conv(cpu_conv_algorithm algorithm) : previous_(cpu_conv().exchange(algorithm)) {}
  ~scoped_cpu_conv() { cpu_conv() = previous_; }
  scoped_cpu_conv(const scoped_cpu_conv&) = delete;
  scoped_cpu_conv& operator=(const scoped_cpu_conv&) = delete;

 private:
  cpu_conv_algorithm previous_;
};

inline const char* name(cpu_conv_algorithm a) { return a == cpu_conv_algorithm::dnnl ? "oneDNN" : "im2col"; }

/// Whether oneDNN's convolutions hand activations to each other in its blocked layout
/// (core/layout.hpp; the default) or reorder them to NCHW and back around every call. A
/// process-wide switch, so tests and benchmarks can compare the two.
inline std::atomic<bool>& cpu_blocked_layout() {
  static std::atomic<bool> on{true};
  return on;
}
class scoped_cpu_blocked_layout {
 public:
  explicit scoped_cpu_blocked_layout(bool on) : previous_(cpu_blocked_layout().exchange(on)) {}
  ~scoped_cpu_blocked_layout() { cpu_blocked_layout() = previous_; }
  scoped_cpu_blocked_layout(const scoped_cpu_blocked_layout&) = delete;
  scoped_cpu_blocked_layout& operator=(const scoped_cpu_blocked_layout&) = delete;

 private:
  bool previous_;
};

}  // namespace hush::backend
