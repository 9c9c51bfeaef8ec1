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
  kStep,        ///< one row per --log.every_steps training steps (the /step group)
  kGeneration,  ///< one row per evaluated generation (search only: the /ga group)
  kRanking,     ///< one row per scoring of the ranking set (search with --nb201.table: the /nb201 group)
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
  kRankCells,       ///< [n_rank] cells of the ranking set
  kRankCellsGenome,  ///< [n_rank, L]
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
  double StepRecord::*step_f64 = nullptr;  ///< kStep f64 rows
  int StepRecord::*step_i32 = nullptr;     ///< kStep i32 rows
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
      {"/epoch/gt_best_test", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the table's test_acc of the population's best member; NaN otherwise", "epoch",
       &EpochRecord::gt_best_test},
      {"/epoch/gt_best_valid", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the table's valid_acc of the population's best member; NaN otherwise", "epoch",
       &EpochRecord::gt_best_valid},
      {"/epoch/gt_mean_test", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the population's mean table test_acc; NaN otherwise", "epoch",
       &EpochRecord::gt_mean_test},
      {"/epoch/gt_mean_valid", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the population's mean table valid_acc; NaN otherwise", "epoch",
       &EpochRecord::gt_mean_valid},
      {"/epoch/gt_chosen_test", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the table's test_acc of /best/genome as it stands after the epoch (the cell "
       "chosen by full validation so far); NaN otherwise", "epoch", &EpochRecord::gt_chosen_test},
      {"/epoch/gt_chosen_valid", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the table's valid_acc of that cell; NaN otherwise", "epoch",
       &EpochRecord::gt_chosen_valid},
      {"/epoch/gt_chosen_rank", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "cells",
       "search with --nb201.table: that cell's rank among the table's 15,625 cells by test_acc (1 = the highest; "
       "a tie shares its best rank); NaN otherwise", "epoch", &EpochRecord::gt_chosen_rank},
      {"/epoch/gt_chosen_below_pct", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the share of the table's cells whose test_acc is below that cell's (its "
       "percentile); NaN otherwise", "epoch", &EpochRecord::gt_chosen_below_pct},
      {"/epoch/gt_table_best_test", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the highest test_acc of the table's cells (the same every epoch: the line the "
       "figures draw); NaN otherwise", "epoch", &EpochRecord::gt_table_best_test},
      {"/epoch/gt_table_mean_test", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "%",
       "search with --nb201.table: the mean test_acc of the table's cells (a random cell's expectation; the same "
       "every epoch); NaN otherwise", "epoch", &EpochRecord::gt_table_mean_test},
      {"/epoch/n_new", LogType::kI32, LogRows::kEpoch, LogInner::kNone, "members",
       "search: members inserted into the population, summed over the epoch's generations; -1 in retrain", "epoch", nullptr,
       &EpochRecord::n_new},
      {"/epoch/best_full_val_loss", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "nat",
       "search: the best member's mean cross-entropy on the whole validation split; NaN in retrain", "epoch",
       &EpochRecord::best_full_val_loss},
      {"/epoch/test_loss", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "nat",
       "retrain: mean cross-entropy on the test split after the epoch; NaN in search", "epoch", &EpochRecord::test_loss},
      {"/epoch/train_time_s", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "s",
       "the part of time_s spent in the training steps", "epoch", &EpochRecord::train_time_s},
      {"/epoch/eval_time_s", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "s",
       "the part of time_s spent after them: GA rounds, validation and ranking (search) or the test evaluation "
       "(retrain), and the files written", "epoch", &EpochRecord::eval_time_s},
      {"/epoch/peak_mem_mib", LogType::kF64, LogRows::kEpoch, LogInner::kNone, "MiB",
       "CUDA: the most memory allocated on rank 0's GPU during the epoch; NaN on a CPU", "epoch",
       &EpochRecord::peak_mem_mib},
      {"/step/epoch", LogType::kI32, LogRows::kStep, LogInner::kNone, "epoch", "1-based epoch of the row", "step",
       nullptr, nullptr, nullptr, &StepRecord::epoch},
      {"/step/loss", LogType::kF64, LogRows::kStep, LogInner::kNone, "nat",
       "rank 0's mean training cross-entropy over its steps since the start of the epoch (or of the resume)",
       "step", nullptr, nullptr,
       &StepRecord::loss},
      {"/step/acc", LogType::kF64, LogRows::kStep, LogInner::kNone, "%",
       "rank 0's top-1 on its training batches since the start of the epoch (or of the resume)", "step", nullptr,
       nullptr,
       &StepRecord::acc},
      {"/step/lr", LogType::kF64, LogRows::kStep, LogInner::kNone, "1", "learning rate", "step", nullptr, nullptr,
       &StepRecord::lr},
      {"/step/img_s", LogType::kF64, LogRows::kStep, LogInner::kNone, "images/s",
       "training images per second of the whole job since the previous row", "step", nullptr, nullptr,
       &StepRecord::img_s},
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
      {"/ga/population/rescored_fitness", LogType::kF32, LogRows::kGeneration, LogInner::kPopulation, "%",
       "--search.rescore population: the incoming population (the previous row's, in its order) re-scored on this "
       "generation's N_v images before the replacement; NaN when not re-scored", "generation member"},
      {"/nb201/ranking/epoch", LogType::kI32, LogRows::kRanking, LogInner::kNone, "epoch",
       "0-based epoch after which the supernet scored the ranking set", "ranking"},
      {"/nb201/ranking/score", LogType::kF32, LogRows::kRanking, LogInner::kRankCells, "%",
       "each ranking cell's top-1 on the whole validation split, in the supernet", "ranking cell"},
      {"/nb201/ranking/kendall_tau", LogType::kF64, LogRows::kRanking, LogInner::kNone, "1",
       "Kendall tau-b of the scores against the table's test_acc", "ranking"},
      {"/nb201/ranking/spearman_rho", LogType::kF64, LogRows::kRanking, LogInner::kNone, "1",
       "Spearman rho (ties averaged) of the scores against the table's test_acc", "ranking"},
      {"/nb201/ranking/genome", LogType::kU8, LogRows::kFixed, LogInner::kRankCellsGenome, "",
       "the ranking set's genomes (drawn by the seed, one from each of n_rank equal-count strata of the table "
       "sorted by test_acc)", "cell gene"},
      {"/nb201/ranking/index", LogType::kI32, LogRows::kFixed, LogInner::kRankCells, "",
       "their NAS-Bench-201 architecture index", "cell"},
      {"/nb201/ranking/table_test", LogType::kF32, LogRows::kFixed, LogInner::kRankCells, "%",
       "their table test_acc", "cell"},
      {"/nb201/ranking/table_valid", LogType::kF32, LogRows::kFixed, LogInner::kRankCells, "%",
       "their table valid_acc", "cell"},
      {"/nb201/ranking/table_params", LogType::kF32, LogRows::kFixed, LogInner::kRankCells, "M",
       "their table params_m (the benchmark's C=16, N=5 network): ranking by it is the floor that a fitness "
       "should beat (NaN in logs of runs begun before it was recorded)", "cell"},
      {"/best/genome", LogType::kU8, LogRows::kFixed, LogInner::kGenome, "",
       "search: the population's best at the epoch with the highest best_full_val_acc; retrain: the genome", "gene"},
      {"/best/fitness", LogType::kF32, LogRows::kFixed, LogInner::kNone, "%", "that member's fitness (NaN in retrain)", ""},
      // Dimension scales (their own only dimension): xarray/netCDF readers name the axes by them.
      {"/epoch/epoch", LogType::kI32, LogRows::kEpoch, LogInner::kNone, "epoch", "epoch number (1-based)", "epoch"},
      {"/step/step", LogType::kI32, LogRows::kStep, LogInner::kNone, "step",
       "global training step (1-based over the run: epochs before times steps per epoch, plus the step)", "step",
       nullptr, nullptr, nullptr, &StepRecord::global_step},
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
      {"/nb201/ranking/ranking", LogType::kI32, LogRows::kRanking, LogInner::kNone, "ranking",
       "scoring number (1-based)", "ranking"},
      {"/nb201/ranking/cell", LogType::kI32, LogRows::kFixed, LogInner::kRankCells, "",
       "position in the ranking set (0-based)", "cell"},
      {"/nb201/ranking/gene", LogType::kI32, LogRows::kFixed, LogInner::kGenome, "", "gene position (0-based)", "gene"},
  };
  return schema;
}

