#pragma once
// What a layer needs to know besides its input: which backend runs the kernels, train or eval
// mode, the random seed and step, and a scratch workspace shared by all layers of one network.
#include <cstdint>
#include <initializer_list>

#include "hush/core/buffer_plan.hpp"
#include "hush/core/gradient_watch.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/kept.hpp"
#include "hush/core/memory.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"

namespace hush {

namespace distributed {
class communicator;  // distributed/communicator.hpp
}

/// train: batch statistics, dropout, noise layers active. eval: running statistics, no
/// dropout; backward still allowed (input gradients of a fixed network). inference: eval's
/// arithmetic with no backward to come, so a seq may fuse layers (batch norm folded into the
/// convolution before it, ReLU applied in the convolution's kernel) and skip their buffers.
enum class mode { train, eval, inference };

/// What a buffer a layer keeps between calls holds.
enum class buffer_role {
  output,          ///< the layer's forward result, read by the next layer and by its own backward
  input_gradient,  ///< dL/dx, read by the previous layer's backward
  saved,           ///< anything else the backward pass reads (batch statistics, a branch's gradient)
};

/// Bytes of the buffers a network keeps, by role: what a buffer plan could share.
struct buffer_ledger {
  std::int64_t output = 0, input_gradient = 0, saved = 0;
  std::int64_t total() const { return output + input_gradient + saved; }
};

/// What every layer's setup, forward and backward are handed: the backend, the mode, the seeded
/// random streams, and the buffers layers keep (sized by keep(), read through operator[]) in
/// `Backend`'s memory. A model owns one, as its ctx.
template <class Backend>
class context {
 public:
  using backend_type = Backend;
  /// Where this backend's tensors live (core/memory.hpp), and the tensor type layers see.
  using memory = memory_of<Backend>;
  using tensor = basic_tensor<memory>;

  explicit context(std::uint64_t seed = 0) : rng{seed} {}

  Backend backend{};
  hush::mode mode = mode::train;
  counter_rng rng;
  /// Advanced once per training step (by the trainer), so dropout masks and noise differ per step.
  std::uint64_t step = 0;
  /// Counts model::infer() calls: a layer that keeps a copy of its weights made for inference
  /// (conv2d with the batch norm after it folded in, in the backend's layout) makes it again when
  /// this changed since. So weights changed while in inference mode need another infer().
  std::uint64_t inference_version = 0;

  /// Off while a network that never runs backward sets up (graph/frozen.hpp): keep() then
  /// releases input-gradient buffers and parameters get no gradient.
  bool keep_gradients = true;

  /// The processes whose batch statistics batch norm combines in training (layers/norm.hpp), so
  /// that shards of a batch normalise as the whole batch would; none: each its own.
  distributed::communicator* batch_norm_group = nullptr;
  /// Told in backward when a part of the network has its parameters' gradients complete
  /// (core/gradient_watch.hpp): a data-parallel run sums those while backward goes on. None: nobody asks.
  gradient_watch* gradients = nullptr;

  bool training() const { return mode == mode::train; }

  /// A fresh random stream for a layer. Called in setup, in the network's fixed traversal order,
  /// so each layer's stream (and thus its initial weights) depends only on the seed and the type.
  std::uint64_t next_stream() { return ++streams_; }
  void reset_streams() { streams_ = 0; }

  /// Sizes a buffer a layer keeps between calls, in this backend's memory; called from setup,
  /// in the network's traversal order, for every activation, gradient and saved buffer. Outputs
  /// and input gradients are registered for the model's buffer plan (core/buffer_plan.hpp),
  /// which may point them into its arena; saved buffers keep storage of their own.
  tensor& keep(kept& k, shape s, buffer_role role) {
    // A layer setting itself up again inside a pass (the MAE when its mask ratio changed): its
    // buffers get storage of their own below, the pass runs on unchecked, and the model plans again.
    if (watch) watch = nullptr, planned_changed = true;
    auto& t = k.in<memory>();
    t.set_plan_slot(-1);
    if (role == buffer_role::input_gradient && !keep_gradients) return t = tensor{};  // no backward to come
    // A new shape gets fresh storage rather than a resize, which would zero-fill (touch) the
    // growth of buffers the plan may never let this tensor use, or the pass never write.
    if (t.shape() != s || t.borrowed()) t = tensor(s);
    const std::int64_t bytes = s.numel() * std::int64_t(sizeof(float));
    (role == buffer_role::output ? buffers.output : role == buffer_role::input_gradient ? buffers.input_gradient : buffers.saved) += bytes;
    if (role != buffer_role::saved) planned.add(t);
    return t;
  }
  /// Sizes an integer buffer (token indices) in this backend's memory, counted as saved.
  basic_index_tensor<memory>& keep(kept_indices& k, shape s) {
    auto& t = k.in<memory>();
    if (t.shape() != s) t = basic_index_tensor<memory>(s);
    buffers.saved += s.numel() * std::int64_t(sizeof(std::int32_t));
    return t;
  }
  basic_index_tensor<memory>& operator[](kept_indices& k) const { return k.in<memory>(); }
  const basic_index_tensor<memory>& operator[](const kept_indices& k) const { return k.in<memory>(); }
  /// A kept buffer, as this backend's tensor.
  tensor& operator[](kept& k) const { return touched(k.in<memory>()); }
  const tensor& operator[](const kept& k) const { return touched(k.in<memory>()); }
  /// A pointer kept by a composite, as this backend's tensor.
  const tensor& operator[](tensor_ptr p) const { return touched(p.get<memory>()); }

  /// Opens one call of the buffer plan's timeline (core/buffer_plan.hpp): a child's forward or
  /// backward that reads `reads`, closed by end_call with its result. What the call reads and
  /// touches lives until it returns; its result until the caller's own call returns, or, when
  /// `handed_on` (a seq passing it to its next child), until the later calls that read it.
  ///   ctx.begin_call({&x});
  ///   return ctx.end_call(child.forward(ctx, x));
  /// Two plain functions rather than one taking the child's call as a lambda: a lambda per child
  /// and pass was one of three things that had made networks 1.5-1.8 times as slow to compile
  /// (docs/performance.md, session 20).
  void begin_call(std::initializer_list<const tensor*> reads) {
    if (!watch) return;
    watch->enter();
    for (const auto* r : reads) watch->touch(planned.index_of(*r));
  }
  const tensor& end_call(const tensor& y, bool handed_on = false) {
    if (watch) watch->leave(planned.index_of(y), handed_on);  // none: a layer set itself up again inside (keep)
    return y;
  }
  /// The buffers this setup registered for the plan (context::keep).
  buffer_registry<memory> planned;
  /// The probe recording a timeline, or the check of a planned pass; none outside planned models.
  buffer_watch* watch = nullptr;
  /// Set when a buffer was registered during a pass: the model's timelines no longer hold.
  bool planned_changed = false;
  /// What keep() has sized since the network's last setup (model::setup starts it afresh).
  buffer_ledger buffers;

  /// Scratch memory for one kernel call (im2col columns, ...). Valid until the next call.
  float* scratch(std::int64_t count) {
    if (workspace_.numel() < count) workspace_.resize(shape{count});
    return workspace_.data();
  }

 private:
  template <class T>
  T& touched(T& t) const {
    if (watch) watch->touch(planned.index_of(t));
    return t;
  }

  std::uint64_t streams_ = 0;
  tensor workspace_;  // in this backend's memory
};

/// The tensor type a context's layers read and write.
template <class Ctx>
using tensor_of = typename Ctx::tensor;

}  // namespace hush
