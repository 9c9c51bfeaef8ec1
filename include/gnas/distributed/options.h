#pragma once
/// The [dist] section of a run's configuration: what carries the gradients, and how long a
/// collective may wait. Plain C++.
#include <string>

#include "gnas/core/error.h"
#include "gnas/core/option_spec.h"

namespace gnas::distributed {

/// --dist.backend. Control messages (failure agreement, GA state, counters: CPU tensors) always go
/// over the control communicator (MPI, or none in one process); the backend names what carries the
/// gradients and the broadcasts of CUDA tensors.
enum class Backend { kAuto, kSerial, kMpi, kNccl };

inline const Choices<Backend> kBackends = {
    {"auto", Backend::kAuto}, {"serial", Backend::kSerial}, {"mpi", Backend::kMpi}, {"nccl", Backend::kNccl}};

/// "auto" | "serial" | "mpi" | "nccl"; throws ConfigError naming --dist.backend otherwise.
inline Backend parse_backend(const std::string& name) { return parse_choice(kBackends, "dist.backend", name); }
inline const char* backend_name(Backend b) { return choice_name(kBackends, b); }

/// What a run uses: `control` is kSerial or kMpi; `gradients` is kSerial, kMpi or kNccl.
struct BackendChoice {
  Backend control = Backend::kSerial;
  Backend gradients = Backend::kSerial;
};

/// The build and the run a backend is chosen for.
struct BackendContext {
  bool launched_under_mpi = false;  ///< mpirun / srun started this process
  bool device_is_cuda = false;      ///< the run's tensors live on a CUDA device
  bool built_with_mpi = false;
  bool built_with_nccl = false;
};

/// The control channel alone (the device is not known yet when it is made): MPI when asked for, or
/// when launched under MPI by auto or nccl; otherwise none. kMpi in a build without MPI is a
/// ConfigError.
inline Backend resolve_control(Backend requested, const BackendContext& c) {
  if (requested == Backend::kSerial) return Backend::kSerial;
  if (requested == Backend::kMpi) {
    if (!c.built_with_mpi)
      throw ConfigError("--dist.backend mpi: this gnas was built without MPI (GNAS_WITH_MPI=OFF)");
    return Backend::kMpi;
  }
  return c.launched_under_mpi && c.built_with_mpi ? Backend::kMpi : Backend::kSerial;
}

/// Both channels. auto: NCCL for the gradients when the device is CUDA, the build has NCCL and the
/// job has an MPI control channel (several ranks); otherwise the control channel carries them too.
/// nccl is refused (ConfigError) in a build without NCCL and on a CPU device.
inline BackendChoice resolve_backend(Backend requested, const BackendContext& c) {
  BackendChoice choice;
  choice.control = resolve_control(requested, c);
  choice.gradients = choice.control;
  if (requested == Backend::kNccl) {
    if (!c.built_with_nccl)
      throw ConfigError("--dist.backend nccl: this gnas was built without NCCL; build the CUDA variant with "
                        "scripts/bootstrap --cuda && scripts/build --cuda, or use --dist.backend mpi");
    if (!c.device_is_cuda)
      throw ConfigError("--dist.backend nccl needs a CUDA device, and this run's device is the CPU; use "
                        "--dist.backend mpi (or auto) on the CPU");
    choice.gradients = Backend::kNccl;
  } else if (requested == Backend::kAuto && c.device_is_cuda && c.built_with_nccl && choice.control == Backend::kMpi) {
    choice.gradients = Backend::kNccl;
  }
  return choice;
}

struct DistOptions {
  Backend backend = Backend::kAuto;  ///< auto | serial | mpi | nccl (resolve_backend)
  double timeout = 0;            ///< seconds a collective may wait for the other ranks (0 = forever)

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.choice("dist.backend", o.backend,
             "what carries the gradients: auto (NCCL on CUDA in a build with NCCL under mpirun/srun, else MPI "
             "there, else nothing) | serial | mpi | nccl (the CUDA build; a CUDA device). Control messages always "
             "go over MPI under mpirun/srun",
             kBackends);
    v.option("dist.timeout", o.timeout,
             "seconds a collective may wait for the other ranks before the job is ended with a report (a stopped "
             "or dead rank); 0 waits forever. Set it well above the longest end-of-epoch pause (GA rounds, "
             "checkpoint)",
             in_closed(0, 1e7, " seconds"));
  }
};

}  // namespace gnas::distributed
