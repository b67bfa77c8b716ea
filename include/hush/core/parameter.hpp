#pragma once
// A trainable tensor and its gradient, side by side.
#include "hush/core/tensor.hpp"

namespace hush {

struct parameter {
  tensor value;
  tensor grad;

  /// Allocates value and (zeroed) gradient; returns true the first time, when the caller must
  /// initialise the value.
  bool allocate(hush::shape s) {
    if (value.shape() == s) return false;
    value.resize(s);
    grad = tensor(s);
    return true;
  }
};

}  // namespace hush
