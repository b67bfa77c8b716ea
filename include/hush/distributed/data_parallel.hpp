#pragma once
// Data parallelism: every process holds the whole network and trains on its shard of each
// global batch. The processes' parameter gradients are averaged (each is the gradient of its
// shard's mean loss, so over equal shards their mean is the whole batch's), in buckets while
// backward runs (gradient_averager.hpp); every process then takes the same optimizer step and
// the weights stay equal. At the start (and whenever they may have drifted) process 0's state
// is copied to the others, and a hash per epoch checks that they are still equal.
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
#include "hush/distributed/gradient_averager.hpp"
#include "hush/graph/visit.hpp"

namespace hush::distributed {

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
  for (const kept* k : g.tensors) copy_to_host(*k, values.data() + at), at += std::size_t(k->numel());
  for (const auto* c : g.counters) std::memcpy(values.data() + at, c, sizeof *c), at += 2;
  comm.broadcast(std::as_writable_bytes(std::span<float>(values)), root);
  at = 0;
  for (kept* k : g.tensors) copy_from_host(*k, values.data() + at), at += std::size_t(k->numel());
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
    copy_to_host(p.value, values.data());
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

/// Where a trainer's processes begin: all at the same epoch (else every process throws, `who`
/// naming the trainer and `out` the folder a resumed run needs shared), from process 0's state.
/// Σe and Σe² are N·e and N·e² for every process alike only when all e are equal (Σe² · N = (Σe)²),
/// so every process reaches the same verdict (a sum alone let processes at the mean go on, to
/// wait forever at their next collective).
template <class Net>
void start_together(communicator& comm, Net& net, int first_epoch, const std::string& who, const std::string& out) {
  if (comm.size() == 1) return;
  double starts[] = {double(first_epoch), double(first_epoch) * first_epoch};
  comm.all_reduce_sum(std::span<double>(starts));
  if (starts[0] * starts[0] != starts[1] * comm.size())
    throw error(who + ": the processes would start from different epochs (this one, process " + std::to_string(comm.rank()) +
                ", from epoch " + std::to_string(first_epoch) + "): resuming needs the output folder " + out +
                " shared by every process");
  broadcast_state(comm, net);
}

}  // namespace hush::distributed
