// Denoising end to end: photos of any size through a network (padding, tiles), and the
// image-to-image trainer on tiny photos: validation PSNR rises, resuming is exact, bad settings
// and bad photos are refused with a message.
#include <doctest/doctest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "hush/denoise/apply.hpp"
#include "hush/hush.hpp"
#include "hush/models/dncnn.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/train/denoiser.hpp"
#include "support.hpp"
#include "tiny_photos.hpp"

namespace fs = std::filesystem;
using hush::test::tiny_photos;
using hush::test::write_photo;
namespace m = hush::models;

namespace {

hush::tensor random_image(hush::shape s, std::uint64_t seed) {
  hush::tensor t(s);
  hush::init_uniform(t, hush::counter_rng(seed), 0, 1.0f);
  return t;
}
double max_difference(const hush::tensor& a, const hush::tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  return worst;
}

}  // namespace

TEST_CASE("reflect-101 padding indices, and tile starts that cover a side") {
  using hush::denoise::detail::reflect;
  CHECK(reflect(0, 5) == 0);
  CHECK(reflect(4, 5) == 4);
  CHECK(reflect(5, 5) == 3);  // the edge pixel is not repeated
  CHECK(reflect(8, 5) == 0);
  CHECK(reflect(9, 5) == 1);  // far past the edge, mirrored back again
  CHECK(reflect(7, 1) == 0);
  // A row copied with its mirrored margin: the same as indexing each pixel, wherever it starts.
  const std::vector<float> row{0, 1, 2, 3, 4};
  for (const auto& [x0, count] : {std::pair{0, 3}, {0, 5}, {2, 3}, {3, 6}, {0, 12}, {4, 1}, {6, 4}}) {
    std::vector<float> got(std::size_t(count), -1.0f);
    hush::denoise::detail::copy_reflected(row.data(), 5, x0, got.data(), count);
    for (std::int64_t j = 0; j < count; ++j) CHECK(got[std::size_t(j)] == row[std::size_t(reflect(x0 + j, 5))]);
  }
  const auto starts = hush::denoise::detail::tile_starts(1000, 256, 16);
  CHECK(starts.front() == 0);
  CHECK(starts.back() == 1000 - 256);
  for (std::size_t i = 1; i < starts.size(); ++i) CHECK(starts[i] - starts[i - 1] <= 256 - 2 * 16);
  CHECK(hush::denoise::detail::tile_starts(200, 256, 16) == std::vector<std::int64_t>{0});
}

TEST_CASE("any size: padded to the network's multiple and cropped back, the same as padding by hand") {
  hush::model<m::residual_unet, hush::backend::cpu> net({.seed = 3}, m::residual_unet({.channels = 3, .width = 4}));
  const auto image = random_image({3, 37, 45}, 1);
  const auto y = hush::denoise::apply(net, image);
  REQUIRE(y.shape() == hush::shape{3, 37, 45});
  // By hand: mirror to 64 × 64, run, crop the corner.
  hush::tensor padded({1, 3, 64, 64});
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t i = 0; i < 64; ++i)
      for (std::int64_t j = 0; j < 64; ++j)
        padded[(k * 64 + i) * 64 + j] = image[(k * 37 + hush::denoise::detail::reflect(i, 37)) * 45 + hush::denoise::detail::reflect(j, 45)];
  net.infer();
  const hush::tensor whole = net.forward(padded);
  hush::tensor cropped({3, 37, 45});
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t i = 0; i < 37; ++i)
      for (std::int64_t j = 0; j < 45; ++j) cropped[(k * 37 + i) * 45 + j] = whole[(k * 64 + i) * 64 + j];
  CHECK(max_difference(y, cropped) == 0.0);
  // Tiny and non-square: 5 × 3 pixels still come back as 5 × 3.
  CHECK(hush::denoise::apply(net, random_image({3, 5, 3}, 2)).shape() == hush::shape{3, 5, 3});
  CHECK_THROWS_AS(hush::denoise::apply(net, hush::tensor({1, 3, 8, 8})), hush::shape_error);
  CHECK_THROWS_WITH(hush::denoise::apply(net, image, {.tile = 48}), doctest::Contains("not a multiple of residual_unet's 32"));
}

TEST_CASE("tiles: a network that sees no further than the overlap gives the whole-image result") {
  // DnCNN with 5 layers sees 5 pixels each way; tiles of 32 with 8 pixels of overlap must agree
  // with one pass over the whole image, seams included, on every side.
  hush::model<hush::models::dncnn<5>, hush::backend::cpu> net({.seed = 5}, hush::models::dncnn<5>({.channels = 3, .width = 8}));
  const auto image = random_image({3, 83, 100}, 3);
  const auto whole = hush::denoise::apply(net, image, {.tile = 128});
  const auto tiled = hush::denoise::apply(net, image, {.tile = 32, .overlap = 8});
  CHECK(max_difference(whole, tiled) < 1e-5);
  // Too little overlap: the seams differ (the test can fail).
  CHECK(max_difference(whole, hush::denoise::apply(net, image, {.tile = 32, .overlap = 2})) > 1e-4);
  CHECK_THROWS_WITH(hush::denoise::apply(net, image, {.tile = 32, .overlap = 16}), doctest::Contains("under half the tile"));
}

