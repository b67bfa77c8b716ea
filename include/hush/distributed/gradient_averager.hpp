#pragma once
// Averaging the parameter gradients of a data-parallel step over the processes, in buckets sent
// while backward goes on (as PyTorch's DistributedDataParallel does):
//
//   hush::distributed::gradient_averager average;      // buckets of 4 MB
//   m.zero_grad();  loss.forward(m.ctx, m.forward(x), y);
//   average.arm(*comm, m.net, m.ctx);                   // before the backward that completes the step
//   m.backward(loss.backward(m.ctx));                   // buckets start as their layers finish
//   average.finish();                                   // the rest; then every gradient is the mean
//   opt.step(m.ctx.backend);
//
// Buckets hold the parameters in reverse order of the network's walk (the order backward reaches
// them). A bucket is sent once every parameter in it has been reported complete
// (core/gradient_watch.hpp; a seq reports each child after its backward), and only after every
// bucket before it, so that every process starts the same sums in the same order whatever its
// timing. A parameter never reported is sent by finish(): a network whose structure reports
// nothing is averaged correctly, in one go after backward. Each element's sum does not depend on
// the bucket it travels in, so the bucket size changes timing only, never the result.
// Gradients in device memory go through the host, unless the communicator averages device
// memory itself (NCCL, distributed/nccl.hpp): then the buckets are packed and averaged on the device.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/gradient_watch.hpp"
#include "hush/core/kept.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/tensor.hpp"
#include "hush/distributed/communicator.hpp"
#include "hush/graph/visit.hpp"

namespace hush::distributed {

/// Averages a data-parallel step's gradients over the processes, as PyTorch's
/// DistributedDataParallel does: in buckets started while backward runs, in the same order on
/// every process. The bucket size changes the timing only, never the result.
class gradient_averager final : public gradient_watch {
 public:
  /// Buckets of about `bucket_bytes` of gradients (a parameter larger than that is a bucket of
  /// its own); 0: one bucket, sent by finish() after backward (no overlap, nothing reported).
  explicit gradient_averager(std::size_t bucket_bytes = std::size_t(4) << 20) : bucket_floats_(bucket_bytes / sizeof(float)) {}
  gradient_averager(const gradient_averager&) = delete;
  gradient_averager& operator=(const gradient_averager&) = delete;
  ~gradient_averager() { disarm(); }

  /// Where communication time went, summed over steps.
  struct timing {
    double during_backward = 0;  ///< seconds copying and starting buckets inside backward
    double after_backward = 0;   ///< seconds in finish(): the rest sent, waiting, copying back
    std::int64_t steps = 0;
    double total() const { return during_backward + after_backward; }
  };

  /// Starts a step: backward's reports (through ctx.gradients) send buckets from now until
  /// finish(). Call it before the backward pass that completes the step's gradients, not an
  /// earlier one that more backward passes add to.
  template <class Net, class Ctx>
  void arm(communicator& comm, Net& net, Ctx& ctx) {
    arm(comm, net);
    if (comm.size() > 1 && bucket_floats_ > 0) ctx.gradients = this, watched_ = &ctx.gradients;
  }
  /// The same without reports: every bucket is sent by finish().
  template <class Net>
  void arm(communicator& comm, Net& net) {
    if (comm_) throw error("gradient_averager: armed again before finish()");
    comm_ = &comm;
    if (comm.size() == 1) return;
    plan(net);
    std::fill(reported_.begin(), reported_.end(), char(0));
    for (std::size_t b = 0; b < buckets_.size(); ++b) buckets_[b].missing = buckets_[b].parameters;
    next_ = 0;
  }

  void complete(parameter& p) override {
    const auto found = index_.find(&p);
    if (found == index_.end() || reported_[found->second]) return;  // not this network's, or told already
    const auto start = clock::now();
    reported_[found->second] = 1;
    --buckets_[slot_[found->second].bucket].missing;
    send_ready(*comm_);
    comm_->progress();
    time_.during_backward += seconds_since(start);
  }

  /// Ends the step: sends the buckets not sent yet, waits for all, and replaces every gradient
  /// by its mean over the processes.
  void finish() {
    if (!comm_) throw error("gradient_averager: finish() without arm()");
    disarm();
    communicator& comm = *comm_;
    comm_ = nullptr;
    if (comm.size() == 1) return;
    const auto start = clock::now();
    for (auto& b : buckets_) b.missing = 0;
    send_ready(comm);
    comm.wait_all();
    if (on_device_) {  // averaged where they are
      for (const auto& s : slot_) device_memory::copy(s.p->grad.in<device_memory>().data(), dflat_.data() + s.offset, s.count * sizeof(float));
    } else {
      const float share = 1.0f / float(comm.size());
      for (auto& g : flat_) g *= share;
      for (const auto& s : slot_) copy_from_host(s.p->grad, flat_.data() + s.offset);
    }
    time_.after_backward += seconds_since(start);
    ++time_.steps;
  }

