#pragma once
// The buffer plan: one arena per model, shared by the activations and input gradients whose
// lifetimes do not overlap (PyTorch frees a tensor when its last reader is done; hush, whose
// network is a type, plans that once, at setup, and allocates nothing during a step).
//
// How a lifetime is known. context::keep registers every output and input-gradient buffer a
// layer keeps (a slot each, in setup order). The model then runs one probe pass at batch 1 on
// zeros (forward, and backward unless in inference mode) and records a timeline of events:
//
//   * a touch: ctx[k] handed out a registered buffer (to write or to read it);
//   * a call: a composite ran a child between ctx.begin_call and ctx.end_call (graph/seq.hpp,
//     ...). The tensors the child reads and every buffer touched inside it stay alive until the
//     call returns; its result stays alive until the caller's own call returns, or, when the
//     caller hands it on to a later call (a seq's chain), until that call reads it.
//
// A buffer is alive from its first event to its last; buffers alive at disjoint times may share
// memory. A composite that makes no such calls is, to the plan, part of its parent's call: all it
// touches lives as long as that call runs. So the plan is conservative by construction: a layer
// or composite written without knowing of it loses sharing, never values.
//
// The timeline is a property of the type and mode, not of the batch size, so it is recorded once
// per mode and laid out again for each batch. Each later pass is checked against it event by
// event (a few integer compares per layer): a pass that goes another way than the probe (a
// layer whose path depends on the batch size) throws before its kernel runs, never computes
// on memory another buffer holds.
//
// Buffers of role `saved` (batch statistics, constants kept across passes) are never planned:
// only outputs and input gradients, which every layer writes before it reads in each pass.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

// In Debug and sanitizer builds, and in hush's tests, a host arena is filled with NaN each time
// it is laid out, so a layer that reads what it has not written in this pass shows.
#ifndef HUSH_POISON_ARENA
#ifdef NDEBUG
#define HUSH_POISON_ARENA 0
#else
#define HUSH_POISON_ARENA 1
#endif
#endif

namespace hush {

/// The events of one probe pass and the lifetimes they give each slot.
struct buffer_timeline {
  static constexpr std::int64_t forever = std::numeric_limits<std::int64_t>::max();
  static constexpr std::int32_t enter = -1, leave = -2;
  std::vector<std::int32_t> events;  ///< a slot (touch), enter or leave
  std::size_t forward_events = 0;    ///< where the backward pass's events begin
  std::vector<std::int64_t> first, last;  ///< per slot; first < 0: never touched

  bool touched(std::size_t slot) const { return first[slot] >= 0; }
  bool overlap(std::size_t a, std::size_t b) const { return !(last[a] < first[b] || last[b] < first[a]); }
};

/// Records a timeline (a probe pass), checks a pass against one, or, between passes, refuses a
/// buffer of the arena to whoever runs the network's layers outside the model's passes. The
/// context reports each registered buffer by its index in the registry.
class buffer_watch {
 public:
  buffer_watch() = default;
  /// Records a pass over `slots` registered buffers.
  explicit buffer_watch(std::size_t slots) : role_(role::record) {
    timeline_.first.assign(slots, -1);
    timeline_.last.assign(slots, -1);
  }
  /// Checks passes against `t` (which must outlive this watch); `placed`: the slots in the arena.
  buffer_watch(const buffer_timeline& t, std::vector<bool> placed) : role_(role::refuse), expected_(&t), placed_(std::move(placed)) {}

  /// A pass begins: checked from the start of the forward (or of the backward) pass.
  void start(bool backward) { role_ = role::check, at_ = backward ? expected_->forward_events : 0; }
  /// The pass has ended: the arena is refused until the next one.
  void stop() { role_ = role::refuse; }
  /// Recording: the forward pass has ended.
  void end_forward() { timeline_.forward_events = timeline_.events.size(); }
  buffer_timeline take() { return std::move(timeline_); }

  void touch(std::int32_t slot) {
    if (slot < 0) return;  // not a planned buffer
    if (role_ == role::refuse) return refuse(slot);
    if (role_ == role::check) return expect(slot);
    const auto now = std::int64_t(timeline_.events.size());
    timeline_.events.push_back(slot);
    auto& first = timeline_.first[std::size_t(slot)];
    if (first < 0) first = now;
    extend(slot, scopes_.empty() ? buffer_timeline::forever : now);
    if (!scopes_.empty()) scopes_.back().push_back(slot);
  }
  void enter() {
    if (role_ == role::refuse) return;
    if (role_ == role::check) return expect(buffer_timeline::enter);
    timeline_.events.push_back(buffer_timeline::enter);
    scopes_.emplace_back();
  }
  /// The call that returned `result` (its slot) ends; `handed_on`: the caller passes the result
  /// only to later calls, which touch it as they read it.
  void leave(std::int32_t result, bool handed_on) {
    if (role_ == role::refuse) return;
    if (role_ == role::check) {
      expect(buffer_timeline::leave);
    } else {
      const auto now = std::int64_t(timeline_.events.size());
      timeline_.events.push_back(buffer_timeline::leave);
      for (const auto slot : scopes_.back()) extend(slot, now);
      scopes_.pop_back();
    }
    if (!handed_on) touch(result);  // alive until the caller's call ends
  }