/// True when `d` is a dimension scale (its name is its only dimension).
inline bool log_is_scale(const LogDataset& d) {
  const std::string path = d.path;
  return path.substr(path.rfind('/') + 1) == d.dims;
}

/// True for the datasets of the /ga group (search only) and of the /nb201 group (with a ranking set).
inline bool log_in_ga(const LogDataset& d) { return std::string(d.path).rfind("/ga/", 0) == 0; }
inline bool log_in_nb201(const LogDataset& d) { return std::string(d.path).rfind("/nb201/", 0) == 0; }

/// The dimensions after the first axis (all dimensions for kFixed datasets).
inline std::vector<std::uint64_t> log_inner_dims(LogInner inner, int genome_length, int n_g, int n_p,
                                                 int n_rank = 0) {
  const auto l = std::uint64_t(genome_length), g = std::uint64_t(n_g), p = std::uint64_t(n_p);
  const auto r = std::uint64_t(n_rank);
  switch (inner) {
    case LogInner::kNone: return {};
    case LogInner::kGenome: return {l};
    case LogInner::kGeneration: return {g};
    case LogInner::kGenerationGenome: return {g, l};
    case LogInner::kPopulation: return {p};
    case LogInner::kPopulationGenome: return {p, l};
    case LogInner::kRankCells: return {r};
    case LogInner::kRankCellsGenome: return {r, l};
  }
  return {};
}

}  // namespace gnas::io
