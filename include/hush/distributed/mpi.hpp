#pragma once
// The communicator over MPI (Debian's libopenmpi-dev; link hush::mpi): one process per MPI rank
// of MPI_COMM_WORLD, started by mpirun or a cluster's scheduler (docs/distributed.md).
//
//   hush::distributed::mpi_communicator world(&argc, &argv);   // MPI_Init, MPI_Finalize at exit
//   options.comm = &world;
// The C API only: Open MPI's and MPICH's C++ bindings, deprecated since MPI 2.2, stay out.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/distributed/communicator.hpp"

namespace hush::distributed {

/// The communicator over MPI: one process per rank of MPI_COMM_WORLD, started by mpirun or a
/// cluster's scheduler. It initialises and finalises MPI unless the program already initialised it.
class mpi_communicator final : public communicator {
 public:
  /// Initialises MPI unless the program has (and then leaves finalising to it).
  mpi_communicator(int* argc, char*** argv) {
    int ready = 0;
    check(MPI_Initialized(&ready), "MPI_Initialized");
    if (!ready) check(MPI_Init(argc, argv), "MPI_Init"), owns_ = true;
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  mpi_communicator(const mpi_communicator&) = delete;
  mpi_communicator& operator=(const mpi_communicator&) = delete;
  ~mpi_communicator() override {
    if (owns_) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(std::span<float> v) override { reduce(v.data(), v.size(), MPI_FLOAT); }
  void all_reduce_sum(std::span<double> v) override { reduce(v.data(), v.size(), MPI_DOUBLE); }
  void start_all_reduce_sum(std::span<float> v) override {
    for (std::size_t at = 0; at < v.size(); at += chunk) {
      MPI_Request request{};
      check(MPI_Iallreduce(MPI_IN_PLACE, v.data() + at, count(v.size() - at), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
            "MPI_Iallreduce");
      pending_.push_back(request);
    }
  }
  void progress() override {
    if (pending_.empty()) return;
    int done = 0;
    check(MPI_Testall(int(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    if (done) pending_.clear();
  }
  void wait_all() override {
    if (pending_.empty()) return;
    check(MPI_Waitall(int(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    pending_.clear();
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();  // MPI_Abort does not return; this tells the compiler so
  }
  void broadcast(std::span<std::byte> bytes, int root) override {
    for (std::size_t at = 0; at < bytes.size(); at += chunk)
      check(MPI_Bcast(bytes.data() + at, count(bytes.size() - at), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }

 private:
  static constexpr std::size_t chunk = std::size_t(1) << 30;  // MPI counts are ints
  static int count(std::size_t left) { return static_cast<int>(left < chunk ? left : chunk); }
  template <class T>
  void reduce(T* data, std::size_t n, MPI_Datatype type) {
    for (std::size_t at = 0; at < n; at += chunk)
      check(MPI_Allreduce(MPI_IN_PLACE, data + at, count(n - at), type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  static void check(int status, const char* what) {
    if (status == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    throw error(std::string("MPI: ") + what + " failed: " + std::string(text, std::size_t(length)));
  }

  int rank_ = 0, size_ = 1;
  bool owns_ = false;
  std::vector<MPI_Request> pending_;  // started sums (MPI_Testall completes them as a set)
};

}  // namespace hush::distributed
