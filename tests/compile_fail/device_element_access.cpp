// Must NOT compile: host code reading an element of a device tensor (what a layer's host loop
// over its backend's tensors would do on the thrust backend). The test (tests/CMakeLists.txt)
// passes when the compiler refuses it, naming the tensor's memory.
#include "hush/core/tensor.hpp"

float first(const hush::device_tensor& t) { return t[0]; }
