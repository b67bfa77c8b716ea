#pragma once
// The half of a model that does not depend on its network: the context, the passes' modes and
// the buffer plan's side of them (core/buffer_plan.hpp: the timelines per mode and sample shape,
// the arena, the probe, the check of each pass). hush::model<Net, Backend> (graph/model.hpp)
// derives from it and gives the four things that do depend on the network (setting it up,
// running its forward and backward, copying its running statistics). Compiled once per backend
// rather than once per network: as part of every model<Net, ...> it was one of three things that
// had made the composition tests 1.5-1.8 times as slow to compile (docs/performance.md).
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <list>
#include <optional>
#include <utility>
#include <vector>

#include "hush/core/buffer_plan.hpp"
#include "hush/core/context.hpp"

namespace hush {

/// The part of `model<Net, Backend>` that does not depend on the network: the context, the modes,
/// and the passes with their buffer plan. Compiled once per backend rather than per network;
/// model derives from it and supplies what does depend on the network.
template <class Backend>
class model_passes {
 public:
  /// The tensor type it takes and gives: in its backend's memory.
  using tensor = typename context<Backend>::tensor;

  /// Prepares for inputs of shape `in` (allocating and initialising parameters the first time).
  /// Then plans which activations are in the backend's blocked layout (core/layout.hpp): the
  /// input and output are NCHW.
  void setup(shape in) {
    if (in == input_) return;
    prepare(in);
    input_ = in;
    laid_out_ = {};
  }
  /// In train and eval mode x is read again by the backward that follows: it must live until then
  /// (a temporary is kept by the model: the overload below).
  const tensor& forward(const tensor& x) {
    setup(x.shape());
    lay_out_buffers();
    const tensor& input = outside_arena(x, input_copy_);
    backward_ready_ = false;
    const tensor* y = nullptr;
    if (recording_) {  // this pass is the probe
      ctx.watch = &recorder_;
      try {
        y = &run_forward(input);
      } catch (...) {
        ctx.watch = nullptr, recording_ = false;
        throw;
      }
      ctx.watch = nullptr;
      if (!ctx.planned_changed) timelines_.emplace_back(key(), recorder_.take());
      recording_ = false, laid_out_ = {};
    } else {
      const pass p(*this, false);
      y = &run_forward(input);
    }
    backward_ready_ = true, forward_inferred_ = ctx.mode == mode::inference;
    if (ctx.planned_changed) forget_plan();
    return *y;
  }
  /// A temporary input (m.forward(to(m.ctx.backend, x)) when x is elsewhere) is moved into the
  /// model and kept until the next forward, so that the backward after it reads live memory.
  const tensor& forward(tensor&& x) {
    temporary_input_ = std::move(x);
    return forward(std::as_const(temporary_input_));
  }
  /// Backward of the last forward: returns dL/dx, adds into the parameters' gradients.
  const tensor& backward(const tensor& dy) {
    if (forward_inferred_) return run_backward(dy);  // which the net refuses (graph/seq.hpp), naming why
    if (ctx.watch == &check_ && !backward_ready_)
      throw error("model::backward: no forward since the last backward; the buffer plan has given the memory of "
                  "the activations a second backward would read to the gradients (run forward again, or build the "
                  "model with options{.plan_buffers = false})");
    backward_ready_ = false;
    const tensor& g = outside_arena(dy, gradient_copy_);
    const pass p(*this, true);
    const tensor& dx = run_backward(g);
    if (ctx.planned_changed) forget_plan();
    return dx;
  }

  /// Bytes of the activation, gradient and saved buffers the layers keep (context::keep).
  buffer_ledger buffers() const { return ctx.buffers; }
  /// Bytes of the arena the buffer plan shares between them (0 while none is laid out).
  std::int64_t arena_bytes() const { return arena_.numel() * std::int64_t(sizeof(float)); }

  void train() { ctx.mode = mode::train; }
  void eval() { ctx.mode = mode::eval; }
  /// Eval's arithmetic with no backward to come: batch norm folded into the convolutions (from
  /// the weights as they are now: call infer() again after changing them), ReLU fused into
  /// them, their buffers skipped. backward() after an inference forward throws.
  void infer() {
    ctx.mode = mode::inference;
    ++ctx.inference_version;
  }
  shape input_shape() const { return input_; }

  context<Backend> ctx;

 protected:
  model_passes(std::uint64_t seed, bool plan_buffers) : ctx(seed), plan_buffers_(plan_buffers) {}
  // A copy or a moved-to model sets itself up again before its next pass: the plan's record of
  // the buffers names the original's.
  model_passes(const model_passes& o) : ctx(o.ctx), plan_buffers_(o.plan_buffers_) { ctx.watch = nullptr; }
  model_passes(model_passes&& o) noexcept : ctx(std::move(o.ctx)), plan_buffers_(o.plan_buffers_), arena_(std::move(o.arena_)) {
    ctx.watch = nullptr;
  }
  void swap_with(model_passes& o) noexcept {
    std::swap(ctx, o.ctx), std::swap(arena_, o.arena_);
    ctx.watch = nullptr;
    plan_buffers_ = o.plan_buffers_, input_ = {}, laid_out_ = {}, timelines_.clear();
  }
  ~model_passes() = default;

  // What depends on the network, from model<Net, Backend>.
  /// Sets the network up for `in` and plans its layouts; the buffers register for the plan.
  virtual void prepare(shape in) = 0;
  virtual const tensor& run_forward(const tensor& x) = 0;
  virtual const tensor& run_backward(const tensor& dy) = 0;
  /// Copies the network's buffers and counters out (save) or back.
  virtual void snapshot(std::vector<kept>& buffers, std::vector<std::int64_t>& counters, bool save) = 0;

