#pragma once
// A data-parallel "cluster" inside one process: n communicators, one per thread, meeting at a
// barrier. What the tests use to check that n workers on shards of a batch train exactly as one
// worker on the whole batch, with any network and backend, without MPI:
//
//   hush::distributed::thread_group group(2);
//   std::jthread a([&] { train(group.member(0)); }), b([&] { train(group.member(1)); });
//
// Sums are taken in rank order, by every member alike, so all members get the same bits.
#include <algorithm>
#include <barrier>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/distributed/communicator.hpp"

namespace hush::distributed {

/// A data-parallel group inside one process: n communicators, one per thread, meeting at a barrier.
/// Tests use it to check that n workers train exactly as one, without MPI; sums run in rank order,
/// so every member gets the same bits.
class thread_group {
 public:
  explicit thread_group(int size) : size_(size), sync_(size), posted_(std::size_t(size)) {
    if (size < 1) throw error("thread_group: needs at least one member, not " + std::to_string(size));
    for (int r = 0; r < size; ++r) members_.push_back(std::make_unique<member_type>(*this, r));
  }
  communicator& member(int rank) { return *members_.at(std::size_t(rank)); }
  int size() const { return size_; }

 private:
  class member_type final : public communicator {
   public:
    member_type(thread_group& g, int rank) : g_(g), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return g_.size_; }
    void all_reduce_sum(std::span<float> v) override { g_.sum(rank_, v, sum_f_); }
    void all_reduce_sum(std::span<double> v) override { g_.sum(rank_, v, sum_d_); }
    void broadcast(std::span<std::byte> bytes, int root) override { g_.broadcast(rank_, bytes, root); }
    [[noreturn]] void abort(int) override { std::abort(); }  // the threads share the process

   private:
    thread_group& g_;
    int rank_;
    std::vector<float> sum_f_;
    std::vector<double> sum_d_;
  };

  struct posted {
    void* data = nullptr;
    std::size_t count = 0;
  };

  template <class T>
  void sum(int rank, std::span<T> v, std::vector<T>& out) {
    posted_[std::size_t(rank)] = {v.data(), v.size()};
    sync_.arrive_and_wait();
    for (const auto& p : posted_)
      if (p.count != v.size())
        throw error("thread_group: members summed " + std::to_string(p.count) + " and " + std::to_string(v.size()) +
                    " values at the same call");
    out.assign(v.size(), T(0));
    for (const auto& p : posted_) {  // rank order, the same on every member
      const T* x = static_cast<const T*>(p.data);
      for (std::size_t i = 0; i < v.size(); ++i) out[i] += x[i];
    }
    sync_.arrive_and_wait();  // everyone has read every member's values
    std::copy(out.begin(), out.end(), v.begin());
  }
  void broadcast(int rank, std::span<std::byte> bytes, int root) {
    posted_[std::size_t(rank)] = {bytes.data(), bytes.size()};
    sync_.arrive_and_wait();
    // Every member checks every size, so a mismatch throws on all of them (none waits forever at
    // the barrier below for one that threw).
    const auto& from = posted_.at(std::size_t(root));
    for (const auto& p : posted_)
      if (p.count != from.count)
        throw error("thread_group: a broadcast of " + std::to_string(from.count) + " bytes into " +
                    std::to_string(p.count));
    if (rank != root) std::memcpy(bytes.data(), from.data, bytes.size());
    sync_.arrive_and_wait();
  }

  int size_;
  std::barrier<> sync_;
  std::vector<posted> posted_;
  std::vector<std::unique_ptr<member_type>> members_;
};

}  // namespace hush::distributed
