#pragma once
// hush's exceptions. Every message names what went wrong and where: the layer path, the file,
// the tensor, and both shapes when shapes disagree.
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hush {

/// Thrown inside a network, an error gets the path of the layer it came from: each composite
/// prepends its child's name as the exception travels up (graph/named.hpp's `within`), so the
/// message reads `net/stage2/0/conv1: expected ..., got ...`.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what), detail_(what) {}
  void prepend(std::string_view segment) {
    path_ = path_.empty() ? std::string(segment) : std::string(segment) + "/" + path_;
    full_ = path_ + ": " + detail_;
  }
  const char* what() const noexcept override { return full_.empty() ? detail_.c_str() : full_.c_str(); }
  /// The layer path, empty when the error did not come from inside a network.
  const std::string& path() const { return path_; }

 private:
  std::string detail_, path_, full_;
};

/// A shape that does not fit a layer, found at setup.
struct shape_error : error {
  using error::error;
};

/// A tensor handed to a layer in a layout other than the one planned for it at setup
/// (core/layout.hpp); checked in Debug and sanitizer builds.
struct layout_error : error {
  using error::error;
};

/// A backend refused or failed what a layer asked of it (oneDNN, cuBLAS): the message says what
/// was asked, in the layer's terms.
struct backend_error : error {
  using error::error;
};

/// A file that cannot be read or written, or whose content is not what it should be.
struct io_error : error {
  using error::error;
};

/// Work stopped because its caller asked it to (a page closed, a server stopping): not a fault.
struct cancelled : error {
  using error::error;
};

/// What to tell a user about an exception: hush's own messages as they are, the standard
/// library's terse ones ("std::bad_alloc", "stoi") said in words.
inline std::string explain(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory: the input or the settings need more than this machine has (docs/reliability.md lists "
           "the limits)";
  if (dynamic_cast<const error*>(&e)) return e.what();
  if (dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const std::out_of_range*>(&e))
    return std::string("a number could not be read (") + e.what() + ")";
  return e.what();
}

}  // namespace hush
