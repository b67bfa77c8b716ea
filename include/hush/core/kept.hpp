#pragma once
// hush::kept: a tensor that a layer keeps between calls (its output, a gradient, a parameter,
// running statistics), in whichever memory its network's backend uses.
//
// A layer's type does not depend on the backend (one `conv2d` type runs on every backend), so
// its members cannot be a host or a device tensor by type. A `kept` holds one of each and the
// context hands out the one its backend uses, typed: `ctx.keep(y_, shape, role)` at setup,
// `ctx[y_]` afterwards. Device values therefore stay out of host reach at compile time; the
// memory-neutral ways in (`host()`, `to_host(k)`, `assign(k, t)`) check at run time where the
// values are and copy where they must, for files and tests.
#include <string>
#include <type_traits>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

namespace detail {
/// Not constexpr: reached only when a kept is built outside constant evaluation (below).
inline void built_at_run_time() noexcept {}
}  // namespace detail

/// A tensor a layer keeps between calls (an output, a gradient, a parameter, running statistics).
/// It holds a host and a device tensor, so a layer's type need not depend on the backend; the
/// context hands out the one its backend uses (ctx.keep at setup, ctx[k] afterwards).
class kept {
 public:
  /// Networks are literal types (`static_assert(resnet20{}.parameter_count() == 272'474)`), so
  /// g++ also tries, silently, to evaluate at compile time every network it sees initialised at
  /// run time (`resnet50 net;`): seconds per network and translation unit (2-3 s for ResNet-50).
  /// Outside manifest constant evaluation, this call ends that attempt at the first layer.
  constexpr kept() noexcept {
    if (!std::is_constant_evaluated()) detail::built_at_run_time();
  }

  /// The tensor in Memory, which becomes where the values live (the context's operator[]).
  template <class Memory>
  basic_tensor<Memory>& in() {
    on_device_ = !Memory::host_accessible;
    if constexpr (Memory::host_accessible) return host_;
    else return device_;
  }
  /// The tensor in Memory (empty while the values live in the other memory, or nowhere yet).
  template <class Memory>
  const basic_tensor<Memory>& in() const {
    if constexpr (Memory::host_accessible) return host_;
    else return device_;
  }

  /// The tensor in Memory, checked: throws when the values live in the other memory (an
  /// optimizer stepping a network with a backend of another memory, say).
  template <class Memory>
  basic_tensor<Memory>& as() {
    if (on_device_ == Memory::host_accessible)
      throw error(std::string("hush::kept: the values live in ") + (on_device_ ? "device" : "host") +
                  " memory, not in " + Memory::name + " memory");
    return in<Memory>();
  }
  /// Sizes this tensor like `other`, in the same memory, zero-filled.
  void zero_like(const kept& other) {
    on_device_ = other.on_device_;
    if (on_device_) device_ = device_tensor(other.shape());
    else host_ = tensor(other.shape());
  }

  bool on_device() const { return on_device_; }
  const hush::shape& shape() const { return on_device_ ? device_.shape() : host_.shape(); }
  std::int64_t numel() const { return shape().numel(); }
  bool empty() const { return numel() == 0; }
  void zero() { on_device_ ? device_.zero() : host_.zero(); }

  /// The host tensor, for code that only runs on host backends (tests, tools with the cpu
  /// backend); throws when the values live in device memory (use to_host there).
  tensor& host() {
    if (on_device_) throw error("hush::kept: the values live in device memory; copy them with to_host");
    return host_;
  }
  const tensor& host() const { return const_cast<kept*>(this)->host(); }

 private:
  tensor host_;
  device_tensor device_;
  bool on_device_ = false;
};

/// The values of `k` in host memory (a copy when they live on the device).
inline tensor to_host(const kept& k) { return k.on_device() ? to_host(k.in<device_memory>()) : k.in<host_memory>(); }

/// Copies k's values, wherever they live, into `to` (host memory, k.numel() floats).
inline void copy_to_host(const kept& k, float* to) {
  const auto bytes = std::size_t(k.numel()) * sizeof(float);
  if (k.on_device()) device_memory::to_host(to, k.in<device_memory>().data(), bytes);
  else host_memory::to_host(to, k.in<host_memory>().data(), bytes);
}
/// Copies k.numel() floats from `from` (host memory) into k's values, wherever they live.
inline void copy_from_host(kept& k, const float* from) {
  const auto bytes = std::size_t(k.numel()) * sizeof(float);
  if (k.on_device()) device_memory::from_host(k.in<device_memory>().data(), from, bytes);
  else host_memory::from_host(k.in<host_memory>().data(), from, bytes);
}

/// Replaces the values of `k`, wherever they live, with those of the host tensor `t` (same
/// number of values; `k` takes t's shape).
inline void assign(kept& k, const tensor& t) {
  if (t.numel() != k.numel())
    throw shape_error("assign: " + t.shape().str() + " into a tensor of " + k.shape().str());
  if (k.on_device()) {
    auto& d = k.in<device_memory>();
    d.reshape(t.shape());
    if (!t.empty()) device_memory::from_host(d.data(), t.data(), std::size_t(t.numel()) * sizeof(float));
  } else {
    k.in<host_memory>() = t;
  }
}

/// A pointer to a tensor of either memory, typed again by whoever reads it: what a composite
/// keeps between forward and backward (its children's inputs).
class tensor_ptr {
 public:
  constexpr tensor_ptr() = default;
  template <class Memory>
  tensor_ptr(const basic_tensor<Memory>* t) : p_(t) {}
  template <class Memory>
  const basic_tensor<Memory>& get() const {
    return *static_cast<const basic_tensor<Memory>*>(p_);
  }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  const void* p_ = nullptr;
};

}  // namespace hush
