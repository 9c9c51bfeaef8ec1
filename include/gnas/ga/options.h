#pragma once
/// The search command's options: [ga] (the GA's hyperparameters), [search] (what a search scores
/// and how: strategy, N_v, rounds per epoch, BN statistics, re-scoring) and [nb201] (ground truth).
#include <string>

#include "gnas/core/option_spec.h"

namespace gnas::ga {

enum class CrossoverKind { kBlock, kUniform };
inline const Choices<CrossoverKind> kCrossovers = {{"block", CrossoverKind::kBlock},
                                                   {"uniform", CrossoverKind::kUniform}};

/// How parents are drawn from the population: roulette (the paper: p_i = f_i / sum f, which needs
/// accuracies in [0, 100]) or rank (linear ranking: the k-th worst of n members is drawn with
/// probability k / (n (n + 1) / 2), for any real-valued score). auto: roulette when the fitness is
/// an accuracy, rank otherwise (training-free scores).
enum class Selection { kAuto, kRoulette, kRank };
inline const Choices<Selection> kSelections = {
    {"auto", Selection::kAuto}, {"roulette", Selection::kRoulette}, {"rank", Selection::kRank}};

/// The search strategy of `gnas search`: the paper's GA, or random search with weight sharing at the
/// same cost (a uniform genome per batch, N_g uniform genomes per round, the same replacement).
enum class Strategy { kGa, kRandom };
inline const Choices<Strategy> kStrategies = {{"ga", Strategy::kGa}, {"random", Strategy::kRandom}};
/// BN statistics when candidates are scored: the scoring batch's own, or the running ones.
enum class BnEval { kBatch, kRunning };
inline const Choices<BnEval> kBnEvals = {{"batch", BnEval::kBatch}, {"running", BnEval::kRunning}};
/// Whose fitness is scored in an evaluate-and-replace round: the new generation only (the paper's
/// Alg. 2: a member keeps the fitness it was first given), or the current population too, on the
/// same N_v images, so that old and new members compete on equal terms.
enum class Rescore { kNone, kPopulation };
inline const Choices<Rescore> kRescores = {{"none", Rescore::kNone}, {"population", Rescore::kPopulation}};

/// Ground truth for searches in the nb201 space (--nb201.*).
struct Nb201Options {
  std::string table;        ///< the benchmark's CIFAR-10 CSV; "": no ground truth
  int rank_every = 0;       ///< the supernet's ranking of rank_cells cells every K epochs (0: at the end only)
  int rank_cells = 100;     ///< cells in the ranking set (0: no ranking)

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("nb201.table", o.table,
             "the benchmark's CIFAR-10 table (CSV: index,arch,params_m,valid_acc,test_acc; the project ships "
             "data/nasbench201/nasbench201_cifar10.csv): the log then holds the ground truth of the population's "
             "best, its mean and the chosen cell every epoch, and the supernet's ranking quality");
    v.option("nb201.rank_every", o.rank_every,
             "with --nb201.table: score the ranking set with the supernet every K epochs (0: after the last epoch "
             "only), and log Kendall tau and Spearman rho against the table",
             at_least(0));
    v.option("nb201.rank_cells", o.rank_cells,
             "with --nb201.table: cells in the ranking set, drawn by --seed and spread over the table's accuracy "
             "range, each scored on the whole validation split (0: no ranking)",
             in_closed(0, 15625));
  }
  /// Any option set away from its default (they need --space nb201).
  bool any_set() const {
    const Nb201Options d;
    return !table.empty() || rank_every != d.rank_every || rank_cells != d.rank_cells;
  }
};

/// GA hyperparameters (paper defaults); also `gnas tabular`'s.
struct GaOptions {
  int population = 20;           ///< N_p >= 2
  int generation = 20;           ///< N_g >= N_p (the first population is the top-N_p of the first G)
  double p_m = 0.02;             ///< per-gene mutation probability, in [0, 1]
  double p_c = 1.0;              ///< crossover probability, in [0, 1]
  CrossoverKind crossover = CrossoverKind::kBlock;
  Selection selection = Selection::kAuto;

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("ga.population", o.population, "N_p, population size. Paper: 20", in_closed(2, 1e6));
    v.option("ga.generation", o.generation, "N_g, generation size (>= N_p). Paper: 20", in_closed(2, 1e6));
    v.option("ga.p_m", o.p_m, "per-gene mutation probability. Paper: 0.02", in_closed(0, 1));
    v.option("ga.p_c", o.p_c, "crossover probability. Paper: 1", in_closed(0, 1));
    v.choice("ga.crossover", o.crossover,
             "block (the paper: a block's genes, or in nb201 a node's edges, travel together) | uniform",
             kCrossovers);
    v.choice("ga.selection", o.selection,
             "parent selection: auto (roulette for an accuracy fitness, rank for training-free scores, which are "
             "not accuracies) | roulette (the paper: fitness-proportional; needs fitness >= 0) | rank (linear "
             "ranking: the k-th worst of n is drawn with probability k / (n(n+1)/2))",
             kSelections);
  }
  /// The selection `auto` stands for: roulette when the fitness is an accuracy in [0, 100].
  Selection resolved_selection(bool fitness_is_accuracy) const {
    if (selection != Selection::kAuto) return selection;
    return fitness_is_accuracy ? Selection::kRoulette : Selection::kRank;
  }
  void validate() const {
    check_bounds(*this);
    check_option(generation >= population, "ga.generation", ">= --ga.population (" + std::to_string(population) + ")",
                 generation);
  }
};

/// The search command's options.
struct SearchOptions {
  GaOptions ga;
  Strategy strategy = Strategy::kGa;
  int n_v = 200;                    ///< validation images per fitness evaluation (paper: 1000)
  int generations_per_epoch = 2;
  BnEval bn_eval = BnEval::kBatch;
  Rescore rescore = Rescore::kNone;
  Nb201Options nb201;

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    GaOptions::visit_options(o.ga, v);
    v.choice("search.strategy", o.strategy,
             "ga (the paper's GA) | random (random search with weight sharing at the same cost: a uniform genome "
             "per batch, N_g uniform genomes per round, the same replacement)",
             kStrategies);
    v.option("search.n_v", o.n_v, "N_v, validation images per fitness evaluation. Paper: 1000", at_least(1));
    v.option("search.generations_per_epoch", o.generations_per_epoch,
             "evaluate-and-replace rounds after each epoch. Reference: 2", at_least(1));
    v.choice("search.bn_eval", o.bn_eval,
             "BN statistics when scoring candidates: batch (default) | running (the reference)", kBnEvals);
    v.choice("search.rescore", o.rescore,
             "none (the paper's Alg. 2: a member keeps the fitness it was first scored with) | population (each "
             "round also re-scores the population on the new generation's N_v images before the replacement; "
             "one more population's evaluation per round)",
             kRescores);
    Nb201Options::visit_options(o.nb201, v);
  }
  void validate() const {
    check_bounds(*this);
    ga.validate();
  }
};

}  // namespace gnas::ga
