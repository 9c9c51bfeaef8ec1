#pragma once
/// The epoch loop that search and retrain share (data-parallel over a Communicator): the data
/// permutation and sharding, the forward/backward/gradient-averaging step, the stop-on-signal
/// protocol with its checkpoint, the non-finite-loss check, the epoch record and the epoch line.
/// Search adds per-batch genome sampling and the GA rounds through the hooks; retrain adds
/// drop-path and the test evaluation.
#include <functional>
#include <string>
#include <torch/optim/sgd.h>
#include <vector>

#include "gnas/core/progress.h"
#include "gnas/data/dataset.h"
#include "gnas/distributed/collectives.h"
#include "gnas/distributed/grad_reducer.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/nn/supernet.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/options.h"

namespace gnas::train {

/// What a finished epoch's end-of-epoch hook adds to the record and to the epoch line.
struct EpochEnd {
  io::EpochRecord record;  ///< lr, loss, accuracy and time are filled by the loop
  std::string summary;     ///< the command's figures for the epoch line, e.g. "test_acc 91.2%"
};

struct EpochLoop {
  const RunConfig& cfg;
  distributed::Communicator& comm;
  nn::Supernet& net;
  torch::optim::SGD& sgd;
  const data::Split& train;
  RunState& st;
  io::Hdf5Log* log = nullptr;   ///< rank 0's log; null on other ranks (and in tests: nothing written)
  std::string command;          ///< "search" | "retrain", for messages
  std::string ckpt_dir;         ///< "": no checkpoints (tests)
  /// Images the end-of-epoch hook evaluates (GA rounds, full validation, test), for the up-front
  /// estimate of the run's time.
  int64_t eval_images_per_epoch = 0;
  /// false: no training steps (a search with a training-free fitness): an epoch is its end hook
  /// alone, the record's training figures are NaN, and a stop signal is honoured between epochs.
  bool train_steps = true;
  /// What carries the gradients (NCCL on CUDA); null: the control communicator `comm`.
  distributed::DataChannel* channel = nullptr;

  /// After the learning rate is set and the network is in training mode (retrain: drop-path).
  std::function<void(int epoch)> on_epoch_start = [](int) {};
  /// Before each step's batch is drawn (search: the genome of this batch). Must use the same
  /// generators in the same order on every rank.
  std::function<void(int epoch, int step)> before_step = [](int, int) {};
  /// The parameters the step trains: each gets a gradient from the forward/backward pass.
  std::function<std::vector<torch::Tensor>()> parameters = nullptr;  // required
  /// After the epoch's steps (collective on every rank): the GA rounds, the test evaluation, the
  /// files a finished epoch writes. Returns the record's command-specific fields and the summary.
  std::function<EpochEnd(int epoch, Progress& progress)> on_epoch_end = nullptr;  // required
};

/// Runs epochs st.epoch .. cfg.train.epochs - 1 from step st.step. Returns kExitOk, or kExitRequeue
/// after a stop signal: every rank stops after the same step and rank 0 writes a checkpoint from
/// which a resume continues bit-identically. Throws TrainingError on a non-finite loss. Collective.
int run_epochs(EpochLoop& loop);

/// Set-up on every rank, then rank 0's writes, each agreed on: a failure anywhere (options, data,
/// output directory, lock) is reported once, by the lowest failing rank, and every rank exits
/// without waiting in a collective. Collective.
void collective_setup(distributed::Communicator& comm, const std::function<void()>& every_rank,
                      const std::function<void()>& root_writes);

/// Rank 0's parameters and buffers to every rank (a no-op on one rank). Collective.
void replicate_from_root(distributed::Communicator& comm, nn::Supernet& net);

}  // namespace gnas::train
