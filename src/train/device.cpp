// Device choice, CPU threads and GPU memory of a run (device.h).
#include "gnas/train/device.h"

#include <torch/torch.h>

#include <sched.h>

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#if GNAS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace gnas::train {

namespace {
/// Why no CUDA device can be used, and what to do: the build has no CUDA, or the driver sees none.
std::string no_cuda_reason() {
  if (!GNAS_WITH_CUDA)
    return "this gnas is built against a CPU-only libtorch; build the CUDA variant with scripts/bootstrap --cuda "
           "&& scripts/build --cuda (binary build-cuda/gnas)";
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  return detail::concat("this gnas has CUDA, but the CUDA driver sees no device (CUDA_VISIBLE_DEVICES=",
                        visible ? "'" + std::string(visible) + "'" : std::string("unset"),
                        "); check nvidia-smi on this node and the job's GPU request");
}

/// The environment's sign that GPUs were allocated to this process, or "" when there is none.
std::string allocated_gpus_sign() {
  // Lists of GPU indices ("-1" and "NoDevFiles" mean none), then counts ("0" means none).
  for (const char* v : {"CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"}) {
    const char* value = std::getenv(v);
    if (value && *value && std::string(value) != "-1" && std::string(value) != "NoDevFiles")
      return detail::concat(v, "=", value);
  }
  for (const char* v : {"SLURM_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_GPUS_PER_TASK", "SLURM_GPUS_PER_NODE"}) {
    const char* value = std::getenv(v);
    if (value && *value && std::string(value) != "0") return detail::concat(v, "=", value);
  }
  return "";
}
}  // namespace

double peak_memory_mib(const torch::Device& device) {
#if GNAS_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    return double(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);  // [0]: every pool (AGGREGATE)
  }
#endif
  (void)device;
  return std::nan("");
}

void reset_peak_memory(const torch::Device& device) {
#if GNAS_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#endif
  (void)device;
}

torch::Device select_device(const DeviceSpec& spec, int local_rank) {
  const bool cuda = torch::cuda::is_available();
  const auto local_gpu = [&] {
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
  };
  switch (spec.kind) {
    case DeviceSpec::Kind::kAuto: {
      if (cuda) return local_gpu();
      // GPUs were allocated (by Slurm, or CUDA_VISIBLE_DEVICES) but none can be used: running on the
      // CPU instead would burn the allocation for hours at a fraction of the speed. Refuse.
      const std::string sign = allocated_gpus_sign();
      GNAS_CHECK_AS(ConfigError, sign.empty(), "--device auto: GPUs were allocated to this job (", sign,
                    ") but none can be used: ", no_cuda_reason(), ". To run on the CPU anyway, give --device cpu");
      return torch::Device(torch::kCPU);
    }
    case DeviceSpec::Kind::kCpu: return torch::Device(torch::kCPU);
    case DeviceSpec::Kind::kCuda: break;
  }
  GNAS_CHECK_AS(ConfigError, cuda, "--device cuda", spec.index >= 0 ? ":" + std::to_string(spec.index) : "", ": ",
                no_cuda_reason(), "; or use --device cpu");
  if (spec.index < 0) return local_gpu();
  GNAS_CHECK_AS(ConfigError, spec.index < static_cast<int>(torch::cuda::device_count()), "--device cuda:", spec.index,
                ": this machine has ", torch::cuda::device_count(), " CUDA device(s)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(spec.index));
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return int(std::thread::hardware_concurrency());
  return CPU_COUNT(&set);
}

int ranks_sharing_cpus() {
  // mpirun's own count of this node's ranks (Open MPI, MPICH/Hydra). srun gives each task its own
  // CPUs (its affinity mask), so there is nothing to share out there.
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* n = std::getenv(v)) {
      const int k = std::atoi(n);
      if (k >= 1) return k;
    }
  return 1;
}

int omp_num_threads() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n >= 1 && n <= 4096 ? int(n) : 0;  // "4,2" (nested levels): its first count is not read
}

int default_threads() {
  // OMP_NUM_THREADS, when set, is the site's or the user's word (job scripts, CTest) and wins.
  if (const int n = omp_num_threads()) return n;
  return std::max(1, usable_cpus() / ranks_sharing_cpus());
}

std::string threads_text(int requested) {
  std::string text = std::to_string(torch::get_num_threads()) + " thread(s) on " + std::to_string(usable_cpus()) +
                     " CPU(s)";
  if (requested == 0 && omp_num_threads() > 0) {
    text += " (--threads 0: OMP_NUM_THREADS)";
  } else if (requested == 0) {
    const int ranks = ranks_sharing_cpus();
    text += ranks > 1 ? " (--threads 0: the CPUs it may use, shared by the " + std::to_string(ranks) +
                            " ranks of this node)"
                      : " (--threads 0: every CPU it may use)";
  }
  return text;
}

void apply_threads(int threads) {
  torch::set_num_threads(threads > 0 ? threads : default_threads());
  const int cpus = usable_cpus();
  if (cpus > 0 && torch::get_num_threads() > cpus)
    GNAS_LOG(WARN) << torch::get_num_threads() << " torch threads, but this process may run on " << cpus
                   << " CPU(s) only: the threads share them and every step waits. Under srun give each task its CPUs "
                      "(--cpus-per-task, or SRUN_CPUS_PER_TASK, which the job scripts export), or lower --threads";
}

}  // namespace gnas::train
