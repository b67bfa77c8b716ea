#pragma once
// print(net, input shape): the tree of a network with each node's output shape and parameter
// count, in the spirit of torchinfo's summary.
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "hush/core/shape.hpp"

namespace hush {

namespace detail {
inline std::string thousands(std::int64_t n) {
  const auto digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

template <class L>
void print_node(std::ostream& os, const L& layer, const std::string& name, shape in, int depth) {
  std::string label = std::string(static_cast<std::size_t>(2 * depth), ' ') + (name.empty() ? "" : name + ": ") + L::kind;
  if constexpr (requires { layer.describe(); }) label += " (" + layer.describe() + ")";
  os << std::left << std::setw(56) << label << std::setw(22) << layer.output_shape(in).str() << std::right
     << std::setw(12) << thousands(layer.parameter_count()) << '\n';
  if constexpr (requires { layer.for_each_child([](const std::string&, const auto&, shape) {}, in); })
    layer.for_each_child([&](const std::string& child, const auto& c, shape s) { print_node(os, c, child, s, depth + 1); },
                         in);
}
}  // namespace detail

/// Prints to `os` the tree of `net` for an input of shape `in`: each node's output shape and
/// parameter count, then the total (as torchinfo's summary).
template <class L>
void print(const L& net, shape in, std::ostream& os = std::cout) {
  os << std::left << std::setw(56) << "layer" << std::setw(22) << "output" << std::right << std::setw(12) << "params"
     << '\n';
  os << std::left << std::setw(56) << "input" << std::setw(22) << in.str() << '\n';
  detail::print_node(os, net, "", in, 0);
  os << "total parameters: " << detail::thousands(net.parameter_count()) << '\n';
}

}  // namespace hush
