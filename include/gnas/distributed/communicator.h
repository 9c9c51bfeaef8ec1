#pragma once
/// Process-group communication behind a small interface, so that single-process runs need no MPI
/// and model code never sees ranks. No <mpi.h> here: only src/distributed/mpi_communicator.cpp includes it.
#include <memory>
#include <string>
#include <torch/types.h>

#include "gnas/distributed/options.h"

namespace gnas::distributed {


class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Rank within the node; selects the CUDA device.
  virtual int local_rank() const = 0;
  /// Sums `t` over all ranks, in place. t must be contiguous; CPU or CUDA.
  /// Collective: all ranks must call, with tensors of the same size and dtype.
  virtual void allreduce_sum_(torch::Tensor& t) = 0;
  /// Copies root's `t` into every rank's `t` (same size and dtype everywhere). Collective.
  virtual void broadcast_(torch::Tensor& t, int root) = 0;
  /// Collective.
  virtual void barrier() = 0;
  /// Stops every rank with `exit_code`; never leaves peers hanging.
  [[noreturn]] virtual void abort(int exit_code) = 0;
  /// "serial" or "mpi" (the control channel).
  virtual std::string backend_name() const = 0;
  /// seconds > 0: a collective that waits longer for the other ranks (one stopped, dead or far
  /// behind) is reported and this rank exits with code 1, so the launcher ends the job instead of
  /// hanging forever. 0 (the default) waits forever. Nothing to wait for in a serial run.
  virtual void set_collective_timeout(double /*seconds*/) {}
};

/// The control communicator of `backend` (resolve_control): MPI under mpirun/srun for auto and nccl,
/// else serial. kMpi in a build without MPI throws ConfigError.
std::unique_ptr<Communicator> make_communicator(Backend backend, bool launched_under_mpi);

/// True when the build has MPI.
bool built_with_mpi();
/// True when the build has the NCCL gradient channel (the CUDA build).
bool built_with_nccl();

}  // namespace gnas::distributed
