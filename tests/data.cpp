// Data sets: image folders and CACD2000's naming through OpenCV, broken files, determinism.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

#include "hush/data/image_folder.hpp"
#include "hush/data/model_card.hpp"
#include "hush/data/prefetch.hpp"
#include "support.hpp"

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

TEST_CASE("prefetcher: items in order whatever the thread count, a failure reaches the caller at its item") {
  const auto run = [](int threads, int depth) {
    std::vector<std::int64_t> got;
    hush::data::prefetcher<std::vector<std::int64_t>> items(50, threads, depth, [](std::int64_t k, std::vector<std::int64_t>& slot) {
      slot.assign(std::size_t(k % 7 + 1), k * k);  // a slot refilled with another size each time
    });
    for (int k = 0; k < 50; ++k) {
      const auto& slot = items.next();
      got.push_back(slot.front() + std::int64_t(slot.size()));
    }
    CHECK_THROWS_WITH(items.next(), "prefetcher: all 50 items were taken");
    return got;
  };
  const auto reference = run(0, 1);
  CHECK(reference[7] == 49 + 1);
  CHECK(run(1, 2) == reference);
  CHECK(run(3, 4) == reference);
  for (int threads : {0, 2}) {
    hush::data::prefetcher<int> failing(10, threads, 3, [](std::int64_t k, int& slot) {
      if (k == 6) throw hush::io_error("broken.png: cannot decode");
      slot = int(k);
    });
    for (int k = 0; k < 6; ++k) CHECK(failing.next() == k);  // everything before the failure arrives
    CHECK_THROWS_WITH_AS(failing.next(), "broken.png: cannot decode", hush::io_error);
    // Asked again, it says so rather than waiting for an item no thread will make.
    CHECK_THROWS_WITH_AS(failing.next(),
                         "prefetcher: item 7 was not made: making item 6 failed before it (that error was reported "
                         "when item 6 was asked for)",
                         hush::error);
  }
  CHECK_THROWS_WITH(hush::data::prefetcher<int>(1, 2, 1, [](std::int64_t, int&) {}),
                    "prefetcher: background threads need a depth of at least 2");
}

TEST_CASE("prefetcher: a consumer slower than the makers waits for nothing") {
  hush::data::prefetcher<int> items(6, 1, 3, [](std::int64_t k, int& slot) { slot = int(k); });
  for (int k = 0; k < 6; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the step
    CHECK(items.next() == k);
  }
  CHECK(items.waited_seconds() < 0.05);  // each item had a 20 ms step to be made in (for a copy of an int)
}

TEST_CASE("class names: Fashion-MNIST's, a file's (one per line), the metadata's form; bad lists named") {
  namespace d = hush::data;
  REQUIRE(d::fashion_mnist_class_names().size() == 10);
  CHECK(d::fashion_mnist_class_names()[9] == "Ankle boot");
  const auto joined = d::join_class_names(d::fashion_mnist_class_names());
  CHECK(d::split_class_names(joined, "meta") == d::fashion_mnist_class_names());
  CHECK(d::split_class_names("cat\r\ndog\r\n", "f") == std::vector<std::string>{"cat", "dog"});  // a Windows file
  CHECK_THROWS_WITH(d::split_class_names("cat\n\ndog\n", "list.txt"), "list.txt: class name 2 is an empty line");
  CHECK_THROWS_WITH(d::join_class_names({"a\nb"}), doctest::Contains("holds a line break"));
  const hush::test::temp_dir dir("class-names");
  CHECK_THROWS_WITH(d::read_class_names(dir.path / "none.txt"), doctest::Contains("none.txt: cannot read the class names"));
  {
    std::ofstream f(dir.path / "names.txt");
    f << "tench\ngoldfish\n";
  }
  CHECK(d::read_class_names(dir.path / "names.txt") == std::vector<std::string>{"tench", "goldfish"});
}
