#pragma once
// Which paths hush reads and writes. Outputs are renamed into place (io/atomic_file.hpp), which
// would replace whatever is at the path, so only a regular file (or nothing) in an existing
// folder is written: a symbolic link, FIFO, device, socket or directory there is refused with a
// message, and so is a missing folder (hush never creates folders a user did not ask for), and a
// tool never writes over its own input. Inputs must be regular files (a link to one is followed):
// a file's size bounds what reading it may allocate, which a FIFO or /dev/zero would not.
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

#include "hush/core/error.hpp"

namespace hush::io {

namespace detail {
inline std::string what_is(std::filesystem::file_type t) {
  switch (t) {
    case std::filesystem::file_type::directory: return "a directory";
    case std::filesystem::file_type::symlink: return "a symbolic link";
    case std::filesystem::file_type::block: return "a block device";
    case std::filesystem::file_type::character: return "a character device";
    case std::filesystem::file_type::fifo: return "a FIFO";
    case std::filesystem::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}
}  // namespace detail

/// Throws io_error naming `path` unless it is a regular file (a link to one is followed); a
/// folder, device or FIFO is named as what it is.
inline void check_input_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  switch (st.type()) {
    case std::filesystem::file_type::regular: return;
    case std::filesystem::file_type::not_found: throw io_error(path.string() + ": no such file");
    case std::filesystem::file_type::none: throw io_error(path.string() + ": cannot be read: " + ec.message());
    default: throw io_error(path.string() + ": is " + detail::what_is(st.type()) + ", not a file");
  }
}

/// Throws io_error unless `path` may be written: nothing or a regular file is there, and its
/// folder exists. Tools call it on every output before doing any work.
inline void check_output_path(const std::filesystem::path& path) {
  if (path.empty() || !path.has_filename()) throw io_error("'" + path.string() + "': an output must name a file");
  std::error_code ec;
  const auto st = std::filesystem::symlink_status(path, ec);
  if (!ec && st.type() != std::filesystem::file_type::not_found && st.type() != std::filesystem::file_type::regular)
    throw io_error(path.string() + ": is " + detail::what_is(st.type()) +
                   "; hush writes regular files only (it would replace it by one): give another path");
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    throw io_error(path.string() + ": the folder " + dir.string() +
                   (std::filesystem::exists(dir, ec) ? " is not a folder" : " does not exist"));
}

/// Checks, before any work, that the folder a tool was asked to write into (--out) can take
/// `files`: it is a folder whose files may be written, or it does not exist yet and its nearest
/// existing parent is a folder (the tool makes it when it first writes: a run that fails before
/// then leaves nothing behind). Throws io_error naming what is wrong.
inline void check_output_folder(const std::filesystem::path& folder, std::initializer_list<const char*> files = {}) {
  std::error_code ec;
  if (std::filesystem::exists(folder, ec)) {
    if (!std::filesystem::is_directory(folder, ec)) throw io_error(folder.string() + ": the output folder is a file");
    for (const char* name : files) check_output_path(folder / name);
    return;
  }
  for (auto up = std::filesystem::absolute(folder, ec).parent_path(); !up.empty(); up = up.parent_path()) {
    if (std::filesystem::exists(up, ec)) {
      if (!std::filesystem::is_directory(up, ec))
        throw io_error(folder.string() + ": cannot be made, " + up.string() + " is a file");
      return;
    }
    if (up == up.parent_path()) return;
  }
}

/// Throws io_error when `out` is the file `in` (by any name): the tool would overwrite its
/// input. `option` names what allows it on purpose ("" when nothing does).
inline void check_not_input(const std::filesystem::path& out, const std::filesystem::path& in, std::string_view option = "") {
  std::error_code ec;
  if (!std::filesystem::equivalent(out, in, ec) || ec) return;
  std::string why = out.string() + ": is the input " + in.string() + "; writing it would destroy the input";
  if (!option.empty()) (why += " (pass ") += std::string(option) + " to do that on purpose)";
  throw io_error(why);
}

}  // namespace hush::io
