#pragma once
// std::tuple<L, L, ..., L> of n elements, for members a composite holds once per child (blocks,
// layout adapters). A std::array would be simpler, but GCC 12 cannot destroy an array of
// non-trivial objects in a constant expression, which compile-time parameter counts need.
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace hush {

namespace detail {
template <class L, std::size_t... I>
auto tuple_of(std::index_sequence<I...>) -> std::tuple<std::enable_if_t<(I >= 0), L>...>;
/// std::tuple<L, L, ..., L> of n elements.
template <class L, std::size_t n>
using tuple_n = decltype(tuple_of<L>(std::make_index_sequence<n>{}));
}  // namespace detail

}  // namespace hush
