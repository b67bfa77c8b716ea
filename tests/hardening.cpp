// Bad input, as a careless or hostile user gives it (issue 15): every reader and writer either
// refuses with a message naming the file and what is wrong, leaving nothing behind, or converts
// correctly. docs/reliability.md lists each case with the test that checks it; the tools' own
// cases are in tests/tools.sh.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "hush/hush.hpp"
#include "hush/io/opencv.hpp"
#include "hush/noise/spec.hpp"

namespace fs = std::filesystem;

namespace {
struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("hush-hardening-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
  fs::path operator/(const std::string& name) const { return path / name; }
};
doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }
void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
/// A safetensors file with this JSON header and `data` after it.
std::string safetensors(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  const std::uint64_t len = header.size();
  std::memcpy(out.data(), &len, 8);
  return out + header + data;
}
/// Names of the files in `dir`.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

// ---- writes never replace what they should not -------------------------------------------

TEST_CASE("atomic writes: a symlink, FIFO, device or directory at the path is refused and left as it was") {
  temp_dir dir;
  write_bytes(dir / "target.txt", "precious");
  fs::create_symlink(dir / "target.txt", dir / "link.txt");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  fs::create_directory(dir / "folder");
  CHECK_THROWS_WITH_AS(hush::io::write_file_atomically(dir / "link.txt", "new"), contains("is a symbolic link"), hush::io_error);
  CHECK(fs::is_symlink(dir / "link.txt"));
  CHECK(read_bytes(dir / "target.txt") == "precious");
  CHECK_THROWS_WITH_AS(hush::io::write_file_atomically(dir / "fifo", "new"), contains("is a FIFO"), hush::io_error);
  CHECK(fs::is_fifo(dir / "fifo"));
  CHECK_THROWS_WITH_AS(hush::io::write_file_atomically(dir / "folder", "new"), contains("is a directory"), hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::write_file_atomically("/dev/null", "new"), contains("/dev/null: is a character device"),
                       hush::io_error);
  CHECK(fs::is_character_file("/dev/null"));
  CHECK(listing(dir.path) == std::vector<std::string>{"fifo", "folder", "link.txt", "target.txt"});  // no temporaries
}

TEST_CASE("atomic writes: a missing folder is an error, not created") {
  temp_dir dir;
  CHECK_THROWS_WITH_AS(hush::io::write_file_atomically(dir / "no" / "such" / "file.txt", "x"),
                       contains("the folder " + (dir / "no" / "such").string() + " does not exist"), hush::io_error);
  CHECK_FALSE(fs::exists(dir / "no"));
}

TEST_CASE("atomic writes: temporaries left by a killed write are removed by the next write") {
  temp_dir dir;
  write_bytes(dir / ".weights.safetensors.AbC123", "half a file");  // what mkstemp names it
  write_bytes(dir / ".other.txt.AbC123", "someone else's");
  write_bytes(dir / ".weights.safetensors.b-kup1", "not mkstemp's");  // not six letters or digits
  hush::io::write_file_atomically(dir / "weights.safetensors", "whole");
  CHECK(listing(dir.path) == std::vector<std::string>{".other.txt.AbC123", ".weights.safetensors.b-kup1", "weights.safetensors"});
}

TEST_CASE("atomic writes without the disk flush or the stale scan (a server's short-lived files)") {
  temp_dir dir;
  write_bytes(dir / ".out.png.AbC123", "left by a killed write");
  hush::io::write_file_atomically(dir / "out.png", "whole", 5, {.sync = false, .remove_stale = false});
  CHECK(read_bytes(dir / "out.png") == "whole");
  CHECK(listing(dir.path) == std::vector<std::string>{".out.png.AbC123", "out.png"});  // not looked for
  hush::io::write_file_atomically(dir / "out.png", "again");                          // the default looks
  CHECK(listing(dir.path) == std::vector<std::string>{"out.png"});
}

TEST_CASE("atomic writes: the file gets 0666 less the umask, as a file any program creates") {
  temp_dir dir;
  const auto mode = [&](const char* name) {
    struct ::stat st {};
    REQUIRE(::stat((dir / name).c_str(), &st) == 0);
    return st.st_mode & 0777;
  };
  const ::mode_t before = ::umask(022);
  hush::io::write_file_atomically(dir / "shared.txt", "x");
  const auto shared = mode("shared.txt");
  ::umask(077);
  hush::io::write_file_atomically(dir / "private.txt", "x");
  hush::io::write_file_atomically(dir / "shared.txt", "replaced");  // a new file: this umask's mode
  ::umask(before);
  CHECK(shared == 0644);
  CHECK(mode("private.txt") == 0600);
  CHECK(mode("shared.txt") == 0600);
  CHECK(read_bytes(dir / "shared.txt") == "replaced");
}

