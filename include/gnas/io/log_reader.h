#pragma once
/// Reading a run log (format_version 1 or 2) for the tools that list runs, also while its writer
/// is still appending (SWMR reader). Plain C++; HDF5 stays in the .cpp.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gnas/io/run_status.h"

namespace gnas::io {

struct LogSummary {
  int format_version = 0;
  std::string command, dataset, strategy, config;  ///< text attributes ("" when absent)
  std::string fitness;     ///< search: the fitness ("" in logs written before --search.fitness: the supernet)
  /// With a ranking set: the last ranking's Kendall tau of the run's fitness against the table's
  /// test_acc, and the same for the cells' parameter counts (the floor); NaN when not recorded.
  double rank_tau = NAN, params_tau = NAN;
  std::string source_run;  ///< retrain: the search run its genome came from ("" when not recorded)
  int source_epoch = 0;    ///< its 1-based epoch that chose the genome (0: not recorded)
  std::string space;  ///< the search space ("" in logs written before there were two: the paper's)
  std::uint64_t seed = 0;
  int world_size = 0;
  /// /epoch/* columns (one entry per logged epoch).
  std::vector<double> best_fitness, best_full_val_acc, test_acc, time_s;
  /// /epoch/gt_chosen_test: the table's test accuracy of the chosen cell (NaN without a table; empty
  /// in logs written before the nb201 space).
  std::vector<double> gt_chosen_test;
  /// /epoch/gt_chosen_below_pct: the share of the table's cells below that cell (empty in logs
  /// written before it was recorded).
  std::vector<double> gt_chosen_below_pct;
  std::vector<std::uint8_t> best_genome;  ///< /best/genome (zeros until a search sets it)
  double best_genome_fitness = 0;         ///< /best/fitness (NaN in retrain)
  bool has_seed = false;
  /// format_version 2: the status attributes as the log last recorded them (at the start of the
  /// latest process, or at its end); status.json is newer while a run goes on.
  std::optional<RunStatus> status;
};

/// Reads `path`. Throws IoError naming the path when it is missing, not HDF5, or not a gnas log
/// of a supported format_version (1 or 2).
LogSummary read_log_summary(const std::string& path);

}  // namespace gnas::io
