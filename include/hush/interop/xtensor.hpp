#pragma once
// hush tensors and xtensor expressions, both ways. Outside the core on purpose: only a program
// that includes this header pays for parsing xtensor (about a second of g++ per translation unit).
//
//   auto x = hush::as_xtensor(t);        // t's values as an xtensor expression, no copy
//   auto y = hush::as_xtensor<4>(t);     // the same with a fixed rank (faster indexing)
//   hush::tensor u = hush::to_tensor(e); // any xtensor expression, evaluated into a new tensor
//   hush::assign(t, e);                  // ... into an existing tensor of the same shape
//
// Views are valid while the tensor keeps its storage (a resize to a larger size, or destroying
// it, ends them). Only host tensors in the row-major layout can be viewed: a device tensor has no
// `as_xtensor` (compile error), and a tensor in the cpu backend's blocked layout is refused.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

// xtensor 0.25 moved its headers into subfolders; hush codes against 0.24 (Debian 12) and this
// is the one place that includes xtensor, so the one place that knows both layouts. Besides what
// the functions below need, the parts a program preparing images and reading logits uses:
// containers, builders, element-wise math and reductions, views, argmax.
#if __has_include(<xtensor/containers/xtensor.hpp>)
#include <xtensor/containers/xadapt.hpp>
#include <xtensor/containers/xarray.hpp>
#include <xtensor/containers/xtensor.hpp>
#include <xtensor/core/xexpression.hpp>
#include <xtensor/core/xmath.hpp>
#include <xtensor/generators/xbuilder.hpp>
#include <xtensor/misc/xsort.hpp>
#include <xtensor/views/xview.hpp>
#else
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
#endif

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

namespace detail {
inline void require_viewable(const tensor& t, const char* what) {
  if (t.layout() != layout::nchw)
    throw error(std::string(what) + ": the tensor of shape " + t.shape().str() +
                " is in the cpu backend's blocked layout; only row-major tensors (every model's output) can be viewed");
}
template <std::size_t Rank>
std::array<std::size_t, Rank> fixed_dims(const tensor& t) {
  if (t.shape().rank != static_cast<int>(Rank))
    throw error("as_xtensor<" + std::to_string(Rank) + ">: the tensor has shape " + t.shape().str() + ", of rank " +
                std::to_string(t.shape().rank));
  std::array<std::size_t, Rank> d{};
  for (std::size_t i = 0; i < Rank; ++i) d[i] = static_cast<std::size_t>(t.shape()[static_cast<int>(i)]);
  return d;
}
/// "(2, 3)", as shape::str() prints a tensor's.
template <class E>
std::string shape_str(const E& e) {
  std::string s = "(";
  for (std::size_t i = 0; i < e.dimension(); ++i) s += (i ? ", " : "") + std::to_string(e.shape()[i]);
  return s + ")";
}
inline std::vector<std::size_t> dims(const tensor& t) {
  std::vector<std::size_t> d(static_cast<std::size_t>(t.shape().rank));
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::size_t>(t.shape()[static_cast<int>(i)]);
  return d;
}
}  // namespace detail

/// The tensor's values as an xtensor expression of its shape (rank known at run time), without
/// copying: writes through it change the tensor.
inline auto as_xtensor(tensor& t) {
  detail::require_viewable(t, "as_xtensor");
  return xt::adapt(t.data(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), detail::dims(t));
}
/// The same view, read-only.
inline auto as_xtensor(const tensor& t) {
  detail::require_viewable(t, "as_xtensor");
  return xt::adapt(t.data(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), detail::dims(t));
}

/// The same view with a rank fixed at compile time (xt::xtensor_adaptor: its shape is an array,
/// so indexing does not loop over a vector). The tensor's rank must be Rank.
template <std::size_t Rank>
auto as_xtensor(tensor& t) {
  detail::require_viewable(t, "as_xtensor");
  return xt::adapt(t.data(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), detail::fixed_dims<Rank>(t));
}
/// The same fixed-rank view, read-only.
template <std::size_t Rank>
auto as_xtensor(const tensor& t) {
  detail::require_viewable(t, "as_xtensor");
  return xt::adapt(t.data(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), detail::fixed_dims<Rank>(t));
}

/// Evaluates an xtensor expression of any value type (uint8 pixels, doubles ...) into `t`, whose
/// shape must be the expression's; values are converted to float.
template <class E>
void assign(tensor& t, const xt::xexpression<E>& expression) {
  const auto& e = expression.derived_cast();
  bool same = e.dimension() == static_cast<std::size_t>(t.shape().rank);
  for (std::size_t i = 0; same && i < e.dimension(); ++i)
    same = static_cast<std::int64_t>(e.shape()[i]) == t.shape()[static_cast<int>(i)];
  if (!same)
    throw error("hush::assign: an xtensor expression of shape " + detail::shape_str(e) + " into a tensor of shape " +
                t.shape().str());
  auto view = as_xtensor(t);
  view = e;
}

/// A new tensor holding an xtensor expression's values (converted to float), of its shape: rank
/// 1 to 4, as every hush tensor.
template <class E>
tensor to_tensor(const xt::xexpression<E>& expression) {
  const auto& e = expression.derived_cast();
  if (e.dimension() < 1 || e.dimension() > static_cast<std::size_t>(shape::max_rank))
    throw error("hush::to_tensor: an xtensor expression of shape " + detail::shape_str(e) + ", rank " +
                std::to_string(e.dimension()) + "; hush tensors have rank 1 to " + std::to_string(shape::max_rank));
  shape s;
  for (std::size_t i = 0; i < e.dimension(); ++i) s.dims[i] = static_cast<std::int64_t>(e.shape()[i]), ++s.rank;
  tensor t(s);
  assign(t, expression);
  return t;
}

}  // namespace hush