TEST_CASE("an output that is the input is refused, by any of its names") {
  temp_dir dir;
  write_bytes(dir / "in.png", "x");
  fs::create_hard_link(dir / "in.png", dir / "same.png");
  CHECK_THROWS_WITH_AS(hush::io::check_not_input(dir / "same.png", dir / "in.png"), contains("is the input"), hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::check_not_input(dir / "." / "in.png", dir / "in.png"), contains("is the input"), hush::io_error);
  CHECK_NOTHROW(hush::io::check_not_input(dir / "out.png", dir / "in.png"));  // not there yet: fine
}

TEST_CASE("an output folder that is a file is found before any work") {
  temp_dir dir;
  write_bytes(dir / "results", "a file");
  CHECK_THROWS_WITH_AS(hush::io::check_output_folder(dir / "results", {"log.csv"}), contains("the output folder is a file"),
                       hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::check_output_folder(dir / "results" / "run", {"log.csv"}),
                       contains("cannot be made, " + (dir / "results").string() + " is a file"), hush::io_error);
  hush::io::check_output_folder(dir / "new" / "run", {"log.csv"});  // made at the first write, not before
  CHECK_FALSE(fs::exists(dir / "new"));
  fs::create_directories(dir / "new" / "run");
  fs::create_symlink(dir / "results", dir / "new" / "run" / "log.csv");
  CHECK_THROWS_WITH_AS(hush::io::check_output_folder(dir / "new" / "run", {"log.csv"}), contains("log.csv: is a symbolic link"),
                       hush::io_error);
}

// ---- safetensors: checked before anything is allocated ------------------------------------

TEST_CASE("safetensors: shapes whose product overflows or passes the file are refused") {
  temp_dir dir;
  const auto refused = [&](const std::string& header, const std::string& data, const std::string& why) {
    write_bytes(dir / "bad.safetensors", safetensors(header, data));
    CHECK_THROWS_WITH_AS(hush::io::read_safetensors(dir / "bad.safetensors"), contains(why), hush::io_error);
  };
  // [16, 2^62, 2, 2] multiplies to 0 mod 2^64: it passed the old size check with no data.
  refused(R"({"w":{"dtype":"F32","shape":[16,4611686018427387904,2,2],"data_offsets":[0,0]}})", "",
          "tensor 'w': shape [16,4611686018427387904,2,2] needs more values than the file's 0 data bytes hold");
  refused(R"({"x":{"dtype":"F32","shape":[1,1,4294967296,4294967296],"data_offsets":[0,0]}})", "", "needs more values");
  refused(R"({"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}})", std::string(16, '\0'),
          "needs more values");
  refused(R"({"x":{"dtype":"F32","shape":[1e30],"data_offsets":[0,4]}})", std::string(4, '\0'),
          "tensor 'x': extent 1e+30 is not a non-negative integer");
  refused(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0'), "extent -1 is not");
  refused(R"({"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}})", std::string(4, '\0'), "extent 2.5 is not");
  refused(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", std::string(4, '\0'), "data offset -4 is not");
  refused(R"({"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", std::string(4, '\0'),
          "at most 8 extents");
}

TEST_CASE("safetensors: duplicate names and overlapping data are refused") {
  temp_dir dir;
  write_bytes(dir / "dup.safetensors",
              safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                          std::string(8, '\0')));
  CHECK_THROWS_WITH_AS(hush::io::read_safetensors(dir / "dup.safetensors"), contains("tensor 'w' is named twice"), hush::io_error);
  write_bytes(dir / "overlap.safetensors",
              safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},)"
                          R"("c":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                          std::string(24, '\0')));
  CHECK_THROWS_WITH_AS(hush::io::read_safetensors(dir / "overlap.safetensors"),
                       contains("tensors 'a' and 'c' overlap in the data (bytes 8 to 16)"), hush::io_error);
  write_bytes(dir / "touching.safetensors",  // end to end, and an empty tensor anywhere: fine
              safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                          R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                          std::string(12, '\0')));
  CHECK(hush::io::read_safetensors(dir / "touching.safetensors").arrays.size() == 3);
}

