// The MPI communicator: the only file that includes <mpi.h>. CUDA tensors are staged through one
// reused pinned host buffer.
// The C API only: no MPI C++ bindings (they are deprecated and need extra libraries).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/dist/communicator.h"

namespace gnas::dist {
namespace {

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    case torch::kUInt8: return MPI_UINT8_T;
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
    torch::Tensor host = stage_in(t);
    check(MPI_Allreduce(MPI_IN_PLACE, host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), MPI_SUM, comm_),
          "MPI_Allreduce", host);
    stage_out(t, host);
  }

  void broadcast_(torch::Tensor& t, int root) override {
    GNAS_CHECK(t.is_contiguous(), "MPI broadcast: tensor must be contiguous");
    if (t.numel() == 0) return;
    torch::Tensor host = stage_in(t);
    check(MPI_Bcast(host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), root, comm_), "MPI_Bcast", host);
    stage_out(t, host);
  }

  void barrier() override { check(MPI_Barrier(comm_), "MPI_Barrier", torch::Tensor()); }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(comm_, exit_code);
    std::_Exit(exit_code);
  }

 private:
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
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace gnas::dist
