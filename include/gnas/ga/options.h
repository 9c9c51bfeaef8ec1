#pragma once
/// The [ga] section of a run's configuration: the GA's hyperparameters and the search strategy.
#include <string>

namespace gnas::ga {

enum class CrossoverKind { kBlock, kUniform };
/// The search strategy of `gnas search`: the paper's GA, or random search with weight sharing at the
/// same cost (a uniform genome per batch, N_g uniform genomes per round, the same replacement).
enum class Strategy { kGa, kRandom };
/// BN statistics when candidates are scored: the scoring batch's own, or the running ones.
enum class BnEval { kBatch, kRunning };

/// GA hyperparameters (paper defaults).
struct GaOptions {
  int population = 20;           ///< N_p >= 2
  int generation = 20;           ///< N_g >= N_p (the first population is the top-N_p of the first G)
  double p_m = 0.02;             ///< per-gene mutation probability, in [0, 1]
  double p_c = 1.0;              ///< crossover probability, in [0, 1]
  CrossoverKind crossover = CrossoverKind::kBlock;
};

struct SearchOptions {
  GaOptions ga;
  int n_v = 200;                    ///< validation images per fitness evaluation (paper: 1000)
  int generations_per_epoch = 2;
  BnEval bn_eval = BnEval::kBatch;  ///< "batch" | "running" at the CLI
  Strategy strategy = Strategy::kGa;  ///< --ga.strategy ga | random
};

}  // namespace gnas::ga
