#pragma once
// The extents of a tensor: up to four dimensions, NCHW for images, (N, F) after flatten.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "hush/core/error.hpp"

namespace hush {

/// A tensor's extents: up to four dimensions (NCHW for images, (N, F) after flatten), compared
/// by value. A shape of rank 0 has no elements.
struct shape {
  static constexpr int max_rank = 4;
  std::array<std::int64_t, max_rank> dims{};
  int rank = 0;

  constexpr shape() = default;
  constexpr shape(std::initializer_list<std::int64_t> d) {
    if (d.size() > std::size_t(max_rank))
      throw error("shape: " + std::to_string(d.size()) + " dimensions given, at most " + std::to_string(max_rank) + " held");
    for (auto v : d) dims[static_cast<std::size_t>(rank++)] = v;
  }

  constexpr std::int64_t operator[](int i) const { return dims[static_cast<std::size_t>(i)]; }
  constexpr std::int64_t& operator[](int i) { return dims[static_cast<std::size_t>(i)]; }
  constexpr bool empty() const { return rank == 0; }
  constexpr std::int64_t numel() const {
    std::int64_t n = rank == 0 ? 0 : 1;
    for (int i = 0; i < rank; ++i) n *= (*this)[i];
    return n;
  }
  /// Number of elements per sample: everything but the leading batch dimension.
  constexpr std::int64_t per_sample() const { return rank <= 1 ? 1 : numel() / dims[0]; }
  // NCHW accessors, meaningful for rank-4 shapes.
  constexpr std::int64_t n() const { return dims[0]; }
  constexpr std::int64_t c() const { return dims[1]; }
  constexpr std::int64_t h() const { return dims[2]; }
  constexpr std::int64_t w() const { return dims[3]; }

  friend constexpr bool operator==(const shape&, const shape&) = default;

  /// "(8, 3, 224, 224)", the way PyTorch prints torch.Size.
  std::string str() const {
    std::string s = "(";
    for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string((*this)[i]);
    return s + ")";
  }
};

}  // namespace hush
