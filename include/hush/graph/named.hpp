#pragma once
// named<"conv1", L>: L under a name of its own, so parameters read `conv1.weight` as in PyTorch
// instead of the child's index in its seq.
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "hush/core/error.hpp"
#include "hush/core/fixed_string.hpp"

namespace hush {

template <fixed_string Name, class L>
struct named : L {
  static constexpr std::string_view name = Name;
  using layer_type = L;  // the layer it names
  using L::L;
  constexpr named(L l) : L(std::move(l)) {}  // NOLINT(google-explicit-constructor): seq{conv2d{...}}
  constexpr named() requires std::default_initializable<L> = default;
};

/// The name a child has inside its parent: its own, or its index.
template <class L>
std::string child_name(std::size_t index) {
  if constexpr (requires { L::name; }) return std::string(L::name);
  else return std::to_string(index);
}

/// Runs f(); a hush::error escaping it gets the child's name prepended to its path ("main" for
/// the unnamed main path of a residual), so errors read "net/stage2/0/conv1: ...". `name` is a
/// string, or a function giving it, called only when an error passes (forward and backward pay
/// nothing for it: no string is built on the way down).
template <class Name, class F>
decltype(auto) within(const Name& name, F&& f) {
  try {
    return f();
  } catch (error& e) {
    std::string n;
    if constexpr (std::is_invocable_v<const Name&>) n = name();
    else n = name;
    e.prepend(n.empty() ? "main" : n);
    throw;
  }
}

}  // namespace hush
