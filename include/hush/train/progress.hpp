#pragma once
// A progress line for long work: rate, metrics and time left. On a terminal it redraws one line;
// otherwise (a log file, CI) it prints a plain line every `every` steps and at the end.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace hush {

/// A progress line for `total` steps: the rate, the caller's metrics and the time left. It redraws
/// in place on a terminal; elsewhere it prints a line every `every` steps (0: a tenth) and at the end.
class progress {
 public:
  progress(std::string label, std::int64_t total, std::int64_t every = 0)
      : label_(std::move(label)), total_(total), tty_(::isatty(::fileno(stdout)) != 0),
        every_(every > 0 ? every : std::max<std::int64_t>(1, total / 10)), start_(clock::now()) {}

  /// Reports that `done` of `total` steps are finished; `metrics` is shown as is ("loss 0.31").
  void update(std::int64_t done, const std::string& metrics) {
    const double elapsed = seconds();
    const double rate = done > 0 ? done / elapsed : 0.0;
    const double left = rate > 0 ? (total_ - done) / rate : 0.0;
    const bool last = done >= total_;
    if (!tty_ && !last && done % every_ != 0) return;
    std::printf("%s%s %lld/%lld  %.1f it/s  %s  %s%s", tty_ ? "\r\033[K" : "", label_.c_str(),
                static_cast<long long>(done), static_cast<long long>(total_), rate, metrics.c_str(),
                last ? ("took " + clock_text(elapsed)).c_str() : ("left " + clock_text(left)).c_str(),
                tty_ && !last ? "" : "\n");
    std::fflush(stdout);
  }
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

  static std::string clock_text(double s) {
    char buf[32];
    const auto t = static_cast<long long>(s + 0.5);
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t / 60) % 60);
    else std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
    return buf;
  }

 private:
  using clock = std::chrono::steady_clock;
  std::string label_;
  std::int64_t total_;
  bool tty_;
  std::int64_t every_;
  clock::time_point start_;
};

}  // namespace hush
