#pragma once
// hush::tensor: float32, row-major (NCHW for images), owning its buffer.
//
// The buffer is a std::vector with a 64-byte aligned allocator, so that SIMD kernels and BLAS see
// aligned rows; `view()` adapts it as an xtensor expression for host code and tests. Tensors are
// constexpr-constructible while empty, which lets a whole network be built in a constant
// expression to count its parameters at compile time (see graph/visit.hpp).
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <cstddef>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/shape.hpp"
#include "hush/core/xtensor.hpp"

namespace hush {

/// 64-byte aligned, zero-filled allocation at run time; plain std::allocator inside constant
/// evaluation. Large buffers come straight from the kernel (mmap), whose pages are zero and cost
/// no memory until first written: a gradient buffer that inference never touches, or an
/// activation that a fused kernel skips, stays out of the resident set. Value-initialisation
/// is therefore a no-op on fresh storage; tensor::resize zeroes what it reuses.
template <class T>
struct aligned_allocator {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};
  static constexpr std::size_t mapped_bytes = std::size_t(1) << 18;  // from 256 KiB up: mmap

  constexpr aligned_allocator() noexcept = default;
  template <class U>
  constexpr aligned_allocator(const aligned_allocator<U>&) noexcept {}

  constexpr T* allocate(std::size_t n) {
    if (std::is_constant_evaluated()) return std::allocator<T>{}.allocate(n);
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= mapped_bytes) {
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      return static_cast<T*>(p);
    }
    void* p = ::operator new(bytes, alignment);
    std::memset(p, 0, bytes);
    return static_cast<T*>(p);
  }
  constexpr void deallocate(T* p, std::size_t n) noexcept {
    if (std::is_constant_evaluated()) return std::allocator<T>{}.deallocate(p, n);
    if (n * sizeof(T) >= mapped_bytes) ::munmap(p, n * sizeof(T));
    else ::operator delete(p, alignment);  // unsized: clang needs -fsized-deallocation for the sized form
  }
  /// Value-initialisation of fresh (zeroed) storage writes nothing; any other construction runs.
  template <class U, class... Args>
  constexpr void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0 && std::is_trivially_default_constructible_v<U>)
      if (!std::is_constant_evaluated()) return;
    std::construct_at(p, std::forward<Args>(args)...);
  }
  template <class U>
  friend constexpr bool operator==(const aligned_allocator&, const aligned_allocator<U>&) noexcept {
    return true;
  }
};

/// How a 4-D tensor's values are laid out. nchw: row-major, what every layer reads and writes.
/// blocked: the cpu backend's oneDNN layout (nChw16c on AVX-512, nChw8c on AVX2: channels in
/// blocks innermost), only for tensors whose channels fill whole blocks, so the size is the same.
/// Convolutions write it (and batch norms and activations pass it on) only for a consumer that
/// takes it (core/layout.hpp); a model's output is always nchw.
enum class layout : unsigned char { nchw, blocked };

class tensor {
 public:
  constexpr tensor() = default;
  /// A zero-filled tensor of the given shape.
  explicit tensor(hush::shape s) : shape_(s), data_(static_cast<std::size_t>(s.numel())) {}
  tensor(hush::shape s, float fill) : shape_(s), data_(static_cast<std::size_t>(s.numel()), fill) {}
  tensor(hush::shape s, std::span<const float> values) : shape_(s), data_(values.begin(), values.end()) {
    if (static_cast<std::int64_t>(values.size()) != s.numel())
      throw error("tensor: shape " + s.str() + " holds " + std::to_string(s.numel()) + " values, got " +
                  std::to_string(values.size()));
  }

  constexpr const hush::shape& shape() const { return shape_; }
  constexpr std::int64_t numel() const { return static_cast<std::int64_t>(data_.size()); }
  constexpr bool empty() const { return data_.empty(); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> values() { return data_; }
  std::span<const float> values() const { return data_; }
  float& operator[](std::int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  float operator[](std::int64_t i) const { return data_[static_cast<std::size_t>(i)]; }

  /// Gives the tensor a new shape. Keeps the buffer (and its values) when the size is unchanged,
  /// so activation buffers are allocated once per shape and reused.
  void resize(hush::shape s) {
    const auto before = data_.size(), after = static_cast<std::size_t>(s.numel());
    const bool reuses = after > before && after <= data_.capacity();  // storage not fresh
    shape_ = s;
    data_.resize(after);
    if (reuses) std::fill(data_.begin() + std::ptrdiff_t(before), data_.end(), 0.0f);
  }
  /// Same as resize, for a view of the same data under another shape of equal size.
  void reshape(hush::shape s) {
    if (s.numel() != numel())
      throw error("tensor::reshape: " + shape_.str() + " cannot become " + s.str());
    shape_ = s;
  }
  hush::layout layout() const { return layout_; }
  void set_layout(hush::layout l) { layout_ = l; }

  void fill(float v) { std::fill(data_.begin(), data_.end(), v); }
  void zero() { fill(0.0f); }

  /// The tensor as an xtensor expression of its own rank (host memory, no copy).
  auto view() {
    return xt::adapt(data_.data(), data_.size(), xt::no_ownership(), dims());
  }
  auto view() const {
    return xt::adapt(data_.data(), data_.size(), xt::no_ownership(), dims());
  }

 private:
  std::vector<std::size_t> dims() const {
    std::vector<std::size_t> d;
    for (int i = 0; i < shape_.rank; ++i) d.push_back(static_cast<std::size_t>(shape_[i]));
    return d;
  }

  hush::shape shape_{};
  std::vector<float, aligned_allocator<float>> data_{};
  hush::layout layout_ = hush::layout::nchw;
};

}  // namespace hush
