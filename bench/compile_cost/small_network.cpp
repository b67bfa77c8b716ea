// What a small network costs the compiler (bench/compile_cost/run.sh): the Fashion-MNIST CNN.
#include "hush/models/fashion_cnn.hpp"
#include "step_and_inference.hpp"

int main() { return step_and_inference<hush::models::fashion_cnn>({64, 1, 28, 28}); }
