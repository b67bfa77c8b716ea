// libFuzzer harness: the safetensors reader on arbitrary bytes (fuzz/README.md).
#include "harness.hpp"
#include "hush/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hush::fuzz::as_file file(data, size, ".safetensors");
  hush::fuzz::expect_clean_error([&] { (void)hush::io::read_safetensors(file.path); });
  return 0;
}
