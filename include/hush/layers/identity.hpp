#pragma once
// identity: y = x, with no copy (forward returns x itself, backward dy itself).
#include <cstdint>

#include "hush/core/context.hpp"
#include "hush/core/layout.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

/// torch.nn.Identity: y = x. Forward returns x itself and backward dy itself (no buffers, no copy,
/// any layout); residual's default shortcut and post-sum step, and concat_skip's skip path.
struct identity {
  static constexpr const char* kind = "identity";
  /// Any layout in, the same out (core/layout.hpp).
  static constexpr bool prefers_blocked(bool consumer_takes_blocked) { return consumer_takes_blocked; }
  template <class Ctx>
  layout plan_layout(Ctx&, layout in, bool) {
    return in;
  }
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const { return in; }
  template <class Ctx>
  void setup(Ctx&, shape) {}
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx&, const tensor_of<Ctx>& x) {
    return x;
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx&, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    return dy;
  }
  template <class V>
  void visit(V&&) {}
};

}  // namespace hush
