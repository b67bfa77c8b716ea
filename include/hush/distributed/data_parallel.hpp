#pragma once
// Data parallelism: every process holds the whole network and trains on its shard of each
// global batch. After backward, the processes' parameter gradients are averaged (each is the
// gradient of its shard's mean loss, so over equal shards their mean is the whole batch's);
// every process then takes the same optimizer step and the weights stay equal. At the start
// (and whenever they may have drifted) process 0's state is copied to the others.
//   hush::distributed::gradient_averager sync;
//   m.backward(dlogits);  sync(*comm, m.net);  opt.step(m.ctx.backend);
// Batch norm's statistics are synchronised inside the layer (layers/norm.hpp, ctx.batch_norm_group).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/kept.hpp"
#include "hush/core/parameter.hpp"
#include "hush/distributed/communicator.hpp"
#include "hush/graph/visit.hpp"

namespace hush::distributed {

namespace detail {
/// k's values into `to` (host memory), wherever they live.
inline void copy_out(const kept& k, float* to) {
  const auto bytes = std::size_t(k.numel()) * sizeof(float);
  if (k.on_device()) device_memory::to_host(to, k.in<device_memory>().data(), bytes);
  else std::memcpy(to, k.in<host_memory>().data(), bytes);
}
/// `from` (host memory) into k's values, wherever they live.
inline void copy_in(kept& k, const float* from) {
  const auto bytes = std::size_t(k.numel()) * sizeof(float);
  if (k.on_device()) device_memory::from_host(k.in<device_memory>().data(), from, bytes);
  else std::memcpy(k.in<host_memory>().data(), from, bytes);
}
}  // namespace detail

/// Averages every parameter gradient of a network over the processes, in one all-reduce of
/// one contiguous buffer (kept between calls: no allocation after the first step).
class gradient_averager {
 public:
  template <class Net>
  void operator()(communicator& comm, Net& net) {
    if (comm.size() == 1) return;
    std::size_t total = 0;
    for_each_parameter(net, [&](std::string_view, parameter& p) { total += std::size_t(p.grad.numel()); });
    flat_.resize(total);
    std::size_t at = 0;
    for_each_parameter(net, [&](std::string_view, parameter& p) {
      detail::copy_out(p.grad, flat_.data() + at);
      at += std::size_t(p.grad.numel());
    });
    comm.all_reduce_sum(std::span<float>(flat_));
    const float share = 1.0f / float(comm.size());
    for (auto& g : flat_) g *= share;
    at = 0;
    for_each_parameter(net, [&](std::string_view, parameter& p) {
      detail::copy_in(p.grad, flat_.data() + at);
      at += std::size_t(p.grad.numel());
    });
  }
  /// Floats sent per step (each process's share of the all-reduce's payload).
  std::size_t floats() const { return flat_.size(); }

 private:
  std::vector<float> flat_;
};

/// Copies process `root`'s parameters, buffers (batch norm's running statistics) and counters
/// into every other process's network.
template <class Net>
void broadcast_state(communicator& comm, Net& net, int root = 0) {
  if (comm.size() == 1) return;
  struct gather {
    std::vector<kept*> tensors;
    std::vector<std::int64_t*> counters;
    void parameter(std::string_view, hush::parameter& p) { tensors.push_back(&p.value); }
    void buffer(std::string_view, kept& k) { tensors.push_back(&k); }
    void counter(std::string_view, std::int64_t& c) { counters.push_back(&c); }
  } g;
  any_visitor erased(g);
  net.visit(erased);
  std::size_t floats = 0;
  for (const kept* k : g.tensors) floats += std::size_t(k->numel());
  std::vector<float> values(floats + 2 * g.counters.size());  // a counter as two floats' bytes
  std::size_t at = 0;
  for (const kept* k : g.tensors) detail::copy_out(*k, values.data() + at), at += std::size_t(k->numel());
  for (const auto* c : g.counters) std::memcpy(values.data() + at, c, sizeof *c), at += 2;
  comm.broadcast(std::as_writable_bytes(std::span<float>(values)), root);
  at = 0;
  for (kept* k : g.tensors) detail::copy_in(*k, values.data() + at), at += std::size_t(k->numel());
  for (auto* c : g.counters) std::memcpy(c, values.data() + at, sizeof *c), at += 2;
}

/// Throws hush::error on every process when some process's parameters differ from process 0's
/// (a reduction that gave different processes different sums, or a process given other data):
/// compares a hash of each process's parameter bytes. Cheap enough for every epoch.
template <class Net>
void check_same_parameters(communicator& comm, Net& net, const std::string& when) {
  if (comm.size() == 1) return;
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a over the values' bytes
  std::vector<float> values;
  for_each_parameter(net, [&](std::string_view, parameter& p) {
    values.resize(std::size_t(p.value.numel()));
    detail::copy_out(p.value, values.data());
    for (const auto byte : std::as_bytes(std::span<const float>(values))) hash = (hash ^ std::uint64_t(byte)) * 1099511628211ull;
  });
  std::uint64_t root = hash;
  comm.broadcast(std::as_writable_bytes(std::span<std::uint64_t>(&root, 1)), 0);
  double differ[] = {root == hash ? 0.0 : 1.0};
  comm.all_reduce_sum(std::span<double>(differ));
  if (differ[0] > 0)
    throw error("data parallel: the parameters of " + std::to_string(int(differ[0])) + " of " + std::to_string(comm.size()) +
                " processes differ from process 0's " + when);
}

}  // namespace hush::distributed
