#pragma once
// hush::basic_tensor<Memory>: float32, row-major (NCHW for images), owning a buffer in `Memory`
// (core/memory.hpp), or borrowing one from a model's arena (core/buffer_plan.hpp). Two kinds exist:
//
//   hush::tensor         host memory: element access, spans (an xtensor view through
//                        hush/interop/xtensor.hpp, which the core does not include).
//   hush::device_tensor  the thrust backend's memory: only its shape and a pointer for kernels.
//                        Reading an element from host code is a compile error; move the values
//                        explicitly with to_host / to_device (or to(backend, t)).
//
// Tensors are constexpr-constructible while empty, which lets a whole network be built in a
// constant expression to count its parameters at compile time (see graph/visit.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/memory.hpp"
#include "hush/core/shape.hpp"

namespace hush {

/// How a 4-D tensor's values are laid out. nchw: row-major, what every layer reads and writes.
/// blocked: the cpu backend's oneDNN layout (nChw16c on AVX-512, nChw8c on AVX2: channels in
/// blocks innermost), only for tensors whose channels fill whole blocks, so the size is the same.
/// Convolutions write it (and batch norms and activations pass it on) only for a consumer that
/// takes it (core/layout.hpp); a model's output is always nchw.
enum class layout : unsigned char { nchw, blocked };

/// A float32 row-major tensor (NCHW for images) whose values live in `Memory`, in storage of its
/// own or borrowed from a model's arena. Only host memory's (hush::tensor) has element access;
/// hush::device_tensor gives kernels its shape and a pointer.
template <class Memory>
class basic_tensor {
  static constexpr bool on_host = Memory::host_accessible;

 public:
  using memory = Memory;

  constexpr basic_tensor() = default;
  /// A zero-filled tensor of the given shape.
  explicit basic_tensor(hush::shape s) { resize(s); }
  basic_tensor(hush::shape s, float fill) requires on_host : basic_tensor(s) { this->fill(fill); }
  basic_tensor(hush::shape s, std::span<const float> values) requires on_host : basic_tensor(s) {
    if (static_cast<std::int64_t>(values.size()) != s.numel())
      throw error("tensor: shape " + s.str() + " holds " + std::to_string(s.numel()) + " values, got " +
                  std::to_string(values.size()));
    std::copy(values.begin(), values.end(), data_);
  }
  constexpr basic_tensor(const basic_tensor& o) : basic_tensor() { *this = o; }
  // Member by member rather than through swap: networks are built in constant expressions
  // (graph/visit.hpp), where every operation counts against the compiler's limit.
  constexpr basic_tensor(basic_tensor&& o) noexcept
      : shape_(std::exchange(o.shape_, hush::shape{})), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)), layout_(o.layout_), borrowed_(std::exchange(o.borrowed_, false)) {}
  constexpr basic_tensor& operator=(const basic_tensor& o) {
    if (this != &o) {
      resize_storage(o.size_, false);
      if (o.size_) Memory::copy(data_, o.data_, bytes(o.size_));
      shape_ = o.shape_, layout_ = o.layout_;
    }
    return *this;
  }
  constexpr basic_tensor& operator=(basic_tensor&& o) noexcept {
    basic_tensor(std::move(o)).swap(*this);
    return *this;
  }
  constexpr ~basic_tensor() { release(); }
  /// Swaps values and storage; each keeps its buffer-plan slot (that names the tensor, not its values).
  constexpr void swap(basic_tensor& o) noexcept {
    std::swap(shape_, o.shape_), std::swap(data_, o.data_), std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_), std::swap(layout_, o.layout_), std::swap(borrowed_, o.borrowed_);
  }

  /// Makes this tensor a view of `count` values at `data`, owned elsewhere (a model's arena,
  /// core/buffer_plan.hpp), keeping its shape and layout; its own storage is released. Growing
  /// it past `count` later gives it storage of its own again.
  void borrow(float* data, std::size_t count) {
    if (count < size_) throw error("tensor::borrow: " + std::to_string(count) + " values for a tensor of " + shape_.str());
    release();
    data_ = data, capacity_ = count, borrowed_ = true;
  }
  /// Whether the values live in memory this tensor does not own.
  bool borrowed() const { return borrowed_; }
  /// The tensor's index in its network's buffer plan (-1: none). Not copied with the values.
  std::int64_t plan_slot() const { return slot_; }
  void set_plan_slot(std::int64_t s) { slot_ = s; }

  constexpr const hush::shape& shape() const { return shape_; }
  constexpr std::int64_t numel() const { return static_cast<std::int64_t>(size_); }
  constexpr bool empty() const { return size_ == 0; }
  /// The first value's address in Memory: for kernels (a device pointer on a GPU).
  float* data() { return data_; }
  const float* data() const { return data_; }

  std::span<float> values() requires on_host { return {data_, size_}; }
  std::span<const float> values() const requires on_host { return {data_, size_}; }
  float& operator[](std::int64_t i) requires on_host { return data_[static_cast<std::size_t>(i)]; }
  float operator[](std::int64_t i) const requires on_host { return data_[static_cast<std::size_t>(i)]; }

  /// Gives the tensor a new shape. Keeps the buffer (and its values) when the size is unchanged,
  /// so activation buffers are allocated once per shape and reused; new values are zero.
  void resize(hush::shape s) {
    shape_ = s;
    resize_storage(static_cast<std::size_t>(s.numel()), true);
  }
  /// Same as resize, for a view of the same data under another shape of equal size.
  void reshape(hush::shape s) {
    if (s.numel() != numel())
      throw error("tensor::reshape: " + shape_.str() + " cannot become " + s.str());
    shape_ = s;
  }
  hush::layout layout() const { return layout_; }
  void set_layout(hush::layout l) { layout_ = l; }

  void fill(float v) requires on_host { std::fill(data_, data_ + size_, v); }
  /// Every value 0 (in any memory).
  void zero() {
    if (size_) Memory::zero(data_, bytes(size_));
  }

 private:
  static constexpr std::size_t bytes(std::size_t n) { return n * sizeof(float); }
  /// Room for n values; values kept up to min(size, n), the rest zero when `keep`.
  constexpr void resize_storage(std::size_t n, bool keep) {
    if (n > capacity_) {
      auto* fresh = static_cast<float*>(Memory::allocate(bytes(n)));  // zero-filled
      if (keep && size_) Memory::copy(fresh, data_, bytes(size_));
      release();
      data_ = fresh, capacity_ = n;
    } else if (keep && n > size_) {
      Memory::zero(data_ + size_, bytes(n - size_));
    }
    size_ = n;
  }
  constexpr void release() noexcept {
    if (data_ && !borrowed_) Memory::release(data_, bytes(capacity_));
    data_ = nullptr, capacity_ = 0, borrowed_ = false;
  }

  hush::shape shape_{};
  float* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
  hush::layout layout_ = hush::layout::nchw;
  bool borrowed_ = false;
  std::int64_t slot_ = -1;
};

