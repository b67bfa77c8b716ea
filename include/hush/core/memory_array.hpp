#pragma once
// n values of a trivially copyable T (a double, an index) in a memory space, for what a kernel
// needs that is not a tensor of floats: a reduction's per-row partial sums in double, kept where
// the kernel runs and read back with to_host(). Zero-filled on allocation; move-only.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "hush/core/memory.hpp"

namespace hush {

/// `n` values of a trivially copyable `T` in `Memory`, for kernel data that is not a float
/// tensor (a reduction's per-row partial sums in double), read back with to_host().
/// Zero-filled; move-only.
template <class Memory, class T>
class memory_array {
  static_assert(std::is_trivially_copyable_v<T>, "hush::memory_array holds plain values (copied as bytes)");

 public:
  // constexpr while empty, so that a layer holding one is still a literal type (compile-time
  // parameter counts).
  constexpr explicit memory_array(std::int64_t n)
      : n_(n), data_(n > 0 ? static_cast<T*>(Memory::allocate(bytes())) : nullptr) {}
  constexpr memory_array(memory_array&& o) noexcept : n_(std::exchange(o.n_, 0)), data_(std::exchange(o.data_, nullptr)) {}
  memory_array& operator=(memory_array&& o) noexcept {
    std::swap(n_, o.n_);
    std::swap(data_, o.data_);
    return *this;
  }
  memory_array(const memory_array&) = delete;
  memory_array& operator=(const memory_array&) = delete;
  constexpr ~memory_array() {
    if (data_) Memory::release(data_, bytes());
  }

  std::int64_t size() const { return n_; }
  T* data() { return data_; }
  const T* data() const { return data_; }

  /// The values, copied to the host.
  std::vector<T> to_host() const {
    std::vector<T> out(static_cast<std::size_t>(n_));
    if (n_ == 0) return out;
    if constexpr (Memory::host_accessible) std::memcpy(out.data(), data_, bytes());
    else Memory::to_host(out.data(), data_, bytes());
    return out;
  }

 private:
  std::size_t bytes() const { return static_cast<std::size_t>(n_) * sizeof(T); }

  std::int64_t n_ = 0;
  T* data_ = nullptr;
};

}  // namespace hush
