// Noise models: statistics on large samples, determinism, composition, resolution loss.
#include <doctest/doctest.h>

#include <cmath>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/layer.hpp"
#include "hush/noise/low_res.hpp"
#include "hush/noise/pixel.hpp"

namespace nz = hush::noise;
using hush::shape;

namespace {
const hush::counter_rng rng{2026};

/// One image of `s` (C, H, W) filled with v, corrupted by `noise` as image 0.
template <class Noise, class Backend = hush::backend::cpu>
hush::tensor corrupt(const Noise& noise, shape s, float v, std::uint64_t stream = nz::image_stream(0)) {
  const hush::basic_tensor<hush::memory_of<Backend>> x(hush::to(Backend{}, hush::tensor(s, v)));  // where it runs
  hush::basic_tensor<hush::memory_of<Backend>> y(s);
  noise.apply(Backend{}, rng, stream, s, x.data(), y.data());
  return hush::tensor(hush::to_host(y));
}
struct moments {
  double mean = 0, var = 0;
};
moments of(const hush::tensor& t, double scale = 1.0) {
  moments m;
  for (auto v : t.values()) m.mean += v * scale;
  m.mean /= double(t.numel());
  for (auto v : t.values()) m.var += (v * scale - m.mean) * (v * scale - m.mean);
  m.var /= double(t.numel());
  return m;
}
double fraction(const hush::tensor& t, auto&& pred) {
  std::int64_t k = 0;
  for (auto v : t.values()) k += pred(v);
  return double(k) / double(t.numel());
}
const shape big{1, 1000, 1000};  // 10^6 values: standard errors around 1e-3 of the quantities below
}  // namespace

TEST_CASE("gaussian and speckle: mean and variance") {
  const auto g = of(corrupt(nz::gaussian{0.1f}, big, 0.5f));
  CHECK(g.mean == doctest::Approx(0.5).epsilon(0.002));
  CHECK(g.var == doctest::Approx(0.01).epsilon(0.01));
  const auto s = of(corrupt(nz::speckle{0.2f}, big, 0.5f));  // y = x + x·σ·z: var = (0.5·0.2)²
  CHECK(s.mean == doctest::Approx(0.5).epsilon(0.002));
  CHECK(s.var == doctest::Approx(0.01).epsilon(0.01));
  CHECK(of(corrupt(nz::gaussian::from_variance(0.04f), big, 0.5f)).var == doctest::Approx(0.04).epsilon(0.01));
}

TEST_CASE("salt_pepper, bernoulli, impulse: the fraction of replaced values") {
  const auto sp = corrupt(nz::salt_pepper{0.1f}, big, 0.5f);
  CHECK(fraction(sp, [](float v) { return v != 0.5f; }) == doctest::Approx(0.1).epsilon(0.02));
  CHECK(fraction(sp, [](float v) { return v == 1.0f; }) == doctest::Approx(0.05).epsilon(0.03));
  const auto imp = corrupt(nz::impulse{0.2f}, big, 0.5f);
  CHECK(fraction(imp, [](float v) { return v != 0.5f; }) == doctest::Approx(0.2).epsilon(0.02));
  // Bernoulli drops whole pixels: all three channels of a pixel together.
  const auto b = corrupt(nz::bernoulli{0.3f}, {3, 500, 500}, 0.5f);
  CHECK(fraction(b, [](float v) { return v == 0.0f; }) == doctest::Approx(0.3).epsilon(0.02));
  std::int64_t split = 0;
  for (std::int64_t i = 0; i < 250000; ++i) split += !(b[i] == b[250000 + i] && b[i] == b[500000 + i]);
  CHECK(split == 0);
}

TEST_CASE("poisson: variance equals mean, in the exact and the approximated regime") {
  for (float lambda : {10.0f, 100.0f}) {
    INFO("lambda " << lambda);
    const float peak = lambda / 0.2f;
    const auto m = of(corrupt(nz::poisson{peak}, big, 0.2f), peak);  // counts = y·peak
    CHECK(m.mean == doctest::Approx(lambda).epsilon(0.003));
    CHECK(m.var == doctest::Approx(lambda).epsilon(0.01));
  }
}

