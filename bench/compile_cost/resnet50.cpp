// What ResNet-50 costs the compiler (bench/compile_cost/run.sh). examples/resnet50.cpp is the
// same network with a command line and weight files.
#include "hush/models/resnet.hpp"
#include "step_and_inference.hpp"

int main() { return step_and_inference<hush::models::resnet50>({2, 3, 64, 64}); }