/// Whether T is a tensor of some memory.
template <class T>
inline constexpr bool is_tensor = false;
/// The same for a `basic_tensor`: true, whatever its memory.
template <class Memory>
inline constexpr bool is_tensor<basic_tensor<Memory>> = true;

/// A tensor in the CPU's memory: what users, files and images hold.
using tensor = basic_tensor<host_memory>;
/// A tensor in the thrust backend's memory (the GPU's with CUDA).
using device_tensor = basic_tensor<device_memory>;

/// The values of `t` in host memory: `t` itself when it is there already, else a copy. A
/// temporary is moved into the result, so `const auto& h = to_host(f())` never dangles.
inline const tensor& to_host(const tensor& t) { return t; }
/// The same for a temporary host tensor: moved into the result.
inline tensor to_host(tensor&& t) { return std::move(t); }
/// The same for a device tensor: a copy in host memory, with its layout.
inline tensor to_host(const device_tensor& t) {
  tensor h(t.shape());
  if (!t.empty()) device_memory::to_host(h.data(), t.data(), std::size_t(t.numel()) * sizeof(float));
  h.set_layout(t.layout());
  return h;
}
/// A copy of `t` in device memory (`t` itself when it is there already).
inline device_tensor to_device(const tensor& t) {
  device_tensor d(t.shape());
  if (!t.empty()) device_memory::from_host(d.data(), t.data(), std::size_t(t.numel()) * sizeof(float));
  d.set_layout(t.layout());
  return d;
}
/// The same for a device tensor: `t` itself.
inline const device_tensor& to_device(const device_tensor& t) { return t; }
/// The same for a temporary device tensor: moved into the result.
inline device_tensor to_device(device_tensor&& t) { return std::move(t); }
/// `t` in Memory: itself when it is there already, else a copy (a temporary is moved).
template <class Memory, class T>
decltype(auto) to_memory(T&& t) {
  if constexpr (std::is_same_v<Memory, host_memory>) return to_host(std::forward<T>(t));
  else return to_device(std::forward<T>(t));
}
/// `t` where `backend` keeps its tensors: itself when it is there already, else a copy.
template <class Backend, class T>
  requires is_tensor<std::remove_cvref_t<T>>
decltype(auto) to(const Backend&, T&& t) {
  return to_memory<memory_of<Backend>>(std::forward<T>(t));
}

}  // namespace hush
