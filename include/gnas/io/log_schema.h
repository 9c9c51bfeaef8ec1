#pragma once
/// The one table of the run log's datasets (log.h5, DESIGN §7): path, type, shape, units and
/// description. The writer (hdf5_log.cpp) creates, reopens and appends from it, and the tests read
/// the log against it. Plain C++, no HDF5 types.
#include <cstdint>
#include <string>
#include <vector>

#include "gnas/io/hdf5_log.h"

namespace gnas::io {

enum class LogType { kF64, kF32, kI32, kU8 };

/// How a dataset's first axis grows.
enum class LogRows {
  kEpoch,       ///< one row per epoch
  kGeneration,  ///< one row per evaluated generation (search only: the /ga group)
  kFixed,       ///< not extendible: written whole (/best)
};

/// The dimensions after the first axis (for kFixed: all of them).
enum class LogInner {
  kNone,            ///< scalar rows (or a scalar dataset)
  kGenome,          ///< [L] genes
  kGeneration,      ///< [N_g] members
  kGenerationGenome,  ///< [N_g, L]
  kPopulation,      ///< [N_p]
  kPopulationGenome,  ///< [N_p, L]
};

struct LogDataset {
  const char* path;
  LogType type;
  LogRows rows;
  LogInner inner;
  const char* units;        ///< "" when dimensionless
  const char* description;
  /// The names of its dimensions, space-separated (HDF5 dimension scales in its group). A dataset
  /// whose name is its only dimension is that dimension's scale (epoch and generation: 1-based
  /// numbers; member and gene: 0-based positions).
  const char* dims;
  double EpochRecord::*f64 = nullptr;  ///< kEpoch f64 rows: the record field written
  int EpochRecord::*i32 = nullptr;     ///< kEpoch i32 rows
};

inline const std::vector<LogDataset>& log_schema() {
  static const std::vector<LogDataset> schema = {
      {"/epoch/lr", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "1", "learning rate of the epoch", "epoch",
       &EpochRecord::lr},
      {"/epoch/train_loss", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "nat",
       "mean cross-entropy over the epoch's training batches", "epoch", &EpochRecord::train_loss},
      {"/epoch/train_acc", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%", "top-1 accuracy on the training batches", "epoch",
       &EpochRecord::train_acc},
      {"/epoch/time_s", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "s",
       "wall time of the epoch (training, GA rounds or test evaluation)", "epoch", &EpochRecord::time_s},
      {"/epoch/best_fitness", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search: fitness of the population's best member (top-1 on N_v validation images); NaN in retrain", "epoch",
       &EpochRecord::best_fitness},
      {"/epoch/best_full_val_acc", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search: the best member's top-1 on the whole validation split; NaN in retrain", "epoch",
       &EpochRecord::best_full_val_acc},
      {"/epoch/test_acc", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "retrain: top-1 on the test split after the epoch; NaN in search", "epoch", &EpochRecord::test_acc},
      {"/epoch/n_new", LogType::kI32, LogRows::kEpoch, LogInner::kNone, "members",
       "search: members inserted into the population, summed over the epoch's generations; -1 in retrain", "epoch", nullptr,
       &EpochRecord::n_new},
      {"/ga/generation/genome", LogType::kU8, LogRows::kGeneration, LogInner::kGenerationGenome, "",
       "every evaluated generation's genomes", "generation member gene"},
      {"/ga/generation/fitness", LogType::kF32, LogRows::kGeneration, LogInner::kGeneration, "%",
       "their fitness: top-1 on the generation's N_v validation images", "generation member"},
      {"/ga/generation/epoch", LogType::kI32, LogRows::kGeneration, LogInner::kNone, "epoch",
       "0-based epoch of the generation", "generation"},
      {"/ga/generation/n_new", LogType::kI32, LogRows::kGeneration, LogInner::kNone, "members",
       "members this generation's replacement inserted into the population", "generation"},
      {"/ga/population/genome", LogType::kU8, LogRows::kGeneration, LogInner::kPopulationGenome, "",
       "the population right after the replacement with this generation, best first", "generation member gene"},
      {"/ga/population/fitness", LogType::kF32, LogRows::kGeneration, LogInner::kPopulation, "%",
       "the population's fitness, best first", "generation member"},
      {"/best/genome", LogType::kU8, LogRows::kFixed, LogInner::kGenome, "",
       "search: the population's best at the epoch with the highest best_full_val_acc; retrain: the genome", "gene"},
      {"/best/fitness", LogType::kF32, LogRows::kFixed, LogInner::kNone, "%", "that member's fitness (NaN in retrain)", ""},
      // Dimension scales (their own only dimension): xarray/netCDF readers name the axes by them.
      {"/epoch/epoch", LogType::kI32, LogRows::kEpoch, LogInner::kNone, "epoch", "epoch number (1-based)", "epoch"},
      {"/ga/generation/generation", LogType::kI32, LogRows::kGeneration, LogInner::kNone, "generation",
       "generation number (1-based, over the whole run)", "generation"},
      {"/ga/generation/member", LogType::kI32, LogRows::kFixed, LogInner::kGeneration, "",
       "position in the generation (0-based)", "member"},
      {"/ga/generation/gene", LogType::kI32, LogRows::kFixed, LogInner::kGenome, "",
       "gene position (0-based; the root attribute genome_layout says what each gene is)", "gene"},
      {"/ga/population/generation", LogType::kI32, LogRows::kGeneration, LogInner::kNone, "generation",
       "generation number (1-based, over the whole run)", "generation"},
      {"/ga/population/member", LogType::kI32, LogRows::kFixed, LogInner::kPopulation, "",
       "rank in the population (0 = best)", "member"},
      {"/ga/population/gene", LogType::kI32, LogRows::kFixed, LogInner::kGenome, "", "gene position (0-based)", "gene"},
      {"/best/gene", LogType::kI32, LogRows::kFixed, LogInner::kGenome, "", "gene position (0-based)", "gene"},
  };
  return schema;
}

/// True when `d` is a dimension scale (its name is its only dimension).
inline bool log_is_scale(const LogDataset& d) {
  const std::string path = d.path;
  return path.substr(path.rfind('/') + 1) == d.dims;
}

/// The dimensions after the first axis (all dimensions for kFixed datasets).
inline std::vector<std::uint64_t> log_inner_dims(LogInner inner, int genome_length, int n_g, int n_p) {
  const auto l = std::uint64_t(genome_length), g = std::uint64_t(n_g), p = std::uint64_t(n_p);
  switch (inner) {
    case LogInner::kNone: return {};
    case LogInner::kGenome: return {l};
    case LogInner::kGeneration: return {g};
    case LogInner::kGenerationGenome: return {g, l};
    case LogInner::kPopulation: return {p};
    case LogInner::kPopulationGenome: return {p, l};
  }
  return {};
}

}  // namespace gnas::io
