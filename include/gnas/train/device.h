#pragma once
#include <string>
/// Device choice, CPU threads and GPU memory of a run.
#include <torch/types.h>

#include "gnas/train/options.h"

namespace gnas::train {

/// auto picks CUDA when available (device local_rank modulo the device count, so each rank of a
/// node gets its own GPU), else the CPU; cuda without a CUDA device is a ConfigError.
torch::Device select_device(const DeviceSpec& spec, int local_rank = 0);
/// threads > 0: torch::set_num_threads(threads); 0: default_threads(). Warns when the threads
/// outnumber the CPUs this process may run on (its affinity: what srun or mpirun gave it).
void apply_threads(int threads);
/// What --threads 0 means: OMP_NUM_THREADS when it is set to a count; else the CPUs this process may
/// use (its affinity mask, which srun and a cpuset set), divided among the ranks mpirun started on
/// this node; at least 1. libtorch's own default ignores the affinity (1.13: half the machine's
/// hardware threads; 2.x: its cores).
int default_threads();
/// The ranks on this node that share this process's CPUs: mpirun's local size, else 1.
int ranks_sharing_cpus();
/// "N thread(s) on M CPU(s)", and what --threads 0 chose when `requested` is 0, for the run headers.
std::string threads_text(int requested);
/// CPUs this process may run on (its affinity mask).
int usable_cpus();
/// CUDA: the most memory the caching allocator had allocated on `device` since the last
/// reset_peak_memory, in MiB; NaN on a CPU.
double peak_memory_mib(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);

}  // namespace gnas::train
