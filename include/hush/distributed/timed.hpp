#pragma once
// A communicator that measures itself: every collective passed on to another one, and the
// seconds spent inside them added up (waiting for a slower process included, as it is lost to
// the step all the same). What a trainer reports as its communication time per step:
//   hush::distributed::timed_communicator timed(*comm);  m.ctx.batch_norm_group = &timed;
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <span>

#include "hush/distributed/communicator.hpp"

namespace hush::distributed {

/// Passes every collective on to another communicator and adds up the seconds spent in them,
/// waiting for slower processes included: a trainer's communication time.
class timed_communicator final : public communicator {
 public:
  explicit timed_communicator(communicator& inner) : inner_(inner) {}

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void all_reduce_sum(std::span<float> v) override { timed([&] { inner_.all_reduce_sum(v); }); }
  void all_reduce_sum(std::span<double> v) override { timed([&] { inner_.all_reduce_sum(v); }); }
  void start_all_reduce_sum(std::span<float> v) override { timed([&] { inner_.start_all_reduce_sum(v); }); }
  void progress() override { timed([&] { inner_.progress(); }); }
  void wait_all() override { timed([&] { inner_.wait_all(); }); }
  void broadcast(std::span<std::byte> bytes, int root) override { timed([&] { inner_.broadcast(bytes, root); }); }
  bool averages_device_memory() const override { return inner_.averages_device_memory(); }
  void start_all_reduce_mean_device(float* values, std::size_t count) override {
    timed([&] { inner_.start_all_reduce_mean_device(values, count); });
  }
  [[noreturn]] void abort(int code) override {
    inner_.abort(code);
    std::abort();  // (the attribute is not part of the call's type)
  }

  /// Seconds inside the collectives since the last reset.
  double seconds() const { return seconds_; }
  void reset() { seconds_ = 0; }

 private:
  template <class F>
  void timed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  communicator& inner_;
  double seconds_ = 0;
};

}  // namespace hush::distributed
