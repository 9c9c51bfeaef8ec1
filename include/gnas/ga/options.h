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

/// The training-free scores' network and batch ([proxy]), and the hybrid's warm start. A score is
/// computed on a cell's fixed network at initialisation (fitness/training_free.h).
struct ProxyOptions {
  int channels = 16;        ///< C of the scoring network (NAS-Bench-201: 16)
  int cells = 5;            ///< N (nb201) or N_cell (paper) of the scoring network (NAS-Bench-201: 5)
  int batch = 128;          ///< NASWOT's batch of unaugmented training images (Mellor et al.: 128)
  std::string score = "naswot+synflow";  ///< the hybrid's score (supernet fitness with warm_start)
  int warm_start = 0;       ///< the first generation: the best N_g of this many random cells by the score
  std::string table;        ///< a score table of this setup: its scores are read instead of computed

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("proxy.channels", o.channels,
             "training-free fitness: C of the network a cell is scored in (its fixed network at initialisation). "
             "NAS-Bench-201: 16",
             in_closed(1, 4096));
    v.option("proxy.cells", o.cells, "training-free fitness: N (nb201) or N_cell (paper) of that network. "
             "NAS-Bench-201: 5", in_closed(1, 64));
    v.option("proxy.batch", o.batch, "NASWOT: unaugmented training images in its one batch. Mellor et al.: 128",
             in_closed(2, 4096));
    v.option("proxy.score", o.score,
             "the hybrid (--search.fitness supernet with --proxy.warm_start): the score that picks the first "
             "generation: naswot | synflow | params, or several joined by '+'");
    v.option("proxy.warm_start", o.warm_start,
             "the hybrid: score this many random cells with --proxy.score before the search; the best N_g are the "
             "first generation, and the first epoch trains the supernet on them only (0: off, the paper's random "
             "start). With a training-free --search.fitness: the first generation likewise",
             in_closed(0, 1e6));
    v.option("proxy.table", o.table,
             "a score table (gnas score --out) of this run's scoring setup: the scores of its cells are read "
             "instead of computed (the same values; cells it lacks are scored). One of another space, --proxy.* "
             "network or batch, --seed, data set or training split is refused");
  }
  /// An option set away from its default.
  bool any_set() const {
    const ProxyOptions d;
    return channels != d.channels || cells != d.cells || batch != d.batch || score != d.score ||
           warm_start != d.warm_start || !table.empty();
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
  std::string fitness = "supernet";  ///< supernet | naswot | synflow | params | several joined by '+'
  ProxyOptions proxy;
  Nb201Options nb201;
  bool training_free() const { return fitness != "supernet"; }

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
    v.option("search.fitness", o.fitness,
             "supernet (the paper: top-1 of the weight-sharing supernet on N_v validation images) | naswot | synflow "
             "| params (training-free: the cell's fixed network at initialisation, --proxy.*; no supernet is "
             "trained, an epoch is --search.generations_per_epoch GA rounds of N_g cells) | several joined by '+' "
             "(summed log-ranks among the cells scored so far). Training-free scores are not accuracies: "
             "--ga.selection auto means rank selection for them");
    ProxyOptions::visit_options(o.proxy, v);
    Nb201Options::visit_options(o.nb201, v);
  }
  void validate() const {
    check_bounds(*this);
    ga.validate();
    check_fitness_name(fitness, "search.fitness", true);
    check_fitness_name(proxy.score, "proxy.score", false);
    GNAS_CHECK_AS(ConfigError, training_free() || !proxy.any_set() || proxy.warm_start > 0,
                  "--proxy.* configures a training-free score, but --search.fitness is supernet: choose a "
                  "training-free --search.fitness (naswot, synflow, params), or give --proxy.warm_start N for the "
                  "hybrid");
    GNAS_CHECK_AS(ConfigError, !training_free() || ga.selection != Selection::kRoulette, "--ga.selection roulette "
                  "needs an accuracy as the fitness; --search.fitness ", fitness, " is a training-free score: use rank "
                  "(or auto)");
    GNAS_CHECK_AS(ConfigError, !training_free() || strategy == Strategy::kGa, "--search.strategy random with a "
                  "training-free --search.fitness is random sampling: use gnas score --cells random:N and gnas tabular "
                  "--strategy random, or --search.strategy ga");
    GNAS_CHECK_AS(ConfigError, !training_free() || proxy.score == ProxyOptions().score, "--proxy.score picks the "
                  "hybrid's warm start; with a training-free --search.fitness the warm start uses that fitness: leave "
                  "--proxy.score out");
    GNAS_CHECK_AS(ConfigError, proxy.warm_start == 0 || proxy.warm_start >= ga.generation, "--proxy.warm_start ",
                  proxy.warm_start, " must be 0 or at least --ga.generation (", ga.generation,
                  "): the first generation is its best N_g");
    GNAS_CHECK_AS(ConfigError, !training_free() || rescore == Rescore::kNone, "--search.rescore population re-scores "
                  "with the supernet; a training-free score is the same every time: leave it at none");
  }
  /// "supernet" (when allowed) or score names joined by '+': naswot, synflow, params, each once.
  static void check_fitness_name(const std::string& text, const char* option, bool supernet_allowed) {
    if (supernet_allowed && text == "supernet") return;
    std::size_t a = 0;
    std::string seen = "+";
    while (true) {
      const std::size_t c = text.find('+', a);
      const std::string name = text.substr(a, c == std::string::npos ? std::string::npos : c - a);
      GNAS_CHECK_AS(ConfigError, name == "naswot" || name == "synflow" || name == "params", "--", option,
                    ": unknown fitness '", name, "' in '", text, "' (", supernet_allowed ? "supernet, " : "",
                    "naswot, synflow, params, or several of the last three joined by '+')");
      GNAS_CHECK_AS(ConfigError, seen.find("+" + name + "+") == std::string::npos, "--", option, ": '", name,
                    "' is named twice in '", text, "'");
      seen += name + "+";
      if (c == std::string::npos) break;
      a = c + 1;
    }
  }
};

}  // namespace gnas::ga
