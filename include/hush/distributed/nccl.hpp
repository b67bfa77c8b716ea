#pragma once
// The communicator between GPUs: gradients in device memory are averaged where they are by
// NCCL (the CUDA toolkit's libnccl; link hush::nccl), one GPU per process, while everything
// small (loss sums, batch norm's statistics, the start's broadcast) goes through a host
// communicator, which also hands every process NCCL's id at the start:
//
//   hush::distributed::mpi_communicator world(&argc, &argv);
//   hush::distributed::nccl_communicator gpus(world);          // the GPU: world.rank() % devices
//   options.comm = &gpus;
//
// gradient_averager sees averages_device_memory() and packs each bucket on the device
// (distributed/gradient_averager.hpp). Compiled by nvcc in CUDA builds (CI has no GPU: it is
// compiled there, never run).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>

#include "hush/core/error.hpp"
#include "hush/distributed/communicator.hpp"

namespace hush::distributed {

/// A communicator between GPUs, one per process: NCCL averages gradients in device memory where
/// they are; everything else (and NCCL's id at the start) goes through a host communicator.
class nccl_communicator final : public communicator {
 public:
  /// One NCCL rank per process of `host`, on GPU `host.rank() % GPUs` (one process per GPU).
  explicit nccl_communicator(communicator& host) : host_(host) {
    int devices = 0;
    cuda(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
    if (devices < 1) throw backend_error("NCCL: this process sees no GPU");
    cuda(cudaSetDevice(host.rank() % devices), "cudaSetDevice");
    ncclUniqueId id{};
    if (host.is_root()) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(std::as_writable_bytes(std::span<ncclUniqueId>(&id, 1)), 0);
    check(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
    cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  nccl_communicator(const nccl_communicator&) = delete;
  nccl_communicator& operator=(const nccl_communicator&) = delete;
  ~nccl_communicator() override {
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }

  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  void all_reduce_sum(std::span<float> v) override { host_.all_reduce_sum(v); }
  void all_reduce_sum(std::span<double> v) override { host_.all_reduce_sum(v); }
  void broadcast(std::span<std::byte> bytes, int root) override { host_.broadcast(bytes, root); }
  [[noreturn]] void abort(int code) override {
    ncclCommAbort(comm_);
    host_.abort(code);
    std::abort();
  }

  bool averages_device_memory() const override { return true; }
  void start_all_reduce_mean_device(float* values, std::size_t count) override {
    // On NCCL's own stream: the device copies that packed the bucket (cudaMemcpy) have finished.
    check(ncclAllReduce(values, values, count, ncclFloat, ncclAvg, comm_, stream_), "ncclAllReduce");
  }
  void wait_all() override {
    cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (NCCL's all-reduces)");
    host_.wait_all();
  }
  void progress() override { host_.progress(); }
  void start_all_reduce_sum(std::span<float> v) override { host_.start_all_reduce_sum(v); }

 private:
  static void check(ncclResult_t status, const char* what) {
    if (status != ncclSuccess) throw backend_error(std::string("NCCL: ") + what + " failed: " + ncclGetErrorString(status));
  }
  static void cuda(cudaError_t status, const char* what) {
    if (status != cudaSuccess) throw backend_error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorString(status));
  }

  communicator& host_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace hush::distributed
