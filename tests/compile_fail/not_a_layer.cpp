// Must NOT compile: a type that is not a layer in a seq. The test (tests/CMakeLists.txt) passes
// when the compiler's message names the type and says what a layer needs.
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"

struct my_forgotten_block {};  // no kind, no forward, no backward ...

hush::seq<hush::relu, my_forgotten_block> net;
