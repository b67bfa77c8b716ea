#pragma once
// What every harness shares: the input as a file (hush's readers take paths), and the rule that
// a reader may refuse bad bytes only with hush::error; anything else is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "hush/core/error.hpp"

namespace hush::fuzz {

/// The fuzzer's bytes written to a file of this process's own, removed afterwards.
struct as_file {
  std::filesystem::path path;
  as_file(const std::uint8_t* data, std::size_t size, const char* extension) {
    const char* dir = std::getenv("HUSH_FUZZ_DIR");
    path = std::filesystem::path(dir ? dir : "/tmp") / ("hush-fuzz-" + std::to_string(::getpid()) + extension);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  ~as_file() { std::filesystem::remove(path); }
};

/// Runs `read`: returning or throwing hush::error is fine; any other exception aborts, so that
/// libFuzzer records the input (a bare std::exception means a message a user cannot act on).
template <class F>
void expect_clean_error(F&& read) {
  try {
    read();
  } catch (const hush::error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not a hush::error: %s\n", e.what());
    std::abort();
  }
}

}  // namespace hush::fuzz
