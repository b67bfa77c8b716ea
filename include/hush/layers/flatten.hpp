#pragma once
// flatten: x (N, C, H, W) -> y (N, C·H·W), torch.nn.Flatten(). identity: y = x.
#include <algorithm>
#include <cstdint>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/parameter.hpp"

namespace hush {

struct flatten {
  static constexpr const char* kind = "flatten";
  constexpr std::int64_t parameter_count() const { return 0; }
  shape output_shape(shape in) const {
    if (in.rank < 2) throw shape_error("flatten: expected (N, ...), got " + in.str());
    return {in[0], in.per_sample()};
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
  }
  template <class Ctx>
  const tensor& forward(Ctx&, const tensor& x) {
    std::copy_n(x.data(), x.numel(), y_.data());
    return y_;
  }
  template <class Ctx>
  const tensor& backward(Ctx&, const tensor&, const tensor& dy) {
    std::copy_n(dy.data(), dy.numel(), dx_.data());
    return dx_;
  }
  template <class V>
  void visit(V&&) {}

 private:
  tensor y_, dx_;
};

}  // namespace hush
