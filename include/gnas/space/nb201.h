#pragma once
/// The NAS-Bench-201 search space (Dong & Yang, ICLR 2020): one cell of 4 nodes, node 0 its input,
/// node 3 its output, an edge i -> j for every i < j (6 edges), each edge one of 5 ops; a node sums
/// its incoming edges. A genome is 6 genes, one per edge in the benchmark's order
/// (0->1 | 0->2, 1->2 | 0->3, 1->3, 2->3); the GA's blocks are the nodes. The benchmark's table
/// (every cell's CIFAR-10 accuracy) is this space's ground truth. Plain C++, no torch.
#include <cstdint>
#include <string>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/space/space.h"

namespace gnas::space::nb201 {

constexpr int kEdges = 6;
constexpr int kOps = 5;
constexpr int kNodes = 4;
constexpr int kCells = 15625;  ///< kOps ^ kEdges
/// Op codes, in the benchmark's order.
enum Op : int { kNone = 0, kSkip = 1, kConv1x1 = 2, kConv3x3 = 3, kAvgPool = 4 };
extern const char* const kOpNames[kOps];
/// Source node of edge e (its gene index) and its target node.
int edge_from(int edge);
int edge_to(int edge);

/// 6 genes of 5 values; the blocks are the nodes {0}, {1, 2}, {3, 4, 5}.
GeneSpace gene_space();
/// Cell code in [0, kCells): sum of gene_i * 5^i (not the benchmark's index). decode() is its inverse.
int encode(const Genome& g);
Genome decode(int code);
/// The benchmark's cell string, e.g. "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|".
std::string arch_string(const Genome& g);
/// Parses a cell string; returns "" on success, else what is wrong with it.
std::string parse_arch(const std::string& arch, Genome& g);

/// The benchmark's CIFAR-10 table: for each cell code its index, size and accuracies.
struct Table {
  std::string path;
  std::vector<float> valid, test;  ///< % , indexed by cell code
  std::vector<float> params_m;     ///< parameters of the C=16, N=5, 10-class network, millions
  std::vector<int> index;          ///< the benchmark's architecture index
  int best_code = -1;              ///< the cell with the highest valid_acc (the benchmark's optimum)
  /// Row of `g`: its accuracies. Throws ConfigError for a genome that is not a cell of the space.
  float test_of(const Genome& g) const { return test[std::size_t(encode(g))]; }
  float valid_of(const Genome& g) const { return valid[std::size_t(encode(g))]; }
};
/// Reads the CSV `index,arch,params_m,valid_acc,test_acc` with one row per cell. Throws DataError
/// "FILE:LINE: problem" for a missing file, a wrong header, a malformed row or number, an unknown
/// op, a duplicate cell, or a row count other than 15,625.
Table load_table(const std::string& path);

/// A ranking set of `n` cell codes: the table sorted by test_acc (ties by code) is cut into n
/// equal-count strata and one cell is drawn from each, so the set spans the whole accuracy range in
/// proportion to how the table fills it. Distinct codes, worst stratum first.
std::vector<int> ranking_set(const Table& t, int n, Rng& rng);

/// Where a cell stands among the table's 15,625 cells by test_acc: its rank (1 = the highest; cells
/// tied with it share the best rank of the tie) and the share of cells whose test_acc is lower.
struct Standing {
  int rank = 0;
  double below_pct = 0;  ///< % of the table's cells with a lower test_acc (100 * below / 15,625)
};
Standing standing_of(const Table& t, const Genome& g);
/// The mean test_acc of the table's cells (the "random cell" baseline).
double mean_test(const Table& t);

/// The space, for --space nb201.
class Nb201Space : public Space {
 public:
  Nb201Space();
  std::string name() const override { return "nb201"; }
  const GeneSpace& genes() const override { return genes_; }
  std::vector<std::string> op_names() const override;
  std::string layout_text() const override;
  std::string layout_json() const override;
  void validate(const Genome& g) const override;
  std::string to_text(const Genome& g) const override;
  /// Integers (whitespace or commas) or the benchmark's cell string.
  Genome parse_text(const std::string& text) const override;
  std::string to_json(const Genome& g, double fitness, NetCompat compat) const override;
  std::string to_dot(const Genome& g, NetCompat compat) const override;
  std::string benchmark_string(const Genome& g) const override { return arch_string(g); }

 private:
  GeneSpace genes_;
};

}  // namespace gnas::space::nb201
