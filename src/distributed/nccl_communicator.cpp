// The NCCL data channel: the only file that includes <nccl.h>. Gradients and broadcasts of CUDA
// tensors go over one NCCL communicator per job, on the current CUDA stream, without any host
// synchronisation; the control channel (MPI) bootstraps it: rank 0 makes the unique id and
// broadcasts it. A watchdog thread reports NCCL's asynchronous errors and, under --dist.timeout,
// aborts the communicator when a collective has not completed in time.
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <deque>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/distributed/collectives.h"
#include "gnas/distributed/grad_reducer.h"

namespace gnas::distributed {
namespace {

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kFloat16: return ncclFloat16;
    case torch::kInt64: return ncclInt64;
    case torch::kInt32: return ncclInt32;
    case torch::kUInt8: return ncclUint8;
    default: throw CommError(detail::concat("NCCL: unsupported dtype ", t.scalar_type()));
  }
}

class NcclChannel final : public DataChannel {
 public:
  NcclChannel(Communicator& control, const torch::Device& device, double timeout_s)
      : rank_(control.rank()), size_(control.size()), device_(device), timeout_s_(timeout_s) {
    GNAS_CHECK_AS(ConfigError, device.is_cuda(), "the NCCL channel needs a CUDA device, got ", device.str());
    c10::cuda::CUDAGuard guard(device_);
    // Rank 0's id travels over MPI; a failure to make it, or to join, is agreed by every rank.
    try {
      open_with_root_id(
          control, sizeof(ncclUniqueId),
          [&] {
            ncclUniqueId id;
            std::memset(&id, 0, sizeof id);
            check(ncclGetUniqueId(&id), "ncclGetUniqueId");
            const auto* p = reinterpret_cast<const std::uint8_t*>(&id);
            return std::vector<std::uint8_t>(p, p + sizeof id);
          },
          [&](const std::vector<std::uint8_t>& bytes) {
            ncclUniqueId id;
            std::memcpy(&id, bytes.data(), sizeof id);
            check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
          });
    } catch (...) {
      // This rank joined, another did not: its communicator waits for peers that never come.
      if (comm_) ncclCommAbort(comm_);
      throw;
    }
    watchdog_ = std::thread([this] { watch(); });
  }
  ~NcclChannel() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    // ncclCommDestroy waits for the communicator's work, which never ends when a peer is gone:
    // abort it while an error unwinds, after an NCCL error, or with collectives still pending.
    const bool abort = std::uncaught_exceptions() > 0 || failed_ || !pending_.empty();
    for (auto& p : pending_) cudaEventDestroy(p.event);
    if (comm_) (abort ? ncclCommAbort : ncclCommDestroy)(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "nccl"; }

