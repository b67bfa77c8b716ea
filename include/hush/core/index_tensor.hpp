#pragma once
// Integer tensors, for what indexes rather than measures: which tokens an MAE keeps and where
// each goes back (models/mae.hpp). Int32 values in a memory space, with a shape; no arithmetic.
// kept_indices is kept's counterpart: a layer holds one and the context hands out the index
// tensor in its backend's memory (ctx.keep(k, shape) at setup, ctx[k] afterwards).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/memory.hpp"
#include "hush/core/memory_array.hpp"
#include "hush/core/shape.hpp"

namespace hush {

template <class Memory>
class basic_index_tensor {
 public:
  constexpr basic_index_tensor() = default;
  explicit basic_index_tensor(hush::shape s) : shape_(s), values_(s.numel()) {}
  /// `values` (on the host) copied into this memory.
  basic_index_tensor(hush::shape s, const std::vector<std::int32_t>& values) : basic_index_tensor(s) {
    if (std::int64_t(values.size()) != s.numel())
      throw shape_error("index tensor: " + std::to_string(values.size()) + " values for shape " + s.str());
    if (values.empty()) return;
    if constexpr (Memory::host_accessible) std::memcpy(data(), values.data(), values.size() * sizeof(std::int32_t));
    else Memory::from_host(data(), values.data(), values.size() * sizeof(std::int32_t));
  }

  const hush::shape& shape() const { return shape_; }
  std::int64_t numel() const { return shape_.numel(); }
  std::int32_t* data() { return values_.data(); }
  const std::int32_t* data() const { return values_.data(); }
  /// The values, copied to the host.
  std::vector<std::int32_t> to_host() const { return values_.to_host(); }

 private:
  hush::shape shape_{};
  memory_array<Memory, std::int32_t> values_{0};
};

using index_tensor = basic_index_tensor<host_memory>;

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
