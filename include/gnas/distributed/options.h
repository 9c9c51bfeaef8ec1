#pragma once
/// The launcher options of a run ([dist], log.all_ranks). Plain C++: the CLI parses them.
#include <string>

#include "gnas/core/error.h"

namespace gnas::distributed {

enum class Backend { kAuto, kSerial, kMpi };

/// "auto" | "serial" | "mpi"; throws ConfigError naming --dist.backend otherwise.
inline Backend parse_backend(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "serial") return Backend::kSerial;
  if (name == "mpi") return Backend::kMpi;
  throw ConfigError("--dist.backend must be auto, serial or mpi, got " + name);
}

struct DistOptions {
  Backend backend = Backend::kAuto;  ///< auto (MPI under mpirun/srun) | serial | mpi
  bool log_all_ranks = false;    ///< INFO lines from every rank, not only rank 0
  double timeout = 0;            ///< seconds a collective may wait for the other ranks (0 = forever)
};

}  // namespace gnas::distributed
