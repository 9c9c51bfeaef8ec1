// make_communicator and the serial communicator. The one #if on GNAS_WITH_MPI lives here.
#include <cstdlib>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/distributed/communicator.h"

namespace gnas::distributed {

#if GNAS_WITH_MPI
std::unique_ptr<Communicator> make_mpi_communicator();  // src/distributed/mpi_communicator.cpp
#endif

namespace {
class SerialCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  void allreduce_sum_(torch::Tensor&) override {}
  void broadcast_(torch::Tensor&, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }
  std::string backend_name() const override { return "serial"; }
};
}  // namespace

bool built_with_mpi() { return GNAS_WITH_MPI != 0; }

bool built_with_nccl() { return GNAS_WITH_NCCL != 0; }

std::unique_ptr<Communicator> make_communicator(Backend backend, bool launched_under_mpi) {
  BackendContext context;
  context.launched_under_mpi = launched_under_mpi;
  context.built_with_mpi = built_with_mpi();
  if (resolve_control(backend, context) == Backend::kSerial) return std::make_unique<SerialCommunicator>();
#if GNAS_WITH_MPI
  return make_mpi_communicator();
#else
  return std::make_unique<SerialCommunicator>();  // unreachable: resolve_control refuses MPI here
#endif
}

}  // namespace gnas::distributed
