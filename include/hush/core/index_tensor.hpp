#pragma once
// Integer tensors, for what indexes rather than measures: class labels (data sets, losses,
// accuracy) and which tokens an MAE keeps and where each goes back (models/mae.hpp). Int32 values
// in a memory space, with a shape; no arithmetic. Copied and moved like a tensor, resized in place
// (the buffer grows, never shrinks), and moved between memories with to(backend, t).
// kept_indices is kept's counterpart: a layer holds one and the context hands out the index
// tensor in its backend's memory (ctx.keep(k, shape) at setup, ctx[k] afterwards).
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/memory.hpp"
#include "hush/core/memory_array.hpp"
#include "hush/core/shape.hpp"

namespace hush {

/// Int32 values with a shape in `Memory`, for what indexes rather than measures (class labels,
/// the tokens an MAE keeps): no arithmetic; copied like a tensor, moved between memories with
/// to(backend, t). index_tensor is the host one.
template <class Memory>
class basic_index_tensor {
  static constexpr bool on_host = Memory::host_accessible;

 public:
  using memory = Memory;

  constexpr basic_index_tensor() = default;
  /// A zero-filled index tensor of the given shape.
  explicit basic_index_tensor(hush::shape s) : shape_(s), values_(s.numel()) {}
  /// `values` (on the host) copied into this memory.
  basic_index_tensor(hush::shape s, std::span<const std::int32_t> values) : basic_index_tensor(s) {
    if (std::int64_t(values.size()) != s.numel())
      throw shape_error("index tensor: " + std::to_string(values.size()) + " values for shape " + s.str());
    copy_from_host(values.data());
  }
  basic_index_tensor(hush::shape s, const std::vector<std::int32_t>& values)
      : basic_index_tensor(s, std::span<const std::int32_t>(values)) {}
  basic_index_tensor(const basic_index_tensor& o) : basic_index_tensor(o.shape_) {
    if (numel()) Memory::copy(data(), o.data(), bytes());
  }
  /// A moved-from index tensor is empty (its shape goes with its values).
  basic_index_tensor(basic_index_tensor&& o) noexcept
      : shape_(std::exchange(o.shape_, hush::shape{})), values_(std::move(o.values_)) {}
  basic_index_tensor& operator=(const basic_index_tensor& o) {
    if (this != &o) {
      resize(o.shape_);
      if (numel()) Memory::copy(data(), o.data(), bytes());
    }
    return *this;
  }
  basic_index_tensor& operator=(basic_index_tensor&& o) noexcept {
    if (this != &o) values_ = std::move(o.values_), shape_ = std::exchange(o.shape_, hush::shape{});
    return *this;
  }

  const hush::shape& shape() const { return shape_; }
  std::int64_t numel() const { return shape_.numel(); }
  bool empty() const { return numel() == 0; }
  std::int32_t* data() { return values_.data(); }
  const std::int32_t* data() const { return values_.data(); }
  std::int32_t& operator[](std::int64_t i) requires on_host { return data()[i]; }
  std::int32_t operator[](std::int64_t i) const requires on_host { return data()[i]; }
  std::span<const std::int32_t> values() const requires on_host { return {data(), static_cast<std::size_t>(numel())}; }
  /// The values, copied to the host.
  std::vector<std::int32_t> to_host() const {
    auto all = values_.to_host();
    all.resize(static_cast<std::size_t>(numel()));
    return all;
  }

  /// Gives the tensor a new shape; the values are unspecified until written (a batch's labels
  /// are gathered into it). The buffer is reallocated only to grow.
  void resize(hush::shape s) {
    if (s.numel() > values_.size()) values_ = memory_array<Memory, std::int32_t>(s.numel());
    shape_ = s;
  }

  /// The same values in another memory.
  template <class Other>
  basic_index_tensor<Other> in() const {
    if constexpr (std::is_same_v<Other, Memory>) return *this;
    else if constexpr (on_host) return basic_index_tensor<Other>(shape_, values());
    else return basic_index_tensor<Other>(shape_, to_host());
  }

 private:
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * sizeof(std::int32_t); }
  void copy_from_host(const std::int32_t* from) {
    if (!numel()) return;
    if constexpr (on_host) std::memcpy(data(), from, bytes());
    else Memory::from_host(data(), from, bytes());
  }

  hush::shape shape_{};
  memory_array<Memory, std::int32_t> values_{0};
};

/// An index tensor in the CPU's memory: what data sets hold their class labels in.
using index_tensor = basic_index_tensor<host_memory>;

/// Whether T is an index tensor of some memory.
template <class T>
inline constexpr bool is_index_tensor = false;
/// The same for a `basic_index_tensor`: true, whatever its memory.
template <class Memory>
inline constexpr bool is_index_tensor<basic_index_tensor<Memory>> = true;

namespace detail {
/// The first position whose label is not a class index in [0, classes), or -1 (labels on the host).
template <class Memory>
  requires Memory::host_accessible
std::int64_t first_non_class(const basic_index_tensor<Memory>& labels, std::int64_t classes) {
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    if (labels[i] < 0 || labels[i] >= classes) return i;
  return -1;
}
}  // namespace detail

/// Throws hush::error naming `who` unless every value of `labels` is a class index in [0, classes):
/// a loss would otherwise read outside its logits. Labels in the host's memory are checked here;
/// labels already on a GPU are not (a copy back per step would stall it): the trainers check every
/// label of a data set before training (data/labelled_source.hpp, check_labels).
template <class Memory>
void check_class_indices(const basic_index_tensor<Memory>& labels, std::int64_t classes, const char* who) {
  if constexpr (Memory::host_accessible) {
    if (const auto i = detail::first_non_class(labels, classes); i >= 0)
      throw error(std::string(who) + ": label " + std::to_string(labels[i]) + " (sample " + std::to_string(i) +
                  ") is not one of the " + std::to_string(classes) + " classes 0.." + std::to_string(classes - 1));
  }
}

/// `t` where `backend` keeps its tensors: itself when it is there already, else a copy (as
/// to(backend, tensor) does for floats).
template <class Backend, class T>
  requires is_index_tensor<std::remove_cvref_t<T>>
decltype(auto) to(const Backend&, T&& t) {
  using target = memory_of<Backend>;
  if constexpr (!std::is_same_v<typename std::remove_cvref_t<T>::memory, target>) return t.template in<target>();
  else if constexpr (std::is_lvalue_reference_v<T>) return static_cast<T&&>(t);
  else return std::remove_cvref_t<T>(std::move(t));  // a temporary is moved, never dangles
}

/// An index tensor a layer keeps between calls, in whichever memory its backend uses (kept's
/// counterpart): sized by ctx.keep(k, shape) at setup, read as ctx[k] afterwards.
class kept_indices {
 public:
  template <class Memory>
  basic_index_tensor<Memory>& in() {
    if constexpr (Memory::host_accessible) return host_;
    else return device_;
  }
  template <class Memory>
  const basic_index_tensor<Memory>& in() const {
    if constexpr (Memory::host_accessible) return host_;
    else return device_;
  }

 private:
  basic_index_tensor<host_memory> host_;
  basic_index_tensor<device_memory> device_;
};

}  // namespace hush
