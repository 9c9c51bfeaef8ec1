#pragma once
/// The run-directory steps that search and retrain share: the checks before anything is written,
/// loading a checkpoint on --resume (with the refusal of a changed run shape), and opening the log.
#include <memory>
#include <string>
#include <torch/optim/sgd.h>
#include <vector>

#include "gnas/data/dataset.h"
#include "gnas/distributed/communicator.h"
#include "gnas/distributed/grad_reducer.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/io/run_dir.h"
#include "gnas/nn/supernet.h"
#include "gnas/space/space.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/options.h"
#include "gnas/train/run_end.h"

namespace gnas::train {

/// A run directory being opened by one command.
struct RunOpening {
  std::string resumed_from;  ///< --resume: the checkpoint that was loaded
  std::string changes;       ///< rank 0, --resume: the accepted option changes ("key a -> b, ...")
  BegunSegment* begun = nullptr;         ///< the caller's record of the segment open_log begins (rank 0)
  std::unique_ptr<io::RunDirLock> lock;  ///< rank 0, after open_log: held for the whole run
  std::unique_ptr<io::Hdf5Log> log;      ///< rank 0, after open_log
  /// Rank 0, after open_log: disk space for closing the log and recording the run's end after a
  /// full disk. Declared after the log, so it is freed before the log closes.
  std::unique_ptr<io::DiskReserve> reserve;
};

/// What a command holds on every rank; search and retrain extend it with their own steps.
/// --dist.backend resolved for this launch (MPI or not, CUDA or not, what the build has).
distributed::BackendChoice resolve_run_backend(const RunConfig& cfg, distributed::Communicator& comm,
                                               const torch::Device& device);
/// The gradients' channel of `backend` (resolve_run_backend). NCCL falls back to MPI when ranks
/// share a GPU, which NCCL cannot do (`backend` then says MPI), and an explicit --dist.backend nccl
/// is refused then. Collective. Search, retrain (CommandRun::open_channel) and bench open theirs here.
std::unique_ptr<distributed::DataChannel> open_gradient_channel(const RunConfig& cfg, distributed::Communicator& comm,
                                                                const torch::Device& device,
                                                                distributed::BackendChoice& backend);

struct CommandRun {
  CommandRun(const RunConfig& config, distributed::Communicator& communicator, BegunSegment& begun_segment)
      : cfg(config), comm(communicator), root(communicator.rank() == 0) {
    run.begun = &begun_segment;
  }
  const RunConfig& cfg;
  distributed::Communicator& comm;
  bool root;
  std::unique_ptr<space::Space> space;  ///< the run's search space (--space)
  data::Dataset ds;
  nn::Supernet net{nullptr};
  std::unique_ptr<torch::optim::SGD> sgd;
  RunState st;
  RunOpening run;
  torch::Device device{torch::kCPU};
  distributed::BackendChoice backend;                 ///< control and gradient channels
  std::unique_ptr<distributed::DataChannel> channel;  ///< the gradients' channel (open_channel)
  int64_t n_params = 0;

  /// Set-up, every rank: the device (--device), and the checks that depend on it: the precision
  /// (fp16 needs CUDA) and the gradient backend (nccl needs the NCCL build and a CUDA device).
  void choose_device();
  /// After set-up has been agreed on, every rank: the gradients' channel (NCCL's communicator is
  /// made here). Collective.
  void open_channel();
  /// The network of `options` on `device` (channels-last when asked), its optimiser, and its
  /// parameter count.
  void build_network(nn::NetworkOptions options);
};

/// Rank 0: --resume needs a run to continue; a new run needs a new (or --force) directory. Writes nothing.
void check_run_dir(const RunConfig& cfg);

/// --resume, every rank: loads the latest checkpoint into net, sgd and st. Rank 0 refuses a change
/// of any `structural` key (against config.ini, or the checkpoint's copy of it) and of the dataset.
void resume_from_checkpoint(const RunConfig& cfg, const std::vector<std::string>& structural,
                            const std::string& dataset, bool root, nn::Supernet& net, torch::optim::SGD& sgd,
                            RunState& st, RunOpening& run);

/// Rank 0, once every rank's set-up has succeeded: takes the lock, writes config.ini, begins this
/// process's segment of the run's status (status.json: running), and creates the log (a new run:
/// `attrs`, the space's genome layout, `n_g`, `n_p`, `with_ga`, a ranking set of `n_rank` cells) or rebuilds it from the checkpoint (--resume,
/// with a resume_history line).
/// The shape of a new log beyond its space: the /ga group's sizes (search) and the ranking set's.
struct LogShape {
  int n_g = 0, n_p = 0;   ///< generation and population sizes
  bool with_ga = false;   ///< the /ga group (search)
  int n_rank = 0;         ///< cells of the nb201 ranking set (0: no /nb201 group)
};
/// The root attributes of a new run's log, by name: command, the resolved config, version, seed,
/// world size, dataset, start time and net.compat (the command adds its own, e.g. the strategy).
io::LogAttributes run_attributes(const RunConfig& cfg, const std::string& command, const std::string& dataset,
                                 int world);
void open_log(const RunConfig& cfg, const io::LogAttributes& attrs, const space::Space& space, const LogShape& shape,
              int world, const torch::Device& device, RunState& st, RunOpening& run);

/// Rank 0, after an epoch is logged and checkpointed: status.json's epochs done and last sign of
/// life (nothing when the directory has no status file).
void heartbeat_run_status(const std::string& dir, int epochs_done);

/// record_run_end (when a command ends): train/run_end.h.

/// Rank 0: one line on where the run starts (resumed at epoch e, step s; or nothing left to do).
void log_start(const RunConfig& cfg, const RunState& st, const RunOpening& run);

}  // namespace gnas::train
