#pragma once
// The processes of a data-parallel run and the collectives training needs from them: a sum of
// every process's gradients (all-reduce) and one process's bytes copied to all (broadcast).
// An interface, so that the core never includes MPI: distributed/mpi.hpp implements it over MPI,
// distributed/threads.hpp with threads of one process (tests, and trying a run's equivalence
// without a cluster); a run alone has no communicator at all (a null pointer everywhere).
#include <cstddef>
#include <span>

#include "hush/core/error.hpp"

namespace hush::distributed {

/// The collectives a data-parallel run needs from its processes: element-wise sums and broadcast.
/// An interface so that the core never includes MPI (mpi_communicator, nccl_communicator and
/// thread_group implement it); a run alone passes a null pointer instead.
class communicator {
 public:
  virtual ~communicator() = default;

  /// This process's number, 0 to size() - 1; process 0 writes the run's files.
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Replaces `values` on every process by their element-wise sum over all processes; every
  /// process receives the same sums (bit for bit).
  virtual void all_reduce_sum(std::span<float> values) = 0;
  virtual void all_reduce_sum(std::span<double> values) = 0;
  /// all_reduce_sum without waiting for it: `values` is not to be read or written until
  /// wait_all() returns. Every process starts its sums in the same order. What a gradient bucket
  /// sends while backward goes on; by default (a communicator with no such call) it sums at once.
  virtual void start_all_reduce_sum(std::span<float> values) { all_reduce_sum(values); }
  /// Lets started sums advance (MPI moves them on only inside its calls); cheap enough to call
  /// after every layer's backward.
  virtual void progress() {}
  /// Returns when every started sum (and mean) has finished.
  virtual void wait_all() {}
  /// Whether start_all_reduce_mean_device works: a communicator between GPUs (NCCL,
  /// distributed/nccl.hpp) averages gradients where they are; others see them through the host.
  virtual bool averages_device_memory() const { return false; }
  /// Starts replacing `count` floats of device memory at `values` by their mean over the
  /// processes (done at wait_all()).
  virtual void start_all_reduce_mean_device(float* values, std::size_t count) {
    (void)values, (void)count;
    throw error("this communicator cannot sum device memory (averages_device_memory() is false)");
  }
  /// Replaces `bytes` on every process by process `root`'s.
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  /// Ends every process of the run with `code`: what a process that failed alone calls, so that
  /// the others do not wait for it forever at their next collective.
  [[noreturn]] virtual void abort(int code) = 0;

  bool is_root() const { return rank() == 0; }
};

/// How many processes share the work (1 without a communicator).
inline int size_of(const communicator* c) { return c ? c->size() : 1; }
/// This process's rank (0 without a communicator: the only process is the root).
inline int rank_of(const communicator* c) { return c ? c->rank() : 0; }

}  // namespace hush::distributed
