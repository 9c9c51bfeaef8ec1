#pragma once
/// Search strategies on a fully tabulated search space: NAS-Bench-201 (Dong & Yang 2020; the space
/// and its table: search/nb201.h), where the
/// result of every cell is known, so a search strategy can be run thousands of times in seconds
/// with a table look-up as its fitness. Plain C++, no torch.
#include <cstdint>
#include <string>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/ga/operators.h"
#include "gnas/space/nb201.h"

namespace gnas::ga::nb201 {

using space::nb201::arch_string;
using space::nb201::decode;
using space::nb201::encode;
using space::nb201::gene_space;
using space::nb201::kCells;
using space::nb201::kEdges;
using space::nb201::kOpNames;
using space::nb201::kOps;
using space::nb201::load_table;
using space::nb201::Table;

/// One run's best-so-far curve: entry k is the cell with the best fitness (valid_acc unless a
/// Fitness says otherwise) among the first k + 1 distinct cells looked up (ties keep the earlier
/// one), with its table valid_acc and test_acc.
struct Curve {
  std::vector<float> best_valid, best_test;
  std::vector<int> best_code;
};

/// The most distinct cells REA is asked for: it mutates one edge of a recent cell, and in tests it
/// stalled (no new cell in a million rounds) between 15,400 and 15,500 cells. GA and random search
/// reach every cell (the GA refills its generations with random unseen cells).
constexpr int kReaMaxBudget = 15000;

struct ReaOptions {
  int population = 10;  ///< NAS-Bench-201's REA: population 10
  int sample = 3;       ///< tournament sample size 3
};

/// What a tabular search maximises, by cell code. Default: the table's valid_acc over every cell.
/// A score table's fitness (gnas score; fitness/score_table.h) may cover only some cells: `codes`
/// lists them, random search draws from them alone, and GA and REA need every cell.
struct Fitness {
  std::string name = "valid";
  std::vector<double> by_code;  ///< kCells entries; NaN for a cell not scored
  std::vector<int> codes;       ///< the scored cells, ascending
  bool accuracy = true;         ///< an accuracy in [0, 100] (roulette applies)
  bool complete() const { return codes.size() == std::size_t(kCells); }
};
/// The table's valid_acc as the fitness.
Fitness valid_fitness(const Table& t);

/// The paper's GA (GaOptions: N_p, N_g, p_m, p_c, crossover): random first generation, steady-state
/// replacement, roulette, crossover, mutation, dedup-and-refill, until `budget` distinct cells.
Curve run_ga(const Table& t, const GaOptions& opt, int budget, Rng& rng);
Curve run_ga(const Table& t, const Fitness& f, const GaOptions& opt, int budget, Rng& rng);
/// Uniform sampling without repeats (among f.codes): with a score as the fitness, "best of N".
Curve run_random(const Table& t, int budget, Rng& rng);
Curve run_random(const Table& t, const Fitness& f, int budget, Rng& rng);
/// Regularized evolution (Real et al. 2019): population of random cells; each cycle samples
/// `sample` members uniformly (with replacement), mutates the best (one random edge to another
/// op), adds the child and removes the oldest member.
Curve run_rea(const Table& t, const ReaOptions& opt, int budget, Rng& rng);
Curve run_rea(const Table& t, const Fitness& f, const ReaOptions& opt, int budget, Rng& rng);

}  // namespace gnas::ga::nb201
