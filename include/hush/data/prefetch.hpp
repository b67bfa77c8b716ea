#pragma once
// prefetcher: items 0..count-1 made on background threads ahead of the one who uses them, in
// order, through a bounded ring of `depth` slots: a training step takes batch k while batches
// k+1..k+depth-1 are being decoded and augmented. Each item is a pure function of its number
// (make(k, slot) fills the slot), so what comes out does not depend on the thread count; with
// 0 threads items are made on the caller's thread when asked for (the reference behaviour).
// An exception thrown while making item k (a broken file) reaches the caller when it asks for
// item k, after every earlier item, and stops the workers.
//
// waited_seconds() is how long the caller has waited for items that were not ready yet: zero
// when decoding keeps up with the steps.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hush/core/error.hpp"

namespace hush::data {

/// Makes items 0..count-1 ahead of the caller on background threads, handed out in order through
/// a ring of `depth` slots (the next batches decoded while a step runs). With 0 threads an item is
/// made when asked for; an exception making item k reaches the caller when it asks for item k,
/// and asking for an item after it is an error (none is made after a failure).
template <class Slot>
class prefetcher {
 public:
  using maker = std::function<void(std::int64_t k, Slot& slot)>;

  prefetcher(std::int64_t count, int threads, int depth, maker make)
      : count_(count), depth_(depth < 1 ? 1 : depth), make_(std::move(make)), slots_(std::size_t(depth_)),
        ready_(std::size_t(depth_), -1), failed_(std::size_t(depth_)) {
    if (threads < 0) throw error("prefetcher: threads must be >= 0, not " + std::to_string(threads));
    if (threads > 0 && depth < 2) throw error("prefetcher: background threads need a depth of at least 2");
    for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
  }
  prefetcher(const prefetcher&) = delete;
  prefetcher& operator=(const prefetcher&) = delete;
  ~prefetcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// Item k = the number of items taken so far; the slot of the item before it is given back.
  /// Valid until the next call.
  Slot& next() {
    const auto k = taken_++;
    if (k >= count_) throw error("prefetcher: all " + std::to_string(count_) + " items were taken");
    auto& slot = slots_[std::size_t(k % depth_)];
    if (workers_.empty()) {  // the same contract with no threads: nothing is made after a failure
      if (failed_at_ >= 0) not_made(k);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        make_(k, slot);
      } catch (...) {
        failed_at_ = k;
        throw;
      }
      waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return slot;
    }
    std::unique_lock lock(mutex_);
    released_ = k;  // items before k are done with
    changed_.notify_all();
    // Items after a failed one are not handed out (the workers stop at a failure, though one may
    // have made the next item already): asking for one is an error, whatever the thread count,
    // not a wait for ever. The failed item was asked for first, so failed_at_ is known by then.
    const auto after_failure = [&] { return failed_at_ >= 0 && k > failed_at_; };
    const auto made_or_never = [&] { return ready_[std::size_t(k % depth_)] == k || after_failure(); };
    if (!made_or_never()) {
      const auto t0 = std::chrono::steady_clock::now();
      changed_.wait(lock, made_or_never);
      waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    if (after_failure()) not_made(k);
    if (auto e = failed_[std::size_t(k % depth_)]) std::rethrow_exception(e);
    return slot;
  }

  /// Seconds the caller spent waiting in next() (making the item itself, with no threads).
  double waited_seconds() const { return waited_; }

 private:
  [[noreturn]] void not_made(std::int64_t k) const {
    throw error("prefetcher: item " + std::to_string(k) + " was not made: making item " + std::to_string(failed_at_) +
                " failed before it (that error was reported when item " + std::to_string(failed_at_) + " was asked for)");
  }
  void work() {
    for (;;) {
      std::int64_t k = 0;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || (claimed_ < count_ && claimed_ < released_ + depth_); });
        if (stop_) return;
        k = claimed_++;
      }
      std::exception_ptr failure;
      try {
        make_(k, slots_[std::size_t(k % depth_)]);
      } catch (...) {
        failure = std::current_exception();
      }
      {
        std::lock_guard lock(mutex_);
        failed_[std::size_t(k % depth_)] = failure;
        ready_[std::size_t(k % depth_)] = k;
        if (failure) {  // nothing after a failure is needed
          stop_ = true;
          if (failed_at_ < 0 || k < failed_at_) failed_at_ = k;
        }
      }
      changed_.notify_all();
    }
  }

  const std::int64_t count_;
  const std::int64_t depth_;
  maker make_;
  std::vector<Slot> slots_;
  std::vector<std::int64_t> ready_;  // the item each slot holds, once made
  std::vector<std::exception_ptr> failed_;
  std::int64_t taken_ = 0, claimed_ = 0, released_ = 0;
  std::int64_t failed_at_ = -1;  // the first item whose making threw, if any
  bool stop_ = false;
  double waited_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::jthread> workers_;  // last: joined before the rest is destroyed
};

}  // namespace hush::data
