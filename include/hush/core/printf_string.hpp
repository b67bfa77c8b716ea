#pragma once
// printf into a std::string of whatever length it takes (g++ 12 has no std::format). For texts
// that must not be cut short, such as the run descriptions a resumed run compares.
#include <cstdarg>
#include <cstdio>
#include <string>

namespace hush {

/// `std::snprintf(fmt, ...)` into a string of exactly the length it needs (the compiler checks
/// the arguments against the format, as for printf).
[[gnu::format(printf, 1, 2)]] inline std::string printf_string(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string s(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, again);
  va_end(again);
  return s;
}

}  // namespace hush
