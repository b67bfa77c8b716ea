// The composition property test, part b (tests/compositions.hpp): projection shortcuts, U-Net levels and parallel branches.
#include "compositions.hpp"

using namespace compositions;

TEST_CASE("compositions: projection shortcut, U-Net level (concat_skip), parallel branches") {
  over<res_projection, HUSH_COMPOSITION_PAIRS>::check();
  over<unet_level, HUSH_COMPOSITION_PAIRS>::check();
  over<branches, HUSH_COMPOSITION_PAIRS>::check();
  MESSAGE(counted() << " compositions against the reference");
  CHECK(counted() == 63);
}
