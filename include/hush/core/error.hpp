#pragma once
// hush's exceptions. Every message names what went wrong and where: the layer path, the file,
// the tensor, and both shapes when shapes disagree.
#include <stdexcept>
#include <string>

namespace hush {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A shape that does not fit a layer, found at setup. Composites prepend their child's name as
/// the exception travels up, so the message reads `net/stage2/0/conv1: expected ..., got ...`.
class shape_error : public error {
 public:
  explicit shape_error(std::string what) : error(what), detail_(std::move(what)) {}
  void prepend(std::string_view segment) {
    path_ = path_.empty() ? std::string(segment) : std::string(segment) + "/" + path_;
    full_ = path_ + ": " + detail_;
  }
  const char* what() const noexcept override { return full_.empty() ? detail_.c_str() : full_.c_str(); }
  const std::string& path() const { return path_; }

 private:
  std::string detail_, path_, full_;
};

/// A file that cannot be read or written, or whose content is not what it should be.
struct io_error : error {
  using error::error;
};

}  // namespace hush
