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

/// `named<"conv1", L>`: the layer `L` under a name of its own, so its parameters read
/// `conv1.weight` as in PyTorch rather than being numbered by their index in a seq. An empty
/// name adds no prefix.
template <fixed_string Name, class L>
struct named : L {
  static constexpr std::string_view name = Name;
  using layer_type = L;  // the layer it names
  using L::L;
  constexpr named(L l) : L(std::move(l)) {}  // NOLINT(google-explicit-constructor): seq{conv2d{...}}
  constexpr named() requires std::default_initializable<L> = default;
};

/// underscored<"in_proj", L>: L's parameters and buffers named Prefix_<name> ("in_proj_weight",
/// "in_proj_bias") with no prefix of its own, as nn.MultiheadAttention names its input
/// projection, which it holds as two tensors rather than as a Linear submodule.
template <fixed_string Prefix, class L>
struct underscored : L {
  static constexpr std::string_view name = "";
  using layer_type = L;
  using L::L;
  constexpr underscored(L l) : L(std::move(l)) {}  // NOLINT(google-explicit-constructor)
  constexpr underscored() requires std::default_initializable<L> = default;

  template <class V>
  void visit(V&& v) {
    renamed<std::remove_reference_t<V>> r{v};
    L::visit(r);
  }

 private:
  template <class V>
  struct renamed {
    V& inner;
    static std::string full(std::string_view n) { return std::string(std::string_view(Prefix)) + "_" + std::string(n); }
    template <class P>
    void parameter(std::string_view n, P& p) { inner.parameter(full(n), p); }
    template <class B>
    void buffer(std::string_view n, B& b) { inner.buffer(full(n), b); }
    template <class C>
    void counter(std::string_view n, C& c) { inner.counter(full(n), c); }
  };
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
