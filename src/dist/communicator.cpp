// make_communicator and the serial communicator. The one #if on GNAS_WITH_MPI lives here.
#include <cstdlib>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/dist/communicator.h"

namespace gnas::dist {

#if GNAS_WITH_MPI
std::unique_ptr<Communicator> make_mpi_communicator();  // src/dist/mpi_communicator.cpp
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

Backend parse_backend(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "serial") return Backend::kSerial;
  if (name == "mpi") return Backend::kMpi;
  throw ConfigError("--dist.backend must be auto, serial or mpi, got " + name);
}

bool built_with_mpi() { return GNAS_WITH_MPI != 0; }

std::unique_ptr<Communicator> make_communicator(Backend backend, bool launched_under_mpi) {
  if (backend == Backend::kSerial || (backend == Backend::kAuto && !launched_under_mpi))
    return std::make_unique<SerialCommunicator>();
#if GNAS_WITH_MPI
  return make_mpi_communicator();
#else
  if (backend == Backend::kMpi) throw ConfigError("--dist.backend mpi: this gnas was built without MPI (GNAS_WITH_MPI=OFF)");
  return std::make_unique<SerialCommunicator>();
#endif
}

}  // namespace gnas::dist