TEST_CASE("tiles: each is reported as it is done, and a stop request ends the work between two") {
  hush::model<hush::models::dncnn<5>, hush::backend::cpu> net({.seed = 5}, hush::models::dncnn<5>({.channels = 3, .width = 8}));
  const auto image = random_image({3, 83, 100}, 3);
  std::vector<std::pair<std::int64_t, std::int64_t>> seen;
  hush::denoise::apply_options o{.tile = 32, .overlap = 8};
  o.on_tile = [&](std::int64_t done, std::int64_t total) { seen.emplace_back(done, total); };
  const auto whole = hush::denoise::apply(net, image, o);
  const auto total = std::int64_t(hush::denoise::detail::tile_starts(83, 32, 8).size() *
                                  hush::denoise::detail::tile_starts(100, 32, 8).size());
  REQUIRE(total == 5 * 6);  // starts 0, 16, 32, 48, 51 down; 0, 16, 32, 48, 64, 68 across
  REQUIRE(seen.size() == std::size_t(total));
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == std::pair<std::int64_t, std::int64_t>(std::int64_t(i) + 1, total));
  std::stop_source stop;
  o.stop = stop.get_token();
  o.on_tile = [&](std::int64_t done, std::int64_t) {
    if (done == 3) stop.request_stop();
  };
  CHECK_THROWS_WITH_AS(hush::denoise::apply(net, image, o), doctest::Contains("stopped after 3 of 30 tiles"), hush::cancelled);
  // A stop token that is never used changes nothing.
  o.stop = std::stop_source().get_token(), o.on_tile = {};
  CHECK(max_difference(hush::denoise::apply(net, image, o), whole) == 0);
}

TEST_CASE("photos: crops keyed by (seed, epoch, crop), flips, sizes checked with the file named") {
  hush::test::temp_dir dir("photos");
  write_photo(dir.path / "a.png", 60, 40, 0);
  write_photo(dir.path / "b.png", 50, 70, 1);
  const auto set = hush::data::photos::from_folder(dir.path);
  REQUIRE(set.size() == 2);
  CHECK(set.image(1).shape() == hush::shape{3, 70, 50});
  hush::tensor a({4, 3, 32, 32}), b({4, 3, 32, 32});
  const hush::counter_rng rng{9};
  set.crops(a, 0, 4, 32, rng, 1, 100);
  set.crops(b, 0, 4, 32, rng, 1, 100);
  CHECK(max_difference(a, b) == 0.0);  // the same keys, the same crops
  set.crops(b, 0, 4, 32, rng, 2, 100);
  CHECK(max_difference(a, b) > 0.0);
  hush::tensor big({1, 3, 64, 64});  // fits neither photo
  CHECK_THROWS_WITH(set.crops(big, 0, 1, 64, rng, 1, 0), doctest::Contains("smaller than the 64-pixel crop"));
  CHECK_THROWS_WITH(hush::data::photos::from_folder(dir.path, {.min_side = 45}), doctest::Contains("a.png: 60 x 40 pixels"));
  const auto shrunk = hush::data::photos::from_folder(dir.path, {.max_side = 35});
  CHECK(shrunk.image(0).shape() == hush::shape{3, 23, 35});
  hush::test::temp_dir empty("photos-empty");
  CHECK_THROWS_WITH(hush::data::photos::from_folder(empty.path), doctest::Contains("no images"));
}

namespace {
using small_unet = hush::model<m::residual_unet, hush::backend::cpu>;
small_unet make_unet() { return small_unet({.seed = 2}, m::residual_unet({.channels = 3, .width = 8})); }
hush::train::denoiser_options tiny_options(const fs::path& out) {
  hush::train::denoiser_options o;
  // 240 steps in all: fewer, and the network is still learning to pass the input through.
  o.epochs = 3, o.steps = 80, o.batch = 4, o.crop = 32, o.lr = 1e-2f;
  o.noise = hush::noise::parse_spec("gaussian(sigma=0.2)");
  o.out = out;
  o.title = "tiny";
  return o;
}
}  // namespace