TEST_CASE("safetensors: a header nested 100,000 deep is refused without recursion") {
  temp_dir dir;
  std::string deep = R"({"__metadata__":{"k":)";  // appended piecewise: GCC 12 misreports operator+ here (PR 105329)
  deep.append(100'000, '[').append(100'000, ']').append("}}");
  write_bytes(dir / "deep.safetensors", safetensors(deep));
  CHECK_THROWS_WITH_AS(hush::io::read_safetensors(dir / "deep.safetensors"), contains("header nests deeper than 16 levels"),
                       hush::io_error);
}

// ---- idx: the header first, the data only up to what it declares -------------------------

namespace {
std::string idx_header(std::initializer_list<std::uint32_t> dims) {
  std::string h = {0, 0, 8, static_cast<char>(dims.size())};
  for (auto d : dims) h += {char(d >> 24), char(d >> 16), char(d >> 8), char(d)};
  return h;
}
void write_gz(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}
}  // namespace

TEST_CASE("idx: extents that overflow or are zero, truncated data and compressed bombs are refused") {
  temp_dir dir;
  const auto refused = [&](const std::string& bytes, const std::string& why) {
    write_gz(dir / "bad.gz", bytes);
    CHECK_THROWS_WITH_AS(hush::data::read_idx(dir / "bad.gz"), contains(why), hush::io_error);
  };
  // 2^31 · 2^31 · 4 = 2^64: 0 modulo 2^64, which once passed as an empty file.
  refused(idx_header({0x80000000u, 0x80000000u, 4}), "its extents multiply past 2^63 values");
  refused(idx_header({0, 28, 28}), "extent 0 is 0");
  refused(idx_header({1000, 28, 28}) + std::string(100, '\0'), "expected 784000 values after the header, found 100");
  // A bomb: a 10-value header over 50 MB of zeros (a 50 KB file) stops after the 11th byte.
  refused(idx_header({10}) + std::string(50'000'000, '\0'), "more data than the header's 10 values");
  refused(std::string("\x00\x00\x09\x01", 4), "not an idx file of unsigned bytes");
  write_gz(dir / "good.gz", idx_header({2, 3}) + std::string("\x01\x02\x03\x04\x05\x06", 6));
  const auto t = hush::data::read_idx(dir / "good.gz");
  CHECK(t.shape() == hush::shape{2, 3});
  CHECK(t[5] == 6.0f);
}

// ---- noise specs: every parameter once, finite, and nesting bounded ---------------------

TEST_CASE("noise spec: empty, repeated, non-finite and range-on-a-number values are refused") {
  const auto refused = [](const std::string& text, const std::string& why) {
    CHECK_THROWS_WITH_AS(hush::noise::parse_spec(text), contains(why), hush::noise::spec_error);
  };
  refused("gaussian(sigma=)", "gaussian: sigma= has no value");
  refused("gaussian(sigma=0.1, sigma=0.2)", "gaussian: sigma is given twice");
  refused("gaussian(sigma=inf)", "sigma=inf is not finite");
  refused("gaussian(sigma=0..inf)", "is not finite");
  refused("gaussian(sigma=nan)", "is not finite");
  refused("gaussian(sigma=1e39)", "is not a number");  // beyond float
  refused("salt_pepper(salt=0.2..0.8)", "salt_pepper: salt is one number, not a range");
  CHECK_NOTHROW(hush::noise::parse_spec("salt_pepper(amount=0.1..0.2, salt=0.3)"));
  // What a model's text says parses back to the same model (a resumed run compares the texts).
  for (const char* spec : {"salt_pepper(amount=0.05, salt=0.3)", "mixed_res(factor=4, upsampling=bicubic, sharp=0.25..0.5)",
                           "gaussian(var=0.01, clip=off)", "poisson(peak=5..50, clip=off)"})
    CHECK(hush::noise::parse_spec(spec).describe() == spec);
  CHECK(hush::noise::parse_spec("speckle(clip=on)").describe() == "speckle(sigma=0.1)");
  refused("gaussian(clip=no)", "gaussian: clip must be on or off, not 'no'");
  refused("salt_pepper(clip=off)", "salt_pepper: unknown parameter 'clip'");
  // A Noise2Noise target's noise: clipping off through chains and one_of (noise::unclipped).
  CHECK(hush::noise::unclipped(hush::noise::parse_spec("one_of(n2n_gaussian+impulse, speckle)")).describe() ==
        "one_of(gaussian(sigma=0..0.196, clip=off)+impulse(amount=0.1), speckle(sigma=0.1, clip=off))");
  refused("low_res(factor=1)", "factor must be a whole number from 2 to 16");
  refused("low_res(factor=2.5)", "factor must be a whole number from 2 to 16");
  refused("low_res(factor=17)", "factor must be a whole number from 2 to 16");
  CHECK(hush::noise::parse_spec("low_res(factor=7)").describe() == "low_res(factor=7, upsampling=nearest)");  // seed 002's
}

TEST_CASE("noise spec: a parsed noise knows whether it must run on the host (text, drawn by OpenCV)") {
  CHECK(hush::noise::parse_spec("gaussian(sigma=0.1)+text").runs_on_host());
  CHECK(hush::noise::parse_spec("one_of(gaussian, text)").runs_on_host());
  CHECK_FALSE(hush::noise::parse_spec("gaussian(sigma=0.1)+low_res(factor=2)+mixed_res").runs_on_host());
  CHECK_FALSE(hush::noise::parse_spec("gaussian(sigma=0.1)+salt_pepper(amount=0.05)").runs_on_host());
}

TEST_CASE("noise spec: one_of nested 16,000 deep is refused at the 33rd level") {
  std::string deep;
  for (int i = 0; i < 16'000; ++i) deep += "one_of(";
  deep += "gaussian";
  for (int i = 0; i < 16'000; ++i) deep += ")";
  CHECK_THROWS_WITH_AS(hush::noise::parse_spec(deep), contains("one_of nested more than 32 deep"), hush::noise::spec_error);
  std::string ok;
  for (int i = 0; i < 32; ++i) ok += "one_of(";
  ok += "gaussian" + std::string(32, ')');
  CHECK_NOTHROW(hush::noise::parse_spec(ok));
}

// ---- inputs: named for what they are ------------------------------------------------------

TEST_CASE("inputs: a folder, a device or a missing file is named as such by every reader") {
  temp_dir dir;
  fs::create_directory(dir / "folder.safetensors");
  CHECK_THROWS_WITH_AS(hush::io::read_safetensors(dir / "folder.safetensors"), contains("folder.safetensors: is a directory, not a file"),
                       hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::read_safetensors("/dev/zero"), contains("/dev/zero: is a character device, not a file"),
                       hush::io_error);
  CHECK_THROWS_WITH_AS(hush::data::read_idx(dir / "folder.safetensors"), contains("is a directory, not a file"), hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::read_safetensors(dir / "absent"), contains("absent: no such file"), hush::io_error);
}

TEST_CASE("explain: the standard library's terse messages in words") {
  CHECK(hush::explain(std::bad_alloc()).starts_with("out of memory"));
  CHECK(hush::explain(std::invalid_argument("stoi")) == "a number could not be read (stoi)");
  CHECK(hush::explain(hush::io_error("x.png: no such file")) == "x.png: no such file");
}

// ---- images: sized from the header before decoding, scaled by their depth -----------------

TEST_CASE("images: the size is read from the header of every format hush probes") {
  temp_dir dir;
  cv::Mat m(23, 37, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* ext : {".png", ".jpg", ".bmp", ".ppm", ".pgm", ".tif", ".webp"}) {
    const auto path = dir / (std::string("x") + ext);
    cv::Mat out = m;
    if (std::string(ext) == ".pgm") cv::cvtColor(m, out, cv::COLOR_BGR2GRAY);
    REQUIRE(cv::imwrite(path.string(), out));
    const auto size = hush::io::read_image_size(path);
    INFO(ext);
    REQUIRE(size.has_value());
    CHECK(size->width == 37);
    CHECK(size->height == 23);
  }
  write_bytes(dir / "x.txt", "not an image at all");
  CHECK_FALSE(hush::io::read_image_size(dir / "x.txt").has_value());
}

TEST_CASE("images: a TIFF width of a type other than SHORT or LONG is unknown, not 2^32 - 1") {
  temp_dir dir;
  // "II*", the first IFD at 8, two entries: ImageWidth as a RATIONAL (type 5), ImageLength a SHORT.
  const auto le16 = [](std::uint16_t v) { return std::string{char(v & 0xFF), char(v >> 8)}; };
  const auto le32 = [&](std::uint32_t v) { return le16(std::uint16_t(v & 0xFFFF)) + le16(std::uint16_t(v >> 16)); };
  const auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint32_t value) {
    return le16(tag) + le16(type) + le32(1) + le32(value);
  };
  write_bytes(dir / "odd.tif", std::string("II*\0", 4) + le32(8) + le16(2) + entry(256, 5, 37) + entry(257, 3, 23) + le32(0));
  CHECK_FALSE(hush::io::read_image_size(dir / "odd.tif").has_value());
}

TEST_CASE("images: a small file claiming an enormous picture is refused before decoding") {
  temp_dir dir;
  REQUIRE(cv::imwrite((dir / "small.png").string(), cv::Mat(4, 4, CV_8UC1, cv::Scalar(7))));
  auto bytes = read_bytes(dir / "small.png");
  for (int i = 0; i < 2; ++i) {  // IHDR: width and height, big-endian, at 16 and 20: 20000 x 20000
    bytes[std::size_t(16 + 4 * i)] = 0, bytes[std::size_t(17 + 4 * i)] = 0;
    bytes[std::size_t(18 + 4 * i)] = char(20000 >> 8), bytes[std::size_t(19 + 4 * i)] = char(20000 & 0xFF);
  }
  write_bytes(dir / "huge.png", bytes);
  CHECK_THROWS_WITH_AS(hush::io::read_image(dir / "huge.png"),
                       contains("huge.png: 20000 x 20000 pixels, above the limit of 50000000 (raise it with --max-pixels)"),
                       hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::read_image(dir / "small.png", cv::IMREAD_UNCHANGED, 15), contains("4 x 4 pixels, above the limit of 15"),
                       hush::io_error);
  CHECK(hush::io::read_image(dir / "small.png", cv::IMREAD_UNCHANGED, 16).rows == 4);
}

TEST_CASE("images in memory (an upload): the same size, checks and pixels as from a file") {
  temp_dir dir;
  cv::Mat m(23, 37, CV_8UC3);
  cv::randu(m, 0, 255);
  for (const char* ext : {".png", ".jpg", ".bmp", ".ppm", ".tif", ".webp"}) {
    INFO(ext);
    const auto path = dir / (std::string("x") + ext);
    REQUIRE(cv::imwrite(path.string(), m));
    const auto text = read_bytes(path);
    const std::span bytes(reinterpret_cast<const unsigned char*>(text.data()), text.size());
    const auto size = hush::io::read_image_size(bytes);
    REQUIRE(size.has_value());
    CHECK(size->width == 37);
    CHECK(size->height == 23);
    const cv::Mat from_memory = hush::io::decode_image(bytes, "upload"), from_file = hush::io::read_image(path);
    CHECK(cv::norm(from_memory, from_file, cv::NORM_INF) == 0);
  }
  // A PNG header claiming 20000 x 20000 pixels, and nothing after it: refused before decoding.
  auto bomb = read_bytes(dir / "x.png").substr(0, 33);
  for (int i = 0; i < 2; ++i)
    bomb[std::size_t(16 + 4 * i)] = 0, bomb[std::size_t(17 + 4 * i)] = 0, bomb[std::size_t(18 + 4 * i)] = char(20000 >> 8),
                              bomb[std::size_t(19 + 4 * i)] = char(20000 & 0xFF);
  const auto span_of = [](const std::string& t) { return std::span(reinterpret_cast<const unsigned char*>(t.data()), t.size()); };
  CHECK_THROWS_WITH_AS(hush::io::decode_image(span_of(bomb), "bomb.png"),
                       contains("bomb.png: 20000 x 20000 pixels, above the limit of 50000000"), hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::decode_image(span_of("not an image at all"), "notes.png"),
                       contains("notes.png: not an image hush reads"), hush::io_error);
  CHECK_THROWS_WITH_AS(hush::io::decode_image(span_of(""), "empty.png"), contains("empty.png: empty (0 bytes)"), hush::io_error);
  // A WebP VP8X header of exactly 30 bytes: its 24-bit sizes end at the last byte (read no further).
  const std::string vp8x = std::string("RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0", 24) + std::string("\x24\0\0\x16\0\0", 6);
  const auto webp = hush::io::read_image_size(span_of(vp8x));
  REQUIRE(webp.has_value());
  CHECK(webp->width == 37);
  CHECK(webp->height == 23);
  // A header that promises more than the bytes hold: OpenCV's refusal, with the name.
  CHECK_THROWS_WITH_AS(hush::io::decode_image(span_of(read_bytes(dir / "x.png").substr(0, 60)), "cut.png"),
                       contains("cut.png: "), hush::io_error);
}

TEST_CASE("images: 16-bit and float images are scaled by their depth, and written back at it") {
  temp_dir dir;
  cv::Mat deep(2, 3, CV_16UC1, cv::Scalar(65535));
  deep.at<std::uint16_t>(0, 0) = 257;  // 1/255 of full scale
  REQUIRE(cv::imwrite((dir / "deep.png").string(), deep));
  const auto t = hush::io::to_tensor(hush::io::read_image(dir / "deep.png"));
  CHECK(t[0] == doctest::Approx(1.0 / 255.0));
  CHECK(t[1] == doctest::Approx(1.0));
  cv::Mat real(2, 3, CV_32FC1, cv::Scalar(0.25));  // a float TIFF holds [0, 1]: taken as it is, not scaled by 1/255
  REQUIRE(cv::imwrite((dir / "real.tif").string(), real));
  const auto r = hush::io::to_tensor(hush::io::read_image(dir / "real.tif"));
  CHECK(r[4] == doctest::Approx(0.25));
  // Written back: 16 bits where the format holds them, float in TIFF, else 8 bits.
  CHECK(hush::io::depth_for(deep, "out.png") == CV_16U);
  CHECK(hush::io::depth_for(deep, "out.jpg") == CV_8U);
  CHECK(hush::io::depth_for(real, "out.TIFF") == CV_32F);
  const auto back = hush::io::to_image(t, CV_16U);
  CHECK(back.at<std::uint16_t>(0, 0) == 257);
  CHECK(back.at<std::uint16_t>(1, 2) == 65535);
  cv::Mat signed16(2, 2, CV_16SC1, cv::Scalar(-5));
  REQUIRE(cv::imwrite((dir / "signed.tif").string(), signed16));
  CHECK_THROWS_WITH_AS(hush::io::read_image(dir / "signed.tif"), contains("an image of signed integers"), hush::io_error);
}

// ---- conversions that are the right answer -------------------------------------------------

TEST_CASE("safetensors: F16 and BF16 tensors are converted exactly, subnormals included") {
  temp_dir dir;
  const std::uint16_t half[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000};  // 1, -2, 65504, 2^-24, -0
  const std::uint16_t brain[] = {0x3F80, 0xC0A0};                         // 1, -5
  std::string data(reinterpret_cast<const char*>(half), sizeof half);
  data.append(reinterpret_cast<const char*>(brain), sizeof brain);
  write_bytes(dir / "half.safetensors",
              safetensors(R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]}})",
                          data));
  const auto f = hush::io::read_safetensors(dir / "half.safetensors");
  const auto& h = f.arrays.at("h").values;
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == 65504.0f);
  CHECK(h[3] == std::ldexp(1.0f, -24));
  CHECK((h[4] == 0.0f && std::signbit(h[4])));
  CHECK(f.arrays.at("b").values == std::vector<float>{1.0f, -5.0f});
}

TEST_CASE("Fashion-MNIST: a label that is not one of the 10 classes is refused, naming the image") {
  temp_dir dir;
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_header({2, 28, 28}) + std::string(2 * 28 * 28, '\0'));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx_header({2}) + std::string("\x03\x0c", 2));
  CHECK_THROWS_WITH_AS(hush::data::fashion_mnist(dir.path, "train"),
                       contains("train label 12 of image 1 is not one of Fashion-MNIST's 10 classes"), hush::io_error);
}

TEST_CASE("images: only formats hush sizes reach OpenCV's decoders (fuzzing found a DICOM file that aborts in GDCM)") {
  temp_dir dir;
  // fuzz/corpus/image/gdcm-abort: 137 bytes that made OpenCV's DICOM decoder fail an assertion
  // (abort) inside cv::imread, whatever the file's extension.
  fs::copy_file(fs::path(HUSH_SOURCE_DIR) / "fuzz/corpus/image/gdcm-abort", dir / "photo.png");
  CHECK_THROWS_WITH_AS(hush::io::read_image(dir / "photo.png"),
                       contains("photo.png: not an image hush reads (PNG, JPEG, BMP, PNM, TIFF or WebP)"), hush::io_error);
}
