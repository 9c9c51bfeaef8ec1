#pragma once
/// Checkpoints of a run (DESIGN §7): model, optimizer, GA state, every RNG state, epoch and step.
/// Written atomically (temporary file, fsync, rename) to <run>/checkpoints/latest.pt; the one it
/// replaces becomes previous.pt, the fallback when latest.pt is corrupt.
#include <optional>
#include <string>
#include <utility>
#include <torch/optim/sgd.h>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/data/options.h"
#include "gnas/ga/operators.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/nn/supernet.h"
#include "gnas/train/options.h"

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

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
  io::LogContent log;                 ///< rank 0: the log's rows so far (rebuilds a damaged log)
  torch::Tensor scaler_state;         ///< fp16: the loss scaler (TrainStep::scaler_state); else undefined

  /// Forgets the partial-epoch progress (step, accumulators, time) once an epoch is complete.
  void clear_epoch_progress() {
    step = 0;
    loss_sum = 0;
    correct = 0;
    epoch_seconds = 0;
  }
};

/// A sealed archive file: torch's archive bytes, then a trailer "GNASSUM1", the byte count and the
/// FNV-1a 64 hash of those bytes (little-endian u64s). Any changed, missing or added byte is caught.
std::string seal_archive(torch::serialize::OutputArchive& archive);
/// Reads a sealed archive file into `archive`. Throws IoError naming the file when it is missing,
/// truncated, fails its checksum, or is not an archive.
void open_sealed_archive(const std::string& path, torch::serialize::InputArchive& archive);

/// A retrained model file (sealed): the fixed network's shape, genome and training dataset next to
/// its weights, so that `evaluate` rebuilds it without the config and checks the data. Atomic.
/// `precision`: what it was trained (and is evaluated) in.
/// `data`: the run's data options (the synthetic test split's size and seed are recorded).
void save_model(const std::string& path, nn::Supernet& net, const std::string& dataset,
                Precision precision = Precision::kFp32, const data::DataOptions& data = {});
struct LoadedModel {
  nn::Supernet net{nullptr};
  std::string dataset;  ///< e.g. "cifar10": what it was trained on
  Precision precision = Precision::kFp32;  ///< what it was trained in (files without it: fp32)
  /// Synthetic data: the test split it was scored on (size, seed); unset in files written before.
  std::optional<std::pair<int, std::uint64_t>> synthetic_test;
};
/// Loads a model file (or a retrain run directory's final model_last.pt) onto `device`. Throws IoError
/// naming the file when it is missing, damaged, or its weights do not fit its shape header.
LoadedModel load_model(const std::string& path_or_dir, const torch::Device& device);

/// Writes a checkpoint of (net, sgd, state) into `dir` (created if needed): latest.pt, keeping the
/// previous latest as previous.pt. Throws IoError; on failure (a full disk) the temporary file is
/// removed and the checkpoints already there are untouched.
void save_checkpoint(const std::string& dir, nn::Supernet& net, torch::optim::SGD& sgd, const RunState& state);

/// Loads latest.pt from `dir`, or previous.pt with a warning when latest.pt is missing, corrupt or
/// fails its checksum.
/// Throws IoError when neither loads. Returns the path that was used.
std::string load_checkpoint(const std::string& dir, nn::Supernet& net, torch::optim::SGD& sgd, RunState& state);

}  // namespace gnas::train
