// Weights and checkpoints on disk: round trips, atomic writes, and every way a file can be wrong.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "hush/hush.hpp"
#include "hush/io/plot.hpp"
#include "hush/models/fashion_cnn.hpp"

namespace fs = std::filesystem;
using hush::models::fashion_cnn;

namespace {
struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("hush-io-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
  fs::path operator/(const std::string& name) const { return path / name; }
};
hush::tensor images(std::int64_t n, std::uint64_t stream) {
  hush::tensor t({n, 1, 28, 28});
  const hush::counter_rng rng{3};
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(stream, static_cast<std::uint64_t>(i));
  return t;
}
doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }
std::vector<float> copy(const hush::tensor& t) { return {t.values().begin(), t.values().end()}; }
using cnn_model = hush::model<fashion_cnn, hush::backend::cpu>;
std::vector<float> first_weights(cnn_model& m) { return copy(m.net.get<0>().weight.value.host()); }
void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("save then load gives bit-identical outputs") {
  temp_dir dir;
  cnn_model a({.seed = 1}, fashion_cnn({.width = 8})), b({.seed = 2}, fashion_cnn({.width = 8}));
  a.setup({4, 1, 28, 28});
  b.setup({4, 1, 28, 28});
  hush::save_weights(a.net, dir / "w.safetensors");
  const auto x = images(4, 1);
  const auto ya = copy(a.forward(x));
  CHECK(copy(b.forward(x)) != ya);
  hush::load_weights(b.net, dir / "w.safetensors");
  CHECK(copy(b.forward(x)) == ya);
  // Atomic: the temporary file is gone after the rename.
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("the file has PyTorch names, shapes and metadata") {
  temp_dir dir;
  cnn_model a({.seed = 1}, fashion_cnn({.width = 8}));
  a.setup({1, 1, 28, 28});
  hush::save_weights(a.net, dir / "w.safetensors");
  const auto f = hush::io::read_safetensors(dir / "w.safetensors");
  REQUIRE(f.arrays.count("0.weight"));
  CHECK(f.arrays.at("0.weight").dims == std::vector<std::int64_t>{8, 1, 3, 3});  // OIHW
  CHECK(f.arrays.at("9.bias").dims == std::vector<std::int64_t>{10});
  CHECK(f.arrays.size() == 8);
  CHECK(f.metadata.at("hush.architecture") == "fashion_cnn");
  CHECK(f.metadata.at("hush.structure") == hush::structure_hash(a.net));
  CHECK(f.metadata.at("format") == "pt");
}

TEST_CASE("a file that does not fit is rejected, names the file and the tensor, and changes nothing") {
  temp_dir dir;
  cnn_model small({.seed = 1}, fashion_cnn({.width = 8})), wide({.seed = 2}, fashion_cnn({.width = 16}));
  small.setup({1, 1, 28, 28});
  wide.setup({1, 1, 28, 28});
  const auto path = dir / "small.safetensors";
  hush::save_weights(small.net, path);
  const auto before = first_weights(wide);

  SUBCASE("another structure") {
    CHECK_THROWS_WITH(hush::load_weights(wide.net, path),
                      contains(path.string() + ": saved from a different structure (fashion_cnn"));
  }
  SUBCASE("wrong shapes, when the structure is not checked") {
    CHECK_THROWS_WITH(hush::load_weights(wide.net, path, {.check_structure = false}),
                      contains(path.string() +
                                        ": tensor '0.weight' has shape (8, 1, 3, 3), expected (16, 1, 3, 3); tensor "
                                        "'0.bias' has shape (8,), expected (16,)"));
  }
  SUBCASE("missing and unexpected tensors") {
    hush::io::safetensors_writer w;
    const float v[10] = {};
    w.add("9.bias", {10}, v);
    w.add("extra", {2}, v);
    w.write(dir / "partial.safetensors");
    CHECK_THROWS_WITH(hush::load_weights(wide.net, dir / "partial.safetensors"),
                      contains("partial.safetensors: missing tensor '0.weight'"));
    hush::io::safetensors_writer all_and_more;
    hush::add_weights(all_and_more, small.net);
    all_and_more.add("extra", {2}, v);
    all_and_more.write(dir / "more.safetensors");
    const auto small_before = first_weights(small);
    CHECK_THROWS_WITH(hush::load_weights(small.net, dir / "more.safetensors"),
                      ((dir / "more.safetensors").string() + ": unexpected tensor 'extra'").c_str());
    CHECK(first_weights(small) == small_before);
    hush::load_weights(small.net, dir / "more.safetensors", {.strict = false});  // extra tensors allowed
  }
  CHECK(first_weights(wide) == before);
}

TEST_CASE("corrupt and truncated files are rejected with the file's name") {
  temp_dir dir;
  cnn_model m({.seed = 1}, fashion_cnn({.width = 8}));
  m.setup({1, 1, 28, 28});
  const auto good = dir / "good.safetensors";
  hush::save_weights(m.net, good);
  const auto bytes = read_bytes(good);
  const auto bad = dir / "bad.safetensors";
  const auto before = first_weights(m);

  write_bytes(bad, bytes.substr(0, 5));
  CHECK_THROWS_WITH(hush::load_weights(m.net, bad), contains(bad.string() + ": truncated: 5 bytes"));
  write_bytes(bad, bytes.substr(0, 100));
  CHECK_THROWS_WITH(hush::load_weights(m.net, bad), contains("exceeds the file"));
  write_bytes(bad, bytes.substr(0, bytes.size() - 4));
  CHECK_THROWS_WITH(hush::load_weights(m.net, bad), contains("the file is truncated"));
  auto garbled = bytes;
  garbled[9] = '#';
  write_bytes(bad, garbled);
  CHECK_THROWS_WITH(hush::load_weights(m.net, bad), contains("header is not valid JSON"));
  CHECK_THROWS_WITH(hush::load_weights(m.net, dir / "absent.safetensors"), contains("absent.safetensors: no such file"));
  CHECK(first_weights(m) == before);
}

TEST_CASE("a failed save leaves the previous file intact") {
  temp_dir dir;
  cnn_model m({.seed = 1}, fashion_cnn({.width = 8}));
  m.setup({1, 1, 28, 28});
  // A file where a folder should be: refused before a temporary file is tried.
  write_bytes(dir / "not-a-dir", "x");
  CHECK_THROWS_WITH(hush::save_weights(m.net, dir / "not-a-dir" / "w.safetensors"),
                    contains("w.safetensors: the folder " + (dir / "not-a-dir").string() + " is not a folder"));
  // An unallocated network is refused before anything is written.
  fashion_cnn fresh({.width = 8});
  const auto path = dir / "w.safetensors";
  hush::save_weights(m.net, path);
  const auto saved = read_bytes(path);
  CHECK_THROWS_WITH(hush::save_weights(fresh, path), contains("is not allocated"));
  CHECK(read_bytes(path) == saved);
}

TEST_CASE_TEMPLATE("resuming from a checkpoint gives the same result as never stopping", Optimizer, hush::sgd, hush::adam) {
  temp_dir dir;
  const auto x = images(8, 1);
  const hush::index_tensor y({8}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto options = [] {
    if constexpr (std::is_same_v<Optimizer, hush::sgd>) return hush::sgd::options{.lr = 0.05f, .momentum = 0.9f};
    else return hush::adam::options{.lr = 1e-3f};
  };
  auto train = [&](cnn_model& m, Optimizer& opt, int steps) {
    hush::cross_entropy loss;
    for (int i = 0; i < steps; ++i) {
      m.zero_grad();
      loss.forward(m.ctx, m.forward(x), y);
      m.backward(loss.backward(m.ctx));
      opt.step(m.ctx.backend);
    }
  };
  cnn_model a({.seed = 1}, fashion_cnn({.width = 8}));
  a.setup(x.shape());
  Optimizer opt_a(a.net, options());
  train(a, opt_a, 3);
  hush::save_checkpoint(dir / "ckpt.safetensors", a.net, opt_a, {{"epoch", "3"}});
  train(a, opt_a, 3);

  cnn_model b({.seed = 99}, fashion_cnn({.width = 8}));
  b.setup(x.shape());
  Optimizer opt_b(b.net, options());
  const auto info = hush::load_checkpoint(dir / "ckpt.safetensors", b.net, opt_b);
  CHECK(info.at("epoch") == "3");
  CHECK(opt_b.steps() == 3);
  train(b, opt_b, 3);
  CHECK(first_weights(a) == first_weights(b));
  CHECK(copy(a.forward(x)) == copy(b.forward(x)));
}

// ---- curves (io/plot.hpp) ---------------------------------------------------------------------

TEST_CASE("plots: the legend takes the corner that hides the fewest points") {
  // The plot area is (70, 40) to (620, 365) in a 640 × 420 chart; values span -0.5 to 10.5
  // with the 5% margins, so 10 is drawn at y = 55 and 0 at y = 350. A one-line legend box is
  // 76 × 24 pixels; in the top-right corner it covers x 538..614, y 46..70.
  const auto at = [](const cv::Mat& m, int x, int y) { return m.at<cv::Vec3b>(y, x); };
  const cv::Vec3b white(255, 255, 255);
  const auto curve = [](cv::Vec3b v) { return v[0] > v[2] + 60; };  // the first colour, blue (BGR 180, 119, 31); not the grey grid
  // A curve that rises at once and stays at the top runs under the top-right corner: the legend
  // moves to the free bottom-right one, and the curve stays visible where it was hidden.
  hush::io::chart high{"high", "epoch", "value", {{"train", {0, 2, 4, 6, 8, 10}, {0, 10, 10, 10, 10, 10}}}};
  const cv::Mat a = hush::io::render(high, 640, 420);
  CHECK_MESSAGE(curve(at(a, 576, 55)), "the curve is hidden under the legend");
  CHECK(at(a, 545, 338) == white);  // inside the legend box, bottom right: its white ground
  // A curve along the bottom leaves the top-right corner free: the legend stays there.
  hush::io::chart low{"low", "epoch", "value", {{"train", {0, 2, 4, 6, 8, 10}, {10, 0, 0, 0, 0, 0}}}};
  const cv::Mat b = hush::io::render(low, 640, 420);
  CHECK(curve(at(b, 576, 350)));
  CHECK(at(b, 545, 50) == white);  // the legend's white ground, top right
}
