#pragma once
/// Device choice, CPU threads and GPU memory of a run.
#include <torch/types.h>

#include "gnas/train/options.h"

namespace gnas::train {

/// auto picks CUDA when available (device local_rank modulo the device count, so each rank of a
/// node gets its own GPU), else the CPU; cuda without a CUDA device is a ConfigError.
torch::Device select_device(const DeviceSpec& spec, int local_rank = 0);
/// threads > 0: torch::set_num_threads(threads); 0 leaves libtorch's default. Warns when the
/// threads outnumber the CPUs this process may run on (its affinity: what srun or mpirun gave it).
void apply_threads(int threads);
/// CPUs this process may run on (its affinity mask).
int usable_cpus();
/// CUDA: the most memory the caching allocator had allocated on `device` since the last
/// reset_peak_memory, in MiB; NaN on a CPU.
double peak_memory_mib(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);

}  // namespace gnas::train