 private:
  void extend(std::int32_t slot, std::int64_t to) {
    auto& last = timeline_.last[std::size_t(slot)];
    last = std::max(last, to);
  }
  void expect(std::int32_t event) {
    const auto& e = expected_->events;
    if (at_ >= e.size() || e[at_] != event)
      throw error("buffer plan: this pass touches the network's buffers in another order than the probe pass at "
                  "setup (event " + std::to_string(at_) + ": " + name(event) + " where the probe had " +
                  (at_ < e.size() ? name(e[at_]) : std::string("none")) + "); a layer whose path depends on the batch "
                  "size? Build the model with options{.plan_buffers = false} to run without the plan");
    ++at_;
  }
  void refuse(std::int32_t slot) const {
    if (std::size_t(slot) < placed_.size() && placed_[std::size_t(slot)])
      throw error("buffer plan: a layer of a model with a buffer plan ran outside the model's forward and backward "
                  "(through model.ctx); its buffers share memory along the timeline of a whole pass, which such a call "
                  "does not follow. Build the model with options{.plan_buffers = false} to run its layers yourself");
  }
  static std::string name(std::int32_t event) {
    return event == buffer_timeline::enter ? "a call" : event == buffer_timeline::leave ? "a return" : "buffer " + std::to_string(event);
  }

  enum class role { record, check, refuse };
  role role_ = role::refuse;
  buffer_timeline timeline_;
  std::vector<std::vector<std::int32_t>> scopes_;  // what each open call has touched
  const buffer_timeline* expected_ = nullptr;
  std::vector<bool> placed_;
  std::size_t at_ = 0;
};

/// Where each slot goes in the arena, in floats (-1: never touched, so it keeps storage of its
/// own), and the arena's size: largest first, each at the lowest offset free for its lifetime.
struct arena_layout {
  std::vector<std::int64_t> offset;
  std::int64_t total = 0;
};
/// Places the slots `t` saw touched, of `numel` floats each, in one arena: slots whose lifetimes
/// overlap never share memory (offsets aligned to 16 floats).
inline arena_layout lay_out(const buffer_timeline& t, const std::vector<std::int64_t>& numel) {
  constexpr std::int64_t align = 16;  // floats: 64 bytes, what the kernels' vectors like
  arena_layout out;
  out.offset.assign(numel.size(), -1);
  std::vector<std::size_t> order;
  for (std::size_t s = 0; s < numel.size(); ++s)
    if (t.touched(s) && numel[s] > 0) order.push_back(s);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return numel[a] > numel[b]; });
  std::vector<std::size_t> placed;
  std::vector<std::pair<std::int64_t, std::int64_t>> busy;  // [begin, end) taken by overlapping ones
  for (const auto s : order) {
    busy.clear();
    for (const auto p : placed)
      if (t.overlap(s, p)) busy.emplace_back(out.offset[p], out.offset[p] + numel[p]);
    std::sort(busy.begin(), busy.end());
    std::int64_t at = 0;
    const std::int64_t size = (numel[s] + align - 1) / align * align;
    for (const auto& [b, e] : busy) {
      if (at + size <= b) break;
      at = std::max(at, (e + align - 1) / align * align);
    }
    out.offset[s] = at;
    out.total = std::max(out.total, at + size);
    placed.push_back(s);
  }
  return out;
}

/// The buffers of one setup, in the order context::keep registered them. A tensor carries its
/// slot, the registry's base plus its index: unique across registries, so a tensor of another
/// model (the input of this one) is never taken for one of this model's.
template <class Memory>
class buffer_registry {
 public:
  buffer_registry() = default;
  // The tensors belong to the network: a copied or moved one registers its own at its next setup.
  buffer_registry(const buffer_registry&) {}
  buffer_registry& operator=(const buffer_registry&) { return *this; }

  /// Forgets the last setup's buffers (a new setup registers them again, under a new base).
  void clear() {
    for (auto* t : tensors_) t->set_plan_slot(-1);
    tensors_.clear();
    static std::atomic<std::int64_t> registries{0};
    base_ = (++registries) << 24;
  }
  void add(basic_tensor<Memory>& t) {
    t.set_plan_slot(base_ + std::int64_t(tensors_.size()));
    tensors_.push_back(&t);
  }
  std::size_t size() const { return tensors_.size(); }
  /// The index of `t` here, or -1 when it is not one of these buffers.
  std::int32_t index_of(const basic_tensor<Memory>& t) const {
    const auto i = t.plan_slot() - base_;
    return t.plan_slot() >= 0 && i >= 0 && i < std::int64_t(tensors_.size()) ? std::int32_t(i) : -1;
  }
  std::vector<std::int64_t> sizes() const {
    std::vector<std::int64_t> n;
    for (const auto* t : tensors_) n.push_back(t->numel());
    return n;
  }

  /// Points every placed buffer into `arena`; the others get storage of their own back.
  void point_into(basic_tensor<Memory>& arena, const arena_layout& l) {
    for (std::size_t s = 0; s < tensors_.size(); ++s) {
      auto& t = *tensors_[s];
      if (l.offset[s] >= 0) {
        t.borrow(arena.data() + l.offset[s], std::size_t(t.numel()));
      } else if (t.borrowed()) {
        const auto shape = t.shape();
        const auto layout = t.layout();
        t = basic_tensor<Memory>(shape);
        t.set_layout(layout);
      }
    }
  }

 private:
  std::vector<basic_tensor<Memory>*> tensors_;
  std::int64_t base_ = 0;
};

}  // namespace hush