  void allreduce_sum_(torch::Tensor& t) override {
    prepare(t, "ncclAllReduce");
    c10::cuda::CUDAGuard guard(device_);  // events and NCCL's calls on this channel's device
    auto stream = c10::cuda::getCurrentCUDAStream(device_.index());
    check(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), ncclSum, comm_,
                        stream.stream()),
          "ncclAllReduce", t.numel());
    watch_completion(stream.stream(), "ncclAllReduce", t.numel());
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    cudaEvent_t event;
    Clock::time_point enqueued;
    const char* what;
    int64_t elements;
  };

  void prepare(const torch::Tensor& t, const char* what) const {
    GNAS_CHECK(t.is_contiguous(), what, ": tensor must be contiguous");
    GNAS_CHECK(t.device() == device_, what, ": the tensor is on ", t.device().str(), ", the NCCL communicator on ",
               device_.str());
  }

  /// An NCCL error becomes gnas's error, naming the rank, the operation and NCCL's message.
  void check(ncclResult_t rc, const char* what, int64_t elements = 0) {
    // A blocking communicator (this one) never returns ncclInProgress: it counts as a failure.
    if (rc == ncclSuccess) return;
    failed_ = true;
    const char* last = comm_ ? ncclGetLastError(comm_) : nullptr;
    throw CommError(detail::concat(what, " failed on rank ", rank_, "/", size_, " (", elements, " elements): ",
                                   ncclGetErrorString(rc), last && *last ? std::string(": ") + last : ""));
  }

  /// --dist.timeout: an event after the collective tells the watchdog when it completed.
  void watch_completion(cudaStream_t stream, const char* what, int64_t elements) {
    if (timeout_s_ <= 0) return;
    cudaEvent_t e;
    GNAS_CHECK_AS(CommError, cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess,
                  "--dist.timeout: cannot create a CUDA event to watch ", what, " on rank ", rank_);
    if (cudaEventRecord(e, stream) != cudaSuccess) {
      cudaEventDestroy(e);
      throw CommError(detail::concat("--dist.timeout: cannot record a CUDA event after ", what, " on rank ", rank_));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back({e, Clock::now(), what, elements});
  }

  /// The watchdog thread: reports an asynchronous NCCL error, or a collective that has not completed
  /// within --dist.timeout, aborts the communicator and ends this rank, so that the launcher stops
  /// the job instead of leaving it hanging.
  void watch() {
    cudaSetDevice(device_.index());
    const auto period = std::chrono::milliseconds(
        timeout_s_ > 0 ? std::clamp<int64_t>(int64_t(timeout_s_ * 250), 50, 1000) : 1000);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(comm_, &async) == ncclSuccess && async != ncclSuccess && async != ncclInProgress) {
        GNAS_LOG(ERROR) << "NCCL on rank " << rank_ << "/" << size_ << ": " << ncclGetErrorString(async) << ": "
                        << ncclGetLastError(comm_) << "; ending this rank. Resume from the last checkpoint with --resume.";
        ncclCommAbort(comm_);
        std::_Exit(1);
      }
      while (!pending_.empty()) {
        Pending& p = pending_.front();
        const cudaError_t q = cudaEventQuery(p.event);
        if (q == cudaErrorNotReady) {
          const double waited = std::chrono::duration<double>(Clock::now() - p.enqueued).count();
          if (waited < timeout_s_) break;
          GNAS_LOG(ERROR) << "--dist.timeout " << timeout_s_ << ": " << p.what << " (" << p.elements
                          << " elements) on rank " << rank_ << "/" << size_ << " has not completed after "
                          << int(waited) << " s (a rank is stopped, dead or far behind); aborting the NCCL "
                             "communicator and ending this rank. Resume from the last checkpoint with --resume.";
          ncclCommAbort(comm_);
          std::_Exit(1);
        }
        cudaEventDestroy(p.event);
        pending_.pop_front();
      }
    }
  }

  int rank_, size_;
  torch::Device device_;
  double timeout_s_;
  ncclComm_t comm_ = nullptr;
  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> pending_;
  bool stop_ = false;
  std::atomic<bool> failed_{false};  ///< an NCCL call failed: the destructor aborts instead of destroying
};

}  // namespace

bool ranks_share_a_gpu(Communicator& control, const torch::Device& device) {
  if (control.size() == 1) return false;
  // Each rank's GPU as (host, PCI domain:bus:device), hashed; gathered by a sum of one slot per rank.
  cudaDeviceProp prop;
  GNAS_CHECK_AS(CommError, cudaGetDeviceProperties(&prop, device.index()) == cudaSuccess,
                "cannot read the properties of ", device.str(), " on rank ", control.rank());
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string id = detail::concat(host, "/", prop.pciDomainID, ":", prop.pciBusID, ":", prop.pciDeviceID);
  auto ids = torch::zeros({control.size()}, torch::kInt64);
  ids[control.rank()] = static_cast<int64_t>(std::hash<std::string>{}(id) & 0x7fffffffffffffffULL);
  control.allreduce_sum_(ids);
  auto sorted = std::get<0>(ids.sort());
  return sorted.numel() > 1 && (sorted.slice(0, 1) == sorted.slice(0, 0, -1)).any().item<bool>();
}

std::unique_ptr<DataChannel> make_nccl_channel(Communicator& control, const torch::Device& device, double timeout_s) {
  return std::make_unique<NcclChannel>(control, device, timeout_s);
}

}  // namespace gnas::distributed
