// Data sets: image folders and CACD2000's naming through OpenCV, broken files, determinism.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "hush/data/image_folder.hpp"

namespace fs = std::filesystem;

namespace {
/// A folder of small images: w × h, every pixel of image k has value 10·k (+ a bright left column).
fs::path make_images(const std::string& name, const std::vector<std::string>& files, int w = 12, int h = 10) {
  const auto dir = fs::temp_directory_path() / ("hush-data-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  int k = 0;
  for (const auto& f : files) {
    fs::create_directories((dir / f).parent_path());
    cv::Mat m(h, w, CV_8UC3, cv::Scalar(10 * k, 10 * k, 10 * k));
    m.col(0).setTo(cv::Scalar(250, 250, 250));
    cv::imwrite((dir / f).string(), m);
    ++k;
  }
  return dir;
}
}  // namespace

TEST_CASE("image_folder: one sub-folder per class, classes sorted by name") {
  const auto dir = make_images("classes", {"dog/a.png", "cat/b.png", "cat/c.png", "emu/d.jpg"});
  auto set = hush::data::image_folder::by_class(dir, {.resize = 8, .train = false});
  CHECK(set.classes() == std::vector<std::string>{"cat", "dog", "emu"});
  REQUIRE(set.size() == 4);
  CHECK(set[0].label == 0);  // cat/b.png
  CHECK(set[2].label == 1);  // dog/a.png
  hush::tensor x;
  hush::index_tensor y;
  CHECK(set.load({0, 1, 2, 3}, 0, 4, x, y) == 4);
  CHECK(x.shape() == hush::shape{4, 3, 8, 8});
  CHECK(y[3] == 2);
  fs::remove_all(dir);
}

TEST_CASE("image_folder: CACD2000 names, the identity is the label") {
  using f = hush::data::image_folder;
  CHECK(f::parse_cacd_name("14_Aaron_Johnson_0001.jpg") == std::pair<std::string, int>{"Aaron_Johnson", 14});
  CHECK(f::parse_cacd_name("23_Mary_Kate_Olsen_0012.jpg") == std::pair<std::string, int>{"Mary_Kate_Olsen", 23});
  CHECK(f::parse_cacd_name("Aaron_Johnson_0001.jpg").first.empty());
  CHECK(f::parse_cacd_name("14_0001.jpg").first.empty());
  const auto dir = make_images("cacd", {"14_Aaron_Johnson_0001.jpg", "15_Aaron_Johnson_0002.jpg", "30_Zoe_Saldana_0001.jpg"});
  const auto set = f::cacd(dir, {.resize = 8});
  CHECK(set.classes() == std::vector<std::string>{"Aaron_Johnson", "Zoe_Saldana"});
  CHECK(set[1].label == 0);
  CHECK(set[1].age == 15);
  CHECK(set[2].label == 1);
  std::ofstream(dir / "portrait.jpg") << "x";
  CHECK_THROWS_WITH(f::cacd(dir), doctest::Contains("portrait.jpg: not named as CACD2000 names its images"));
  fs::remove_all(dir);
}

TEST_CASE("image_folder: a broken image stops the run, or is skipped and counted") {
  const auto dir = make_images("broken", {"a/1.png", "a/2.png", "b/3.png"});
  std::ofstream(dir / "b" / "4.png") << "not a png";
  auto strict = hush::data::image_folder::by_class(dir, {.resize = 8});
  hush::tensor x;
  hush::index_tensor y;
  CHECK_THROWS_WITH(strict.load({0, 1, 2, 3}, 0, 4, x, y), doctest::Contains("4.png: not an image hush reads"));
  auto lenient = hush::data::image_folder::by_class(dir, {.resize = 8, .broken = hush::data::on_broken::skip});
  CHECK(lenient.load({0, 1, 2, 3}, 0, 4, x, y) == 3);
  CHECK(x.shape()[0] == 3);
  CHECK(lenient.skipped() == 1);
  CHECK(lenient.skipped_files()[0].filename() == "4.png");
  CHECK_THROWS_WITH(hush::data::image_folder::by_class(dir / "missing"), doctest::Contains("missing: not a folder"));
  fs::remove_all(dir);
}

TEST_CASE("image_folder: random crops and flips are the same for a seed and epoch, and differ across epochs") {
  std::vector<std::string> files;
  for (int i = 0; i < 16; ++i) files.push_back("c/" + std::to_string(100 + i) + ".png");
  const auto dir = make_images("augment", files, 16, 16);
  auto set = hush::data::image_folder::by_class(dir, {.crop = 12, .flip = true, .channels = 1});
  std::vector<std::int64_t> order(16);
  std::iota(order.begin(), order.end(), 0);
  hush::tensor a, b, c;
  hush::index_tensor y;
  set.load(order, 0, 16, a, y, 1, hush::counter_rng{7});
  set.load(order, 0, 16, b, y, 1, hush::counter_rng{7});
  set.load(order, 0, 16, c, y, 2, hush::counter_rng{7});
  CHECK(a.shape() == hush::shape{16, 1, 12, 12});
  CHECK(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
  CHECK_FALSE(std::equal(a.values().begin(), a.values().end(), c.values().begin()));
  // Flips alone: the bright column ends up on the left, or mirrored on the right; both happen.
  auto flips = hush::data::image_folder::by_class(dir, {.flip = true, .channels = 1});
  flips.load(order, 0, 16, a, y, 1, hush::counter_rng{7});
  int right = 0, left = 0;
  for (int i = 0; i < 16; ++i) {
    const float* img = a.data() + i * 256;
    right += img[15] > 0.9f, left += img[0] > 0.9f;
  }
  CHECK(right + left == 16);
  CHECK(right > 0);
  CHECK(left > 0);
  fs::remove_all(dir);
}