  /// Starts prepare(): the buffers the setup registers replace the plan's.
  void start_setup() {
    ctx.watch = nullptr;  // setup re-creates the buffers; the plan is laid out again after it
    ctx.reset_streams();
    ctx.buffers = {};
    ctx.planned.clear();
    input_ = {};
  }

 private:
  /// A forward or backward pass checked against the timeline while it runs; between passes the
  /// arena is refused to anyone running the net's layers through ctx (core/buffer_plan.hpp).
  struct pass {
    model_passes& m;
    pass(model_passes& owner, bool backward) : m(owner) {
      if (m.ctx.watch == &m.check_) m.check_.start(backward);
    }
    ~pass() {
      if (m.ctx.watch == &m.check_) m.check_.stop();
    }
  };

  /// A layer registered buffers during the last pass (it set itself up again): the timelines
  /// recorded before may not hold. The next forward sets the network up and probes afresh; until
  /// then no check is armed (the buffers registered in the pass have storage of their own).
  void forget_plan() {
    ctx.planned_changed = false, ctx.watch = nullptr;
    timelines_.clear();
    input_ = {}, laid_out_ = {};
  }

  /// The timeline of a pass in this mode, on inputs shaped like the current one but for the batch.
  struct timeline_key {
    hush::mode mode;
    shape sample;
    bool operator==(const timeline_key&) const = default;
  };
  timeline_key key() const {
    shape s = input_;
    s[0] = 1;
    return {ctx.mode, s};
  }

  /// Points the planned buffers into the arena as this mode's timeline lays them out, probing
  /// for the timeline first when this mode has none yet.
  void lay_out_buffers() {
    if (!plan_buffers_) return;
    const auto k = key();
    if (laid_out_ && *laid_out_ == k) return;
    ctx.watch = nullptr;
    recording_ = false;
    auto found = std::find_if(timelines_.begin(), timelines_.end(), [&](const auto& t) { return t.first == k; });
    if (found == timelines_.end()) {
      if (ctx.mode == mode::inference && input_[0] == 1) {  // the probe's shape, and no backward: probe in this pass
        recorder_ = buffer_watch(ctx.planned.size());
        recording_ = true;
        return;
      }
      timelines_.emplace_back(k, probe());
      found = std::prev(timelines_.end());
    }
    const auto& timeline = found->second;
    laid_out_ = k;
    if (!timeline || timeline->first.size() != ctx.planned.size()) return;  // no plan: storage of their own
    const auto layout = lay_out(*timeline, ctx.planned.sizes());
    if (arena_.numel() < layout.total) {
      arena_ = tensor{};  // the old one is released before the new one is taken
      arena_ = tensor(shape{layout.total});
    }
#if HUSH_POISON_ARENA
    if constexpr (tensor::memory::host_accessible) arena_.fill(std::numeric_limits<float>::quiet_NaN());
#endif
    ctx.planned.point_into(arena_, layout);
    std::vector<bool> placed;
    for (const auto offset : layout.offset) placed.push_back(offset >= 0);
    check_ = buffer_watch(*timeline, std::move(placed));
    ctx.watch = &check_;
  }

  /// Records the timeline: one pass at batch 1 on zeros, forward and, unless in inference mode,
  /// backward with a zero gradient (which adds nothing to the parameters' gradients). Running
  /// statistics and counters the train-mode pass moves are put back. No timeline (every buffer
  /// keeps its own storage) when the network cannot run at batch 1.
  std::optional<buffer_timeline> probe() {
    const shape real = input_;
    shape small = real;
    small[0] = 1;
    std::vector<kept> buffers;
    std::vector<std::int64_t> counters;
    const bool train = ctx.mode == mode::train;
    if (train) snapshot(buffers, counters, true);
    std::optional<buffer_timeline> timeline;
    buffer_watch recorder(0);
    try {
      prepare(small);
      recorder = buffer_watch(ctx.planned.size());
      ctx.watch = &recorder;
      tensor x(small);
      const tensor& y = run_forward(x);
      recorder.end_forward();
      if (ctx.mode != mode::inference) run_backward(tensor(y.shape()));
      if (!ctx.planned_changed) timeline = recorder.take();  // else a layer set itself up again mid-pass: no plan
      ctx.planned_changed = false;
    } catch (const std::exception&) {
      timeline.reset();
      ctx.planned_changed = false;
    }
    ctx.watch = nullptr;
    if (train) snapshot(buffers, counters, false);
    prepare(real);
    input_ = real;
    return timeline;
  }

  /// x itself, or a copy when it lives in this model's arena (its own output fed back in), which
  /// the pass would overwrite while reading it.
  const tensor& outside_arena(const tensor& x, tensor& copy) const {
    const float* a = arena_.data();
    if (!a || x.data() < a || x.data() >= a + arena_.numel()) return x;
    copy = x;
    return copy;
  }

  shape input_{};
  bool plan_buffers_ = true;
  tensor arena_;
  std::list<std::pair<timeline_key, std::optional<buffer_timeline>>> timelines_;  // a list: check_ points into it
  std::optional<timeline_key> laid_out_;
  buffer_watch check_, recorder_;
  bool backward_ready_ = false, forward_inferred_ = false, recording_ = false;
  tensor input_copy_, gradient_copy_;
  tensor temporary_input_;  // forward(tensor&&)'s input, alive until the next forward
};

}  // namespace hush
