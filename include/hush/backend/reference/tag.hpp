#pragma once
namespace hush::backend {
/// The oracle: plain single-threaded loops, accumulating in double, written for clarity only.
/// Every other backend's kernels are tested against these.
struct reference {
  static constexpr const char* name = "reference";
};
}  // namespace hush::backend
