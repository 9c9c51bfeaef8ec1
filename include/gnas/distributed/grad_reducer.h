#pragma once
/// The data channel of a data-parallel step, apart from the control channel: what carries the
/// gradients (and the broadcasts of device tensors). MPI (staged through host memory for CUDA
/// tensors) or NCCL (on the current CUDA stream, no host involvement). The GradReducer packs
/// gradients into flat buckets and averages them over it.
#include <cstdint>
#include <memory>
#include <string>
#include <torch/types.h>
#include <vector>

#include "gnas/distributed/communicator.h"
#include "gnas/distributed/options.h"

namespace gnas::distributed {

class DataChannel {
 public:
  virtual ~DataChannel() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Sums `t` over all ranks in place (contiguous; float32/64, bfloat16, float16, int32/64, uint8).
  /// NCCL: enqueued on the current CUDA stream and returns at once. Collective.
  virtual void allreduce_sum_(torch::Tensor& t) = 0;
  /// "serial", "mpi" or "nccl".
  virtual std::string name() const = 0;
};

/// The data channel that `gradients` names (resolve_backend), for tensors on `device`:
/// serial/mpi reuse `control`; nccl makes one NCCL communicator per job, its unique id made by
/// rank 0 and broadcast over `control`. `timeout_s` > 0 (--dist.timeout): an NCCL collective that
/// does not complete in time aborts the communicator and ends the rank with a report. Collective.
std::unique_ptr<DataChannel> make_data_channel(Backend gradients, Communicator& control, const torch::Device& device,
                                               double timeout_s = 0);

/// True when two ranks of the job use the same GPU (same host and PCI address), which NCCL cannot
/// do. Collective over `control`. False in a build without NCCL (nothing to decide there).
bool ranks_share_a_gpu(Communicator& control, const torch::Device& device);

/// Averages gradients over ranks: gradient g_r of a rank holding n_r of the global batch's B samples
/// (a mean over its n_r samples) becomes sum_r (n_r / B) g_r, the gradient of the global mean.
/// Gradients are packed into flat buckets of at most `bucket_bytes` (of the gradients' own element
/// size), one allreduce per bucket; a single gradient larger than a bucket goes alone, through a
/// buffer of its own for that call. Nothing here reads a device value on the host.
class GradReducer {
 public:
  explicit GradReducer(DataChannel& channel, int64_t bucket_bytes = 25 << 20);
  /// params: same order on every rank; each must have a defined gradient of one dtype and device.
  /// `local_fraction` = n_r / B. Collective.
  void average(const std::vector<torch::Tensor>& params, double local_fraction);
  int64_t collectives_last_call() const { return collectives_; }
  /// The bucket layout of `params`: the parameter index ranges [begin, end) of each bucket, in
  /// order. The same for every backend and rank (it depends on sizes and dtypes only).
  std::vector<std::pair<std::size_t, std::size_t>> buckets(const std::vector<torch::Tensor>& params) const;

 private:
  DataChannel& channel_;
  int64_t bucket_bytes_;
  torch::Tensor buffer_;  // reused flat bucket (per device and dtype of the gradients)
  int64_t collectives_ = 0;
};

}  // namespace gnas::distributed
