// The MPI communicator: the only file that includes <mpi.h>. CUDA tensors are staged through one
// reused pinned host buffer.
// The C API only: no MPI C++ bindings (they are deprecated and need extra libraries).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/distributed/communicator.h"

namespace gnas::distributed {
namespace {

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    case torch::kUInt8: return MPI_UINT8_T;
    case torch::kFloat16:
    case torch::kBFloat16: return MPI_UINT16_T;  // moved as 2-byte words; sums go through float32
    default: throw CommError(detail::concat("MPI: unsupported dtype ", t.scalar_type()));
  }
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      owns_mpi_ = true;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank_);
    MPI_Comm_free(&local);
  }
  ~MpiCommunicator() override {
    if (watchdog_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_watchdog_ = true;
      }
      wake_.notify_all();
      watchdog_.join();
    }
    MPI_Comm_free(&comm_);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_mpi_ && !finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string backend_name() const override { return "mpi"; }

  void allreduce_sum_(torch::Tensor& t) override {
    GNAS_CHECK(t.is_contiguous(), "MPI allreduce: tensor must be contiguous");
    if (t.numel() == 0) return;
    if (t.scalar_type() == torch::kFloat16 || t.scalar_type() == torch::kBFloat16) {
      // MPI has no 16-bit float type: sum in float32, then round once.
      auto wide = t.to(torch::kFloat32);
      allreduce_sum_(wide);
      t.copy_(wide);
      return;
    }
    torch::Tensor host = stage_in(t);
    Watched watched(*this, "MPI_Allreduce", host.numel());
    check(MPI_Allreduce(MPI_IN_PLACE, host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), MPI_SUM, comm_),
          "MPI_Allreduce", host);
    stage_out(t, host);
  }

  void broadcast_(torch::Tensor& t, int root) override {
    GNAS_CHECK(t.is_contiguous(), "MPI broadcast: tensor must be contiguous");
    if (t.numel() == 0) return;
    torch::Tensor host = stage_in(t);
    Watched watched(*this, "MPI_Bcast", host.numel());
    check(MPI_Bcast(host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), root, comm_), "MPI_Bcast", host);
    stage_out(t, host);
  }

  void barrier() override {
    Watched watched(*this, "MPI_Barrier", 0);
    check(MPI_Barrier(comm_), "MPI_Barrier", torch::Tensor());
  }

  void set_collective_timeout(double seconds) override {
    timeout_s_ = seconds;
    if (seconds > 0 && !watchdog_.joinable()) watchdog_ = std::thread([this] { watch(); });
  }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(comm_, exit_code);
    std::_Exit(exit_code);
  }

 private:
  using Clock = std::chrono::steady_clock;

  /// Marks a collective as in progress for the watchdog while it lives.
  struct Watched {
    Watched(MpiCommunicator& c, const char* what, int64_t elements) : c_(c) {
      c_.op_elements_ = elements;
      c_.op_name_ = what;
      c_.op_started_ns_ = Clock::now().time_since_epoch().count();
    }
    ~Watched() { c_.op_started_ns_ = 0; }
    MpiCommunicator& c_;
  };

  /// The watchdog thread: makes no MPI call; a collective stuck past the timeout is reported and
  /// the process exits, which makes mpirun/srun end every rank.
  void watch() {
    const auto period = std::chrono::milliseconds(std::clamp<int64_t>(int64_t(timeout_s_ * 250), 50, 1000));
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stop_watchdog_; })) {
      const int64_t started = op_started_ns_;
      if (started == 0) continue;
      const double waited = std::chrono::duration<double>(Clock::now().time_since_epoch() -
                                                          Clock::duration(started)).count();
      if (waited < timeout_s_) continue;
      GNAS_LOG(ERROR) << "--dist.timeout " << timeout_s_ << ": " << op_name_.load() << " (" << op_elements_.load()
                      << " elements) on rank " << rank_ << "/" << size_ << " has waited " << int(waited)
                      << " s for the other ranks (one is stopped, dead or far behind); ending this rank so that "
                         "the launcher stops the job. Resume from the last checkpoint with --resume.";
      std::_Exit(1);
    }
  }

  /// CPU tensors are used in place; CUDA tensors are copied into the reused host buffer.
  torch::Tensor stage_in(const torch::Tensor& t) {
    if (!t.is_cuda()) return t;
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    if (!staging_.defined() || staging_.numel() < bytes)
      staging_ = torch::empty({bytes}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
    auto host = staging_.slice(0, 0, bytes).view(t.scalar_type()).view(t.sizes());
    host.copy_(t);
    return host;
  }
  static void stage_out(torch::Tensor& t, const torch::Tensor& host) {
    if (t.is_cuda()) t.copy_(host);
  }
  void check(int rc, const char* what, const torch::Tensor& t) const {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw CommError(detail::concat(what, " failed on rank ", rank_, "/", size_, " (",
                                   t.defined() ? t.numel() : 0, " elements): ", std::string(msg, len)));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool owns_mpi_ = false;
  torch::Tensor staging_;
  // --dist.timeout: the collective in progress (started_ns 0 = none) and the watchdog thread.
  double timeout_s_ = 0;
  std::atomic<int64_t> op_started_ns_{0}, op_elements_{0};
  std::atomic<const char*> op_name_{""};
  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_watchdog_ = false;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace gnas::distributed
