// libFuzzer harness: the noise-spec parser on arbitrary text, and every spec it accepts applied
// to a small image (fuzz/README.md).
#include <cmath>

#include "harness.hpp"
#include "hush/backend/cpu.hpp"
#include "hush/noise/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hush::fuzz::expect_clean_error([&] {
    const auto spec = hush::noise::parse_spec(text);
    const hush::shape img{3, 8, 12};
    hush::tensor x(img, 0.5f), y(img);
    spec.apply(hush::backend::cpu{}, hush::counter_rng{1}, 0, img, x.data(), y.data());
    for (const float v : y.values())
      if (std::isnan(v)) {  // an accepted spec must give numbers (NaN would reach lround when saved)
        std::fprintf(stderr, "%s gave %g\n", spec.describe().c_str(), double(v));
        std::abort();
      }
  });
  return 0;
}