  /// Both at once, after a backward that reported nothing (no overlap).
  template <class Net>
  void operator()(communicator& comm, Net& net) {
    arm(comm, net);
    finish();
  }

  const timing& time() const { return time_; }
  void reset_time() { time_ = {}; }
  /// Floats each process sends per step (the all-reduces' payload), and in how many buckets.
  std::size_t floats() const { return on_device_ ? std::size_t(dflat_.numel()) : flat_.size(); }
  std::size_t buckets() const { return buckets_.size(); }

 private:
  using clock = std::chrono::steady_clock;
  static double seconds_since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }

  struct slot {
    parameter* p = nullptr;
    std::size_t offset = 0, count = 0, bucket = 0;
  };
  struct bucket {
    std::size_t begin = 0, end = 0;  // floats of flat_
    std::size_t first = 0, parameters = 0, missing = 0;  // its slots
  };

  /// The buckets of `net`'s gradients: made again only when its parameters changed.
  template <class Net>
  void plan(Net& net) {
    std::vector<parameter*> ps;
    for_each_parameter(net, [&](std::string_view, parameter& p) {
      if (p.grad.numel() > 0) ps.push_back(&p);  // a frozen network's parameters have none
    });
    std::reverse(ps.begin(), ps.end());  // backward reaches the last layers first
    const bool on_device = comm_->averages_device_memory() && !ps.empty() &&
                           std::all_of(ps.begin(), ps.end(), [](const parameter* p) { return p->grad.on_device(); });
    bool same = ps.size() == slot_.size() && on_device == on_device_;
    for (std::size_t i = 0; same && i < ps.size(); ++i) same = ps[i] == slot_[i].p && std::size_t(ps[i]->grad.numel()) == slot_[i].count;
    if (same) return;
    slot_.clear(), buckets_.clear(), index_.clear();
    std::size_t at = 0;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const auto n = std::size_t(ps[i]->grad.numel());
      if (buckets_.empty() || (bucket_floats_ > 0 && at - buckets_.back().begin + n > bucket_floats_ && at > buckets_.back().begin))
        buckets_.push_back({at, at, i, 0, 0});
      auto& b = buckets_.back();
      slot_.push_back({ps[i], at, n, buckets_.size() - 1});
      index_[ps[i]] = i;
      at += n, b.end = at, ++b.parameters;
    }
    on_device_ = on_device;
    if (on_device) flat_.clear(), dflat_ = device_tensor(shape{std::int64_t(at)});
    else flat_.assign(at, 0.0f), dflat_ = device_tensor{};
    reported_.assign(ps.size(), 0);
  }

  /// Sends, in order, every bucket whose parameters are all complete.
  void send_ready(communicator& comm) {
    for (; next_ < buckets_.size() && buckets_[next_].missing == 0; ++next_) {
      const auto& b = buckets_[next_];
      if (on_device_) {
        for (std::size_t i = b.first; i < b.first + b.parameters; ++i)
          device_memory::copy(dflat_.data() + slot_[i].offset, slot_[i].p->grad.in<device_memory>().data(), slot_[i].count * sizeof(float));
        comm.start_all_reduce_mean_device(dflat_.data() + b.begin, b.end - b.begin);
        continue;
      }
      for (std::size_t i = b.first; i < b.first + b.parameters; ++i) copy_to_host(slot_[i].p->grad, flat_.data() + slot_[i].offset);
      comm.start_all_reduce_sum(std::span<float>(flat_.data() + b.begin, b.end - b.begin));
    }
  }

  void disarm() {
    if (watched_ && *watched_ == this) *watched_ = nullptr;
    watched_ = nullptr;
  }

  std::size_t bucket_floats_;
  communicator* comm_ = nullptr;         // between arm() and finish()
  gradient_watch** watched_ = nullptr;   // the ctx.gradients that points here
  std::vector<slot> slot_;               // parameters with gradients, in reverse walk order
  std::vector<bucket> buckets_;
  std::unordered_map<const parameter*, std::size_t> index_;
  std::vector<char> reported_;
  std::size_t next_ = 0;                 // the first bucket not sent
  std::vector<float> flat_;              // every gradient, bucket after bucket
  device_tensor dflat_;                  // the same on the device, when the communicator averages there
  bool on_device_ = false;
  timing time_;
};

}  // namespace hush::distributed
