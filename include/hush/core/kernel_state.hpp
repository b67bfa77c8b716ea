#pragma once
// What a backend keeps for one layer between calls (oneDNN's primitives and the layer's weights
// in oneDNN's layout): made by the backend at the layer's setup, owned by the layer, freed with
// it. The layer never looks inside; it hands the state back to the backend's kernels.
//
// A copy of a layer starts without state (it is made again at the copy's setup), so layers
// stay copyable; and the holder is constexpr-destructible, so networks can still be built and
// destroyed in constant expressions (compile-time parameter counts).
#include <utility>

namespace hush {

/// Owns what a backend keeps for one layer between calls (oneDNN's primitives, weights in its
/// layout), opaque to the layer. A copy starts empty and is made again at its setup, so layers
/// stay copyable.
class kernel_state {
 public:
  /// What a backend's own state types derive from.
  struct base {
    virtual ~base() = default;
  };

  constexpr kernel_state() = default;
  explicit kernel_state(base* owned) : p_(owned) {}
  constexpr kernel_state(const kernel_state&) {}
  constexpr kernel_state& operator=(const kernel_state& o) {
    if (this != &o) reset();
    return *this;
  }
  constexpr kernel_state(kernel_state&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  constexpr kernel_state& operator=(kernel_state&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  constexpr ~kernel_state() { reset(); }

  constexpr void reset() {
    if (p_) delete std::exchange(p_, nullptr);
  }
  constexpr explicit operator bool() const { return p_ != nullptr; }
  /// The backend's state, of the type it made.
  template <class T>
  T& as() const {
    return *static_cast<T*>(p_);
  }

 private:
  base* p_ = nullptr;
};

}  // namespace hush
