#pragma once
/// Checkpoints of a run (DESIGN §7): model, optimizer, GA state, every RNG state, epoch and step.
/// Written atomically (temporary file, fsync, rename) to <run>/checkpoints/latest.pt; the one it
/// replaces becomes previous.pt, the fallback when latest.pt is corrupt.
#include <string>
#include <torch/optim/sgd.h>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/ga/operators.h"
#include "gnas/nn/network.h"

namespace gnas::train {

/// Everything besides model and optimizer that a resumed run needs to continue bit-identically.
struct RunState {
  int epoch = 0;                      ///< epoch in progress (0-based)
  int step = 0;                       ///< next step of that epoch (0: the epoch has not started)
  std::vector<ga::Member> population; ///< search only
  std::vector<ga::Genome> generation; ///< search only: the next generation to evaluate
  Rng ga_rng;
  Rng data_rng;                       ///< current state
  Rng data_rng_epoch_start;           ///< state before this epoch's permutation was drawn
  double loss_sum = 0;                ///< partial-epoch accumulators
  int64_t correct = 0;
  double epoch_seconds = 0;           ///< time spent in the partial epoch
  double best_metric = -1;            ///< retrain: best test accuracy so far

  /// Forgets the partial-epoch progress (step, accumulators, time) once an epoch is complete.
  void clear_epoch_progress() {
    step = 0;
    loss_sum = 0;
    correct = 0;
    epoch_seconds = 0;
  }
};

/// Writes a checkpoint of (net, sgd, state) into `dir` (created if needed): latest.pt, keeping the
/// previous latest as previous.pt. Throws IoError.
void save_checkpoint(const std::string& dir, nn::Network& net, torch::optim::SGD& sgd, const RunState& state);

/// Loads latest.pt from `dir`, or previous.pt with a warning when latest.pt is missing or corrupt.
/// Throws IoError when neither loads. Returns the path that was used.
std::string load_checkpoint(const std::string& dir, nn::Network& net, torch::optim::SGD& sgd, RunState& state);

}  // namespace gnas::train
