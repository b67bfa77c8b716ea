#pragma once
// A string usable as a template argument: named<"conv1", conv2d>.
#include <algorithm>
#include <cstddef>
#include <string_view>

namespace hush {

/// A string literal as a structural type, so that it can be a template argument: the name in
/// `named<"conv1", conv2d>`, repeat's prefix. Converts to std::string_view without the final null.
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
  constexpr operator std::string_view() const { return {chars, N - 1}; }
  constexpr std::string_view view() const { return {chars, N - 1}; }
};

}  // namespace hush
