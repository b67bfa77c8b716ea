#pragma once
// Writing a file so that a crash never leaves it half-written: write a temporary file beside it,
// flush it to disk, rename it over the target (rename is atomic within a file system), then flush
// the folder, which holds the rename.
// The rename would replace whatever is at the path, so only a regular file (or nothing) in an
// existing folder is written (io/paths.hpp checks it first).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "hush/core/error.hpp"
#include "hush/io/paths.hpp"

namespace hush::io {

namespace detail {
/// ".name.XXXXXX": the temporary file of a write to `name`. Built piecewise: GCC 12 misreports
/// "." + std::string (PR 105329).
inline std::string temporary_name(const std::filesystem::path& path) {
  std::string hidden = ".";
  hidden += path.filename().string();
  hidden += ".XXXXXX";
  return hidden;
}
/// Removes what killed writes to `path` left: ".name.XXXXXX" files beside it (mkstemp's six
/// letters and digits). Done once per path and process: a trainer rewriting its checkpoint every
/// epoch scans the folder once, not every epoch.
inline void remove_stale_temporaries(const std::filesystem::path& dir, const std::filesystem::path& path) {
  static std::mutex m;
  static std::set<std::string> done;
  {
    const std::lock_guard lock(m);
    if (!done.insert(std::filesystem::absolute(path).string()).second) return;
  }
  const std::string pattern = temporary_name(path);
  const std::string_view stem(pattern.data(), pattern.size() - 6);
  const auto random = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c); });
  };
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() == pattern.size() && std::string_view(name).starts_with(stem) &&
        random(std::string_view(name).substr(stem.size())) && it->is_regular_file(ec))
      std::filesystem::remove(it->path(), ec);
  }
}
}  // namespace detail

/// Settings of write_file_atomically. The defaults flush the file and its folder to disk, so
/// that it survives a power cut (sync), and remove the temporaries of earlier killed writes (remove_stale).
struct atomic_write_options {
  /// Flush the file to disk before the rename and the folder after it, so that the file survives
  /// a power cut whole; without it only a killed process is covered (for short-lived files: a
  /// server's per-request output).
  bool sync = true;
  /// Remove what earlier killed writes to the same path left beside it (once per path and
  /// process: the paths are remembered, so a program writing ever new paths turns it off).
  bool remove_stale = true;
};

namespace detail {
/// Creates ".name.XXXXXX" beside `path` (six random letters and digits, as mkstemp would) with
/// the mode a new file gets, 0666 less the umask: mkstemp's 0600 would leave the written file
/// unreadable to others whatever the user's umask says. Returns the descriptor; throws io_error.
inline int create_temporary(const std::filesystem::path& path, std::string& tmp) {
  static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 draw{std::random_device{}()};
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp.resize(tmp.size() - 6);
    for (int i = 0; i < 6; ++i) tmp += letters[draw() % (sizeof letters - 1)];
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) break;
  }
  throw io_error(path.string() + ": cannot create a temporary file: " + std::strerror(errno));
}
/// Flushes the folder, so that a rename in it survives a power cut. A file system that cannot
/// flush a folder (EINVAL) has nothing to flush.
inline bool sync_folder(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0 || errno == EINVAL;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}
}  // namespace detail

/// Writes `size` bytes at `data` to `path` so that a crash never leaves it half-written: into a
/// temporary file beside it, flushed (o.sync), then renamed over it, and the folder flushed so
/// that the rename is on disk too; throws io_error. The file gets 0666 less the umask.
inline void write_file_atomically(const std::filesystem::path& path, const void* data, std::size_t size,
                                  const atomic_write_options& o = {}) {
  check_output_path(path);
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::string tmp = (dir / detail::temporary_name(path)).string();
  const int fd = detail::create_temporary(path, tmp);
  const auto fail = [&](const char* what, int err) {
    ::unlink(tmp.c_str());
    throw io_error(path.string() + ": " + what + ": " + std::strerror(err));
  };
  const auto* p = static_cast<const char*>(data);
  std::size_t left = size;
  while (left > 0) {
    const auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      fail("write failed", err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (o.sync && ::fsync(fd) != 0) {
    const int err = errno;  // before close() can change it
    ::close(fd);
    fail("cannot flush the file to disk", err);
  }
  // close() can report a write the kernel deferred (NFS, a full disk under some file systems).
  if (::close(fd) != 0) fail("write failed", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot replace the file", errno);
  if (o.sync && !detail::sync_folder(dir))
    throw io_error(path.string() + ": written, but its folder could not be flushed to disk: " + std::strerror(errno));
  if (o.remove_stale) detail::remove_stale_temporaries(dir, path);
}

/// The same for text, with the default options.
inline void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

}  // namespace hush::io
