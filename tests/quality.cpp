// MSE, PSNR and SSIM against scikit-image (tests/reference/quality.py).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/metrics/quality.hpp"

namespace {
hush::tensor as_tensor(const hush::io::stored_array& a) {
  hush::shape s;
  for (auto d : a.dims) s[s.rank++] = d;
  return hush::tensor(s, a.values);
}
}  // namespace

TEST_CASE("mse, psnr and ssim match skimage.metrics on a grey and a colour image") {
  for (const char* name : {"grey", "colour"}) {
    INFO(name);
    const auto f = hush::io::read_safetensors(std::filesystem::path(HUSH_REFERENCE_DATA) /
                                              (std::string("quality_") + name + ".safetensors"));
    const auto ref = as_tensor(f.arrays.at("reference")), test = as_tensor(f.arrays.at("test"));
    CHECK(hush::metrics::mse(ref, test) == doctest::Approx(f.arrays.at("mse").values[0]).epsilon(1e-5));
    CHECK(hush::metrics::psnr(ref, test) == doctest::Approx(f.arrays.at("psnr").values[0]).epsilon(1e-5));
    CHECK(hush::metrics::ssim(ref, test) == doctest::Approx(f.arrays.at("ssim").values[0]).epsilon(1e-5));
  }
}

TEST_CASE("identical images: SSIM 1, PSNR infinite; mismatched shapes are named") {
  hush::tensor a({3, 16, 16});
  for (std::int64_t i = 0; i < a.numel(); ++i) a[i] = float(i % 7) / 7.0f;
  CHECK(hush::metrics::ssim(a, a) == doctest::Approx(1.0));
  CHECK(std::isinf(hush::metrics::psnr(a, a)));
  CHECK_THROWS_WITH(hush::metrics::ssim(a, hush::tensor({3, 16, 17})),
                    "ssim: images differ in shape, (3, 16, 16) and (3, 16, 17)");
}

TEST_CASE("psnr and ssim are kernels: the same values on every backend, images on the device") {
  const auto f = hush::io::read_safetensors(std::filesystem::path(HUSH_REFERENCE_DATA) / "quality_colour.safetensors");
  const auto ref = as_tensor(f.arrays.at("reference")), test = as_tensor(f.arrays.at("test"));
  namespace m = hush::metrics;
  const double psnr = m::psnr(hush::backend::reference{}, ref, test), ssim = m::ssim(hush::backend::reference{}, ref, test);
  CHECK(ssim == doctest::Approx(f.arrays.at("ssim").values[0]).epsilon(1e-5));
  const auto dref = hush::to_device(ref), dtest = hush::to_device(test);
  // Row sums in double, added on the host in order: equal to the last bit on every backend.
  CHECK(m::psnr(hush::backend::cpu{}, ref, test) == psnr);
  CHECK(m::ssim(hush::backend::cpu{}, ref, test) == ssim);
  CHECK(m::psnr(hush::backend::thrust{}, dref, dtest) == psnr);
  CHECK(m::ssim(hush::backend::thrust{}, dref, dtest) == ssim);
  CHECK(m::ssim(hush::backend::thrust{}, dref, dref) == doctest::Approx(1.0));
}
