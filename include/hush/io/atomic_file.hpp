#pragma once
// Writing a file so that a crash never leaves it half-written: write a temporary file beside it,
// flush it to disk, then rename it over the target (rename is atomic within a file system).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>

#include "hush/core/error.hpp"

namespace hush::io {

inline void write_file_atomically(const std::filesystem::path& path, const void* data, std::size_t size) {
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string hidden = ".";  // built piecewise: GCC 12 misreports "." + std::string (PR 105329)
  hidden += path.filename().string();
  hidden += ".XXXXXX";
  std::string tmp = (dir / hidden).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw io_error(path.string() + ": cannot create a temporary file: " + std::strerror(errno));
  const auto* p = static_cast<const char*>(data);
  std::size_t left = size;
  while (left > 0) {
    const auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw io_error(path.string() + ": write failed: " + why);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0644);
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw io_error(path.string() + ": cannot replace the file: " + why);
  }
}

inline void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

}  // namespace hush::io