TEST_CASE("zero intensity changes nothing; every result stays in [0, 1]") {
  hush::tensor x({3, 40, 40});
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(77, static_cast<std::uint64_t>(i));
  const shape s = x.shape();
  auto same = [&](const auto& noise) {
    hush::tensor y(s);
    noise.apply(hush::backend::cpu{}, rng, 5, s, x.data(), y.data());
    return std::equal(x.values().begin(), x.values().end(), y.values().begin());
  };
  CHECK(same(nz::gaussian{0.0f}));
  CHECK(same(nz::speckle{0.0f}));
  CHECK(same(nz::salt_pepper{0.0f}));
  CHECK(same(nz::bernoulli{0.0f}));
  CHECK(same(nz::impulse{0.0f}));
  for (const auto& y : {corrupt(nz::gaussian{2.0f}, s, 0.5f), corrupt(nz::speckle{3.0f}, s, 0.9f),
                        corrupt(nz::poisson{2.0f}, s, 0.9f)})
    CHECK(fraction(y, [](float v) { return v < 0.0f || v > 1.0f; }) == 0.0);
}

TEST_CASE("unclipped: a Noise2Noise target keeps the clean value as its mean, where clipping moves it") {
  // Near 0 and 1 the clipped noise's mean moves inward by several standard errors (1e-4 here).
  const auto dark = [](const auto& n) { return of(corrupt(n, big, 0.05f)).mean; };
  CHECK(dark(nz::gaussian{0.2f}) > 0.09);  // E[max(0.05 + 0.2 z, 0)] = 0.103
  CHECK(dark(nz::unclipped(nz::gaussian{0.2f})) == doctest::Approx(0.05).epsilon(0.02));
  CHECK(dark(nz::unclipped(nz::speckle{2.0f})) == doctest::Approx(0.05).epsilon(0.01));
  const auto bright = [](const auto& n) { return of(corrupt(n, big, 0.95f)).mean; };
  CHECK(bright(nz::poisson{5.0f}) < 0.88);  // counts of mean 4.75 cut at 5
  CHECK(bright(nz::unclipped(nz::poisson{5.0f})) == doctest::Approx(0.95).epsilon(0.003));
  // Through compositions; the models without clipping come back as they were.
  using gaussian_and_salt = nz::chain<nz::gaussian, nz::salt_pepper>;
  const auto mix = nz::unclipped(
      nz::one_of<gaussian_and_salt, nz::poisson>(gaussian_and_salt(nz::gaussian{0.1f}, nz::salt_pepper{0.05f}), nz::poisson{30.0f}));
  CHECK(mix.describe() == "one_of(gaussian(sigma=0.1, clip=off)+salt_pepper(amount=0.05), poisson(peak=30, clip=off))");
  CHECK(nz::gaussian{0.1f}.describe() == "gaussian(sigma=0.1)");
}

TEST_CASE("one seed, one image: on every backend and thread count") {
  const nz::chain<nz::gaussian, nz::salt_pepper, nz::poisson> mix({0.1f}, {0.05f}, {30.0f});
  const auto ref = corrupt<decltype(mix), hush::backend::reference>(mix, {3, 64, 64}, 0.4f);
  CHECK(ref.values()[0] != 0.4f);
  const auto cpu = corrupt<decltype(mix), hush::backend::cpu>(mix, {3, 64, 64}, 0.4f);
  const auto thr = corrupt<decltype(mix), hush::backend::thrust>(mix, {3, 64, 64}, 0.4f);
  const int threads = hush::threads();
  hush::set_threads(1);
  const auto one = corrupt<decltype(mix), hush::backend::cpu>(mix, {3, 64, 64}, 0.4f);
  hush::set_threads(threads);
  for (const auto* t : {&cpu, &thr, &one}) CHECK(std::equal(ref.values().begin(), ref.values().end(), t->values().begin()));
  // Another image index or salt gives another draw (Noise2Noise's two independent copies).
  const auto other = corrupt(mix, {3, 64, 64}, 0.4f, nz::image_stream(0, 1));
  CHECK_FALSE(std::equal(ref.values().begin(), ref.values().end(), other.values().begin()));
}

