// The composition property test, part a (tests/compositions.hpp): flat, nested and residual patterns.
#include "compositions.hpp"

using namespace compositions;

TEST_CASE("compositions: flat seq, nested seq, deeply nested seq, residual with a Post") {
  over<flat, HUSH_COMPOSITION_PAIRS>::check();
  over<nested, HUSH_COMPOSITION_PAIRS>::check();
  over<nested_deep, HUSH_COMPOSITION_PAIRS>::check();
  over<res_post, HUSH_COMPOSITION_PAIRS>::check();
  MESSAGE(counted() << " compositions against the reference");
  CHECK(counted() == 84);
}
