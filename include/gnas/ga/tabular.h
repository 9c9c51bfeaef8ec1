#pragma once
/// The GA engine on a fully tabulated search space: NAS-Bench-201 (Dong & Yang 2020), where the
/// result of every cell is known, so a search strategy can be run thousands of times in seconds
/// with a table look-up as its fitness. Plain C++, no torch.
#include <cstdint>
#include <string>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/ga/operators.h"

namespace gnas::ga::nb201 {

constexpr int kEdges = 6;  ///< edges 0->1 | 0->2, 1->2 | 0->3, 1->3, 2->3: one gene each
constexpr int kOps = 5;
constexpr int kCells = 15625;  ///< kOps ^ kEdges
/// Op names by gene value, in the benchmark's order.
extern const char* const kOpNames[kOps];

/// The space as the GA sees it: 6 genes of 5 values; the blocks are the nodes {0}, {1, 2}, {3, 4, 5}.
GeneSpace gene_space();
/// Cell code in [0, kCells): sum of gene_i * 5^i. decode() is its inverse.
int encode(const Genome& g);
Genome decode(int code);
/// The benchmark's cell string, e.g. "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|".
std::string arch_string(const Genome& g);

/// The CIFAR-10 table: for each cell code its validation and test accuracy (%).
struct Table {
  std::string path;
  std::vector<float> valid, test;  ///< indexed by cell code
  int best_code = -1;              ///< the cell with the highest valid_acc (the benchmark's optimum)
};
/// Reads the CSV `index,arch,params_m,valid_acc,test_acc` with one row per cell. Throws DataError
/// "FILE:LINE: problem" for a missing file, a wrong header, a malformed row or number, an unknown
/// op, a duplicate cell, or a row count other than 15,625.
Table load_table(const std::string& path);

/// One run's best-so-far curve: entry k is the cell with the best valid_acc among the first k + 1
/// distinct cells looked up (ties keep the earlier one).
struct Curve {
  std::vector<float> best_valid, best_test;
  std::vector<int> best_code;
};

struct ReaOptions {
  int population = 10;  ///< NAS-Bench-201's REA: population 10
  int sample = 3;       ///< tournament sample size 3
};

/// The paper's GA (GaOptions: N_p, N_g, p_m, p_c, crossover): random first generation, steady-state
/// replacement, roulette, crossover, mutation, dedup-and-refill, until `budget` distinct cells.
Curve run_ga(const Table& t, const GaOptions& opt, int budget, Rng& rng);
/// Uniform sampling without repeats.
Curve run_random(const Table& t, int budget, Rng& rng);
/// Regularized evolution (Real et al. 2019): population of random cells; each cycle samples
/// `sample` members uniformly (with replacement), mutates the best (one random edge to another
/// op), adds the child and removes the oldest member.
Curve run_rea(const Table& t, const ReaOptions& opt, int budget, Rng& rng);

}  // namespace gnas::ga::nb201
