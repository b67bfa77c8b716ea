// libFuzzer harness: the idx reader (plain or gzip) on arbitrary bytes (fuzz/README.md).
#include "harness.hpp"
#include "hush/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hush::fuzz::as_file file(data, size, ".idx.gz");
  hush::fuzz::expect_clean_error([&] { (void)hush::data::read_idx(file.path); });
  return 0;
}