TEST_CASE("the denoiser trainer: validation PSNR rises; log, curves and checkpoint written") {
  tiny_photos data;
  hush::test::temp_dir out("denoise-out");
  auto net = make_unet();
  const auto train = hush::data::photos::from_folder(data.train.path), val = hush::data::photos::from_folder(data.val.path);
  const auto h = hush::train::fit_denoiser(net, train, val, tiny_options(out.path));
  REQUIRE(h.epochs.size() == 3);
  MESSAGE("noisy " << h.noisy_psnr << " dB; epochs " << h.epochs[0].val_psnr << ", " << h.epochs[1].val_psnr << ", "
                   << h.epochs[2].val_psnr << " dB; loss " << h.epochs[0].train_loss << " -> " << h.epochs[2].train_loss);
  CHECK(h.noisy_psnr > 13.9);  // sigma 0.2: 13.98 dB, a little more where clipping at 0 and 1 cuts the noise
  CHECK(h.noisy_psnr < 14.8);
  CHECK(h.epochs[2].train_loss < h.epochs[0].train_loss);
  CHECK(h.epochs[2].val_psnr > h.epochs[0].val_psnr);
  CHECK(h.epochs[2].val_psnr > h.noisy_psnr + 0.8);  // it denoises (1.3 dB here), not only learns the identity
  CHECK(h.epochs[2].val_ssim > h.noisy_ssim);
  for (const char* f : {"log.csv", "curves.png", "checkpoint.safetensors"}) CHECK_MESSAGE(fs::exists(out.path / f), f);
  const auto parsed = hush::train::denoiser_history::parse(h.csv(), h.tenths_csv(), "test");
  CHECK(parsed.csv() == h.csv());
  CHECK(parsed.tenths.size() == h.tenths.size());
  CHECK_THROWS_WITH(hush::train::denoiser_history::parse(h.csv(), "0.1000,0.5,7\n", "ckpt"),
                    "ckpt: a row of its loss tenths has 3 cells, not 2");
  CHECK_THROWS_WITH(hush::train::denoiser_history::parse("epoch,loss\n", "", "ckpt"), "ckpt: its log has no header");
}

TEST_CASE("the denoiser trainer resumes exactly, and refuses a checkpoint of another run") {
  tiny_photos data;
  hush::test::temp_dir a("denoise-a"), b("denoise-b");
  const auto train = hush::data::photos::from_folder(data.train.path), val = hush::data::photos::from_folder(data.val.path);
  auto o = tiny_options(a.path);
  o.epochs = 2, o.steps = 6, o.pairs = hush::train::pairing::noise2noise;
  auto whole = make_unet();
  hush::train::fit_denoiser(whole, train, val, o);
  o.out = b.path, o.stop_after = 1;
  auto first = make_unet();
  hush::train::fit_denoiser(first, train, val, o);
  o.stop_after = 0, o.resume = true;
  auto second = make_unet();
  const auto h = hush::train::fit_denoiser(second, train, val, o);
  CHECK(h.epochs.size() == 2);
  std::vector<float> x, y;
  hush::for_each_parameter(whole.net, [&](std::string_view, hush::parameter& p) { x.insert(x.end(), p.value.host().values().begin(), p.value.host().values().end()); });
  hush::for_each_parameter(second.net, [&](std::string_view, hush::parameter& p) { y.insert(y.end(), p.value.host().values().begin(), p.value.host().values().end()); });
  CHECK(x == y);
  o.lr = 1e-4f;
  auto other = make_unet();
  CHECK_THROWS_WITH(hush::train::fit_denoiser(other, train, val, o), doctest::Contains("was written by another run"));
}

TEST_CASE("the denoiser trainer: Noise2Noise with masked L2 and with annealed L0 run; bad settings refused") {
  tiny_photos data;
  const auto train = hush::data::photos::from_folder(data.train.path), val = hush::data::photos::from_folder(data.val.path);
  auto o = tiny_options({});
  o.epochs = 1, o.steps = 3, o.pairs = hush::train::pairing::noise2noise;
  o.noise = hush::noise::parse_spec("bernoulli(p=0.5)");
  o.loss = hush::train::image_loss::masked_l2;
  auto a = make_unet();
  CHECK(std::isfinite(hush::train::fit_denoiser(a, train, val, o).epochs[0].train_loss));
  o.noise = hush::noise::parse_spec("impulse(amount=0.3)");
  o.loss = hush::train::image_loss::l0;
  auto b = make_unet();
  CHECK(std::isfinite(hush::train::fit_denoiser(b, train, val, o).epochs[0].train_loss));
  o.pairs = hush::train::pairing::supervised;
  o.loss = hush::train::image_loss::masked_l2;
  CHECK_THROWS_WITH(hush::train::fit_denoiser(b, train, val, o), doctest::Contains("needs noise2noise pairs"));
  o.loss = hush::train::image_loss::l2;
  o.crop = 80;
  CHECK_THROWS_WITH(hush::train::fit_denoiser(b, train, val, o), doctest::Contains("crop 80 is not a multiple of residual_unet's 32"));
  o.crop = 64;  // above the photos' 56 pixels
  CHECK_THROWS_WITH(hush::train::fit_denoiser(b, train, val, o), doctest::Contains("p0.png: 64 x 56 pixels, smaller than the 64-pixel crop"));
}
