#pragma once
/// The [ga] section of a run's configuration: the GA's hyperparameters and the search strategy.
#include <string>

#include "gnas/core/option_check.h"

namespace gnas::ga {

enum class CrossoverKind { kBlock, kUniform };
/// "block" | "uniform" (--ga.crossover); a ConfigError naming the option otherwise.
inline CrossoverKind parse_crossover(const std::string& s) {
  check_option(s == "block" || s == "uniform", "ga.crossover", "block or uniform", s);
  return s == "block" ? CrossoverKind::kBlock : CrossoverKind::kUniform;
}
/// The search strategy of `gnas search`: the paper's GA, or random search with weight sharing at the
/// same cost (a uniform genome per batch, N_g uniform genomes per round, the same replacement).
enum class Strategy { kGa, kRandom };
/// BN statistics when candidates are scored: the scoring batch's own, or the running ones.
enum class BnEval { kBatch, kRunning };
/// Whose fitness is scored in an evaluate-and-replace round: the new generation only (the paper's
/// Alg. 2: a member keeps the fitness it was first given), or the current population too, on the
/// same N_v images, so that old and new members compete on equal terms.
enum class Rescore { kNone, kPopulation };

/// Ground truth for searches in the nb201 space (--nb201.*).
struct Nb201Options {
  std::string table;        ///< the benchmark's CIFAR-10 CSV; "": no ground truth
  int rank_every = 0;       ///< the supernet's ranking of rank_cells cells every K epochs (0: at the end only)
  int rank_cells = 100;     ///< cells in the ranking set (0: no ranking)
  void validate() const {
    check_option(rank_every >= 0, "nb201.rank_every", ">= 0", rank_every);
    check_option(rank_cells >= 0 && rank_cells <= 15625, "nb201.rank_cells", "in [0, 15625]", rank_cells);
  }
};

/// GA hyperparameters (paper defaults).
struct GaOptions {
  int population = 20;           ///< N_p >= 2
  int generation = 20;           ///< N_g >= N_p (the first population is the top-N_p of the first G)
  double p_m = 0.02;             ///< per-gene mutation probability, in [0, 1]
  double p_c = 1.0;              ///< crossover probability, in [0, 1]
  CrossoverKind crossover = CrossoverKind::kBlock;
  void validate() const {
    check_option(population >= 2, "ga.population", ">= 2", population);
    check_option(generation >= population, "ga.generation", ">= --ga.population (" + std::to_string(population) + ")",
                 generation);
    check_option(p_m >= 0 && p_m <= 1, "ga.p_m", "in [0, 1]", p_m);
    check_option(p_c >= 0 && p_c <= 1, "ga.p_c", "in [0, 1]", p_c);
  }
};

struct SearchOptions {
  GaOptions ga;
  int n_v = 200;                    ///< validation images per fitness evaluation (paper: 1000)
  int generations_per_epoch = 2;
  BnEval bn_eval = BnEval::kBatch;  ///< "batch" | "running" at the CLI
  Strategy strategy = Strategy::kGa;  ///< --ga.strategy ga | random
  Rescore rescore = Rescore::kNone;   ///< --ga.rescore none | population
  Nb201Options nb201;
  void validate() const {
    ga.validate();
    check_option(n_v >= 1, "ga.n_v", ">= 1", n_v);
    check_option(generations_per_epoch >= 1, "ga.generations_per_epoch", ">= 1", generations_per_epoch);
    nb201.validate();
  }
};

}  // namespace gnas::ga