TEST_CASE("composition: one_of follows its weights; ranges draw per image") {
  const nz::one_of<nz::gaussian, nz::salt_pepper, nz::speckle> seed001({1.0f, 2.0f, 1.0f}, nz::gaussian{0.1f},
                                                                       nz::salt_pepper{0.05f}, nz::speckle{0.1f});
  int counts[3] = {};
  for (std::uint64_t i = 0; i < 4000; ++i) ++counts[seed001.choose(rng, nz::image_stream(i))];
  CHECK(counts[1] / 4000.0 == doctest::Approx(0.5).epsilon(0.06));
  CHECK(counts[0] / 4000.0 == doctest::Approx(0.25).epsilon(0.1));
  const nz::range r{0.02f, 0.07f};
  float lo = 1, hi = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const float v = r.draw(rng, nz::image_stream(i));
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  CHECK(lo >= 0.02f);
  CHECK(lo < 0.021f);
  CHECK(hi <= 0.07f);
  CHECK(hi > 0.069f);
  CHECK(seed001.describe() == "one_of(gaussian(sigma=0.1), salt_pepper(amount=0.05), speckle(sigma=0.1))");
  // The text names every setting that changes the images (a resumed run compares it); a default
  // setting is left out, so the texts of earlier runs stay as they were.
  CHECK(nz::salt_pepper{.amount = 0.05f, .salt_ratio = 0.3f}.describe() == "salt_pepper(amount=0.05, salt=0.3)");
  CHECK(nz::salt_pepper{.amount = 0.05f}.describe() == "salt_pepper(amount=0.05)");
  CHECK(nz::mixed_res{.factor = 4, .upsampling = nz::upsampling::bicubic}.describe() ==
        "mixed_res(factor=4, upsampling=bicubic, sharp=0.25..0.5)");
  CHECK(nz::mixed_res{.factor = 4}.describe() == "mixed_res(factor=4, sharp=0.25..0.5)");
}

TEST_CASE("low_res and mixed_res") {
  hush::tensor x({1, 8, 8});
  for (std::int64_t i = 0; i < 64; ++i) x[i] = float(i % 8) / 8.0f + float(i / 8) / 64.0f;
  hush::tensor y({1, 8, 8});
  nz::low_res{2, nz::upsampling::nearest}.apply(hush::backend::cpu{}, rng, 1, x.shape(), x.data(), y.data());
  for (std::int64_t i = 0; i < 8; i += 2)
    for (std::int64_t j = 0; j < 8; j += 2) {
      const float block = (x[i * 8 + j] + x[i * 8 + j + 1] + x[(i + 1) * 8 + j] + x[(i + 1) * 8 + j + 1]) / 4;
      CHECK(y[i * 8 + j] == doctest::Approx(block));
      CHECK(y[(i + 1) * 8 + j + 1] == y[i * 8 + j]);
    }
  // Seed 002's x7: Fashion-MNIST's 28 pixels to 4, each 7 x 7 block its mean.
  hush::tensor digit({1, 1, 28, 28}), coarse;
  for (std::int64_t i = 0; i < digit.numel(); ++i) digit[i] = rng.uniform(5, static_cast<std::uint64_t>(i));
  nz::apply_to_batch(hush::backend::cpu{}, nz::low_res{7, nz::upsampling::nearest}, rng, digit, coarse, 0);
  double block = 0;
  for (std::int64_t i = 7; i < 14; ++i)
    for (std::int64_t j = 14; j < 21; ++j) block += digit[i * 28 + j];
  CHECK(coarse[10 * 28 + 17] == doctest::Approx(block / 49).epsilon(1e-6));
  CHECK(coarse[7 * 28 + 14] == coarse[13 * 28 + 20]);
  const auto flat = corrupt(nz::low_res{4, nz::upsampling::bicubic}, {3, 16, 16}, 0.3f);
  CHECK(fraction(flat, [](float v) { return std::abs(v - 0.3f) > 1e-6f; }) == 0.0);  // a constant stays constant
  hush::tensor noisy({1, 32, 32});
  for (std::int64_t i = 0; i < noisy.numel(); ++i) noisy[i] = rng.uniform(3, static_cast<std::uint64_t>(i));
  hush::tensor mixed(noisy.shape());
  nz::mixed_res{4, nz::upsampling::nearest, {0.3f}}.apply(hush::backend::cpu{}, rng, 9, noisy.shape(), noisy.data(),
                                                          mixed.data());
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < noisy.numel(); ++i) same += noisy[i] == mixed[i];
  CHECK(double(same) / 1024 == doctest::Approx(0.3).epsilon(0.2));  // the sharp rectangle, ~30% of the area
}

