#pragma once
// Walking a network's parameters and buffers by their PyTorch state_dict names.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hush/core/parameter.hpp"
#include "hush/core/shape.hpp"

namespace hush {

/// Forwards to another visitor with `prefix` in front of every name.
template <class V>
struct prefixed_visitor {
  V& inner;
  std::string prefix;
  void parameter(std::string_view name, hush::parameter& p) { inner.parameter(prefix + std::string(name), p); }
  void buffer(std::string_view name, kept& t) { inner.buffer(prefix + std::string(name), t); }
  void counter(std::string_view name, std::int64_t& c) { inner.counter(prefix + std::string(name), c); }
};

/// The visit of a composite: each child under "<child name>.", or with no prefix of its own
/// when its name is empty (a residual's main path, whose layers torchvision names directly).
template <class L, class V>
void visit_children(L& layer, V& v) {
  layer.for_each_child([&](const std::string& name, auto& child, shape) {
    prefixed_visitor<V> pv{v, name.empty() ? std::string() : name + "."};
    child.visit(pv);
  });
}

/// Calls f(name, parameter&) for every parameter of `net`.
template <class L, class F>
void for_each_parameter(L& net, F&& f) {
  struct visitor {
    F& f;
    void parameter(std::string_view name, hush::parameter& p) { f(name, p); }
    void buffer(std::string_view, kept&) {}
    void counter(std::string_view, std::int64_t&) {}
  } v{f};
  net.visit(v);
}

/// Calls f(name, kept&) for every buffer (running statistics, ...) of `net`.
template <class L, class F>
void for_each_buffer(L& net, F&& f) {
  struct visitor {
    F& f;
    void parameter(std::string_view, hush::parameter&) {}
    void buffer(std::string_view name, kept& t) { f(name, t); }
    void counter(std::string_view, std::int64_t&) {}
  } v{f};
  net.visit(v);
}

/// Zeroes every parameter's gradient.
template <class L>
void zero_grad(L& net) {
  for_each_parameter(net, [](std::string_view, hush::parameter& p) { p.grad.zero(); });
}

}  // namespace hush
