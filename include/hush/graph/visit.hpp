#pragma once
// Walking a network's parameters and buffers by their PyTorch state_dict names.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hush/core/gradient_watch.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/shape.hpp"

namespace hush {

/// A visitor of any type behind one type: what every layer's visit() is called with below the
/// top of a walk (visit_children). Each visitor type a layer's visit() meets instantiates the
/// walk of its whole subtree again, and a prefix per level made the types nest with the depth;
/// erased, each layer's walk is compiled once (the buffer plan's snapshot, one more visitor
/// type, had made the composition tests' walks 1.75 times as many: docs/performance.md).
class any_visitor {
 public:
  template <class V>
    requires(!std::same_as<std::remove_cvref_t<V>, any_visitor>)
  any_visitor(V& v)  // NOLINT(google-explicit-constructor): a visitor is passed where one is asked
      : self_(&v),
        parameter_([](void* s, std::string_view n, hush::parameter& p) { static_cast<V*>(s)->parameter(n, p); }),
        buffer_([](void* s, std::string_view n, kept& t) { static_cast<V*>(s)->buffer(n, t); }),
        counter_([](void* s, std::string_view n, std::int64_t& c) { static_cast<V*>(s)->counter(n, c); }) {}
  void parameter(std::string_view name, hush::parameter& p) const { parameter_(self_, name, p); }
  void buffer(std::string_view name, kept& t) const { buffer_(self_, name, t); }
  void counter(std::string_view name, std::int64_t& c) const { counter_(self_, name, c); }

 private:
  void* self_;
  void (*parameter_)(void*, std::string_view, hush::parameter&);
  void (*buffer_)(void*, std::string_view, kept&);
  void (*counter_)(void*, std::string_view, std::int64_t&);
};

/// Forwards to another visitor with `prefix` in front of every name:
///   hush::prefixed_visitor a{v, "value."};  value.visit(a);
struct prefixed_visitor {
  any_visitor inner;
  std::string prefix;
  void parameter(std::string_view name, hush::parameter& p) { inner.parameter(prefix + std::string(name), p); }
  void buffer(std::string_view name, kept& t) { inner.buffer(prefix + std::string(name), t); }
  void counter(std::string_view name, std::int64_t& c) { inner.counter(prefix + std::string(name), c); }
};

/// The visit of a composite: each child under "<child name>.", or with no prefix of its own
/// when its name is empty (a residual's main path, whose layers torchvision names directly).
template <class L, class V>
void visit_children(L& layer, V& v) {
  const any_visitor outer(v);
  layer.for_each_child([&](const std::string& name, auto& child, shape) {
    prefixed_visitor pv{outer, name.empty() ? std::string() : name + "."};
    any_visitor erased(pv);
    child.visit(erased);
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
  any_visitor erased(v);
  net.visit(erased);
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
  any_visitor erased(v);
  net.visit(erased);
}

namespace detail {
struct complete_reporter {  // one type for every layer: its walks are compiled once (any_visitor)
  gradient_watch& watch;
  void parameter(std::string_view, hush::parameter& p) { watch.complete(p); }
  void buffer(std::string_view, kept&) {}
  void counter(std::string_view, std::int64_t&) {}
};
}  // namespace detail
/// Tells `watch` that every parameter of `layer`'s subtree has its gradient for this step.
template <class L>
void report_complete(gradient_watch& watch, L& layer) {
  detail::complete_reporter r{watch};
  any_visitor erased(r);
  layer.visit(erased);
}

/// Zeroes every parameter's gradient.
template <class L>
void zero_grad(L& net) {
  for_each_parameter(net, [](std::string_view, hush::parameter& p) { p.grad.zero(); });
}

}  // namespace hush