TEST_CASE("apply_to_batch keys each image by its data-set index") {
  hush::tensor batch({4, 1, 8, 8}, 0.5f), a, b;
  nz::apply_to_batch(hush::backend::cpu{}, nz::gaussian{0.2f}, rng, batch, a, 10);
  hush::tensor one({1, 1, 8, 8}, 0.5f);
  nz::apply_to_batch(hush::backend::cpu{}, nz::gaussian{0.2f}, rng, one, b, 12);
  CHECK(std::equal(b.values().begin(), b.values().end(), a.values().begin() + 2 * 64));
}

TEST_CASE("low_res and mixed_res are kernels: the same numbers on every backend, in place or not") {
  hush::tensor batch({3, 3, 19, 21});  // sizes that the factors do not divide: border blocks are cut
  for (std::int64_t i = 0; i < batch.numel(); ++i) batch[i] = rng.uniform(7, static_cast<std::uint64_t>(i));
  const auto check = [&](const auto& noise) {
    INFO(noise.describe());
    hush::tensor ref;
    nz::apply_to_batch(hush::backend::reference{}, noise, rng, batch, ref, 4);
    CHECK_FALSE(std::equal(ref.values().begin(), ref.values().end(), batch.values().begin()));
    hush::tensor cpu, in_place = batch;
    nz::apply_to_batch(hush::backend::cpu{}, noise, rng, batch, cpu, 4);
    nz::apply_to_batch(hush::backend::cpu{}, noise, rng, in_place, in_place, 4);
    hush::device_tensor on_device;
    nz::apply_to_batch(hush::backend::thrust{}, noise, rng, hush::to_device(batch), on_device, 4);
    hush::tensor thrust = hush::to_host(on_device);
    for (const hush::tensor* t : {&cpu, &in_place, &thrust}) CHECK(std::equal(ref.values().begin(), ref.values().end(), t->values().begin()));
  };
  static_assert(!nz::runs_on_host(nz::low_res{}) && !nz::runs_on_host(nz::mixed_res{}));
  check(nz::low_res{2, nz::upsampling::nearest});
  check(nz::low_res{4, nz::upsampling::bicubic});
  check(nz::low_res{0, nz::upsampling::random});
  check(nz::mixed_res{4, nz::upsampling::bicubic, {0.2f, 0.5f}});
}

namespace {
/// A noise only the host can apply (as OpenCV's text rendering): it inverts the image.
struct host_invert {
  static constexpr const char* kind = "host_invert";
  static constexpr bool host_only = true;
  template <class B>
  void apply(B, const hush::counter_rng&, std::uint64_t, const shape& img, const float* x, float* y) const {
    for (std::int64_t i = 0; i < img.numel(); ++i) y[i] = 1.0f - x[i];
  }
  std::string describe() const { return "host_invert"; }
};
}  // namespace

TEST_CASE("host-only noise on device tensors: moved to the host and back, the same numbers") {
  const nz::chain<nz::gaussian, host_invert> both(nz::gaussian{0.1f}, host_invert{});
  static_assert(nz::runs_on_host(host_invert{}) && !nz::runs_on_host(nz::gaussian{}));
  CHECK(nz::runs_on_host(both));
  hush::tensor batch({2, 3, 16, 16});
  for (std::int64_t i = 0; i < batch.numel(); ++i) batch[i] = float(i % 97) / 97.0f;
  hush::tensor on_host;
  nz::apply_to_batch(hush::backend::cpu{}, both, rng, batch, on_host, 4);
  hush::device_tensor on_device;
  nz::apply_to_batch(hush::backend::thrust{}, both, rng, hush::to_device(batch), on_device, 4);
  const auto back = hush::to_host(on_device);
  CHECK(std::equal(on_host.values().begin(), on_host.values().end(), back.values().begin()));
  CHECK_FALSE(std::equal(on_host.values().begin(), on_host.values().end(), batch.values().begin()));
}

TEST_CASE("noise as a layer: corrupts in training with an identity gradient, passes through in eval") {
  using layer = nz::noise_layer<nz::gaussian>;
  hush::seq<layer, hush::conv2d> net(layer(nz::gaussian{0.2f}), hush::conv2d({.in = 1, .out = 2, .kernel = 3}));
  hush::context<hush::backend::cpu> ctx(3);
  net.setup(ctx, {2, 1, 8, 8});
  hush::tensor x({2, 1, 8, 8}, 0.5f);
  const auto& noisy = net.get<0>().forward(ctx, x);
  CHECK(&noisy != &x);
  CHECK(of(noisy).var > 0.01);
  const std::vector<float> first(noisy.values().begin(), noisy.values().end());
  ctx.step = 1;
  const auto& second = net.get<0>().forward(ctx, x);
  CHECK(std::vector<float>(second.values().begin(), second.values().end()) != first);  // a new draw each step
  hush::tensor dy({2, 1, 8, 8}, 1.0f);
  CHECK(&net.get<0>().backward(ctx, x, dy) == &dy);
  ctx.mode = hush::mode::eval;
  CHECK(&net.get<0>().forward(ctx, x) == &x);
}

TEST_CASE("transform and Noise2Noise pairs") {
  nz::transform<nz::salt_pepper> t(nz::salt_pepper{0.2f}, rng);
  hush::tensor clean({2, 1, 16, 16}, 0.5f);
  const std::vector<float> a(t(hush::backend::cpu{}, clean, 100).values().begin(), t(hush::backend::cpu{}, clean, 100).values().end());
  const std::vector<float> again(t(hush::backend::cpu{}, clean, 100).values().begin(), t(hush::backend::cpu{}, clean, 100).values().end());
  const std::vector<float> next_epoch(t(hush::backend::cpu{}, clean, 100, 1).values().begin(),
                                      t(hush::backend::cpu{}, clean, 100, 1).values().end());
  CHECK(a == again);
  CHECK(a != next_epoch);
  const auto [input, target] = nz::noise2noise_pair(hush::backend::cpu{}, nz::gaussian{0.1f}, rng, clean, 0);
  // Independent draws: the two copies' noises are uncorrelated.
  double s = 0, sa = 0, sb = 0;
  for (std::int64_t i = 0; i < input.numel(); ++i) {
    const double u = input[i] - 0.5, v = target[i] - 0.5;
    s += u * v, sa += u * u, sb += v * v;
  }
  CHECK(std::abs(s / std::sqrt(sa * sb)) < 0.15);  // |correlation| over 512 values: 3.4 standard errors
  // The input is clipped as a photo is; the target is not, so that its mean is the clean image.
  const hush::tensor dark({2, 1, 16, 16}, 0.02f);
  const auto [in, out] = nz::noise2noise_pair(hush::backend::cpu{}, nz::gaussian{0.1f}, rng, dark, 0);
  CHECK(fraction(in, [](float v) { return v < 0.0f; }) == 0.0);
  CHECK(fraction(out, [](float v) { return v < 0.0f; }) > 0.3);  // P(z < -0.2) = 0.42
}
