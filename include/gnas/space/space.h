#pragma once
/// A search space: what the GA searches (its gene space), how a genome is written down and read
/// back, and what each gene means. The networks a space builds live in nn/ (nn/supernet.h). Two
/// spaces exist: `paper` (the GeneticNAS cells, search/genome.h) and `nb201` (the NAS-Bench-201
/// cell, search/nb201.h). A new space is one new file pair here and one in nn/ (docs/architecture.md).
/// Plain C++, no torch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gnas/core/compat.h"
#include "gnas/space/genome.h"

namespace gnas::space {

/// What the GA needs to know of a space: the number of genes, each gene's range, and the blocks
/// that block crossover swaps whole. The operators (ga/operators.h) run unchanged on any space.
struct GeneSpace {
  std::vector<int> ranges;        ///< gene i takes the values 0 .. ranges[i] - 1 (ranges[i] >= 1)
  std::vector<int> block_starts;  ///< first gene of each block, ascending, block_starts[0] == 0
  GeneSpace() = default;
  GeneSpace(std::vector<int> gene_ranges, std::vector<int> blocks);
  int length() const { return static_cast<int>(ranges.size()); }
  int gene_range(int i) const { return ranges[static_cast<std::size_t>(i)]; }
  int num_blocks() const { return static_cast<int>(block_starts.size()); }
  /// One past the last gene of block b.
  int block_end(int b) const { return b + 1 < num_blocks() ? block_starts[std::size_t(b) + 1] : length(); }
};

/// The gene space of the paper's cells: 3 chromosomes of N_b blocks of 4 genes.
GeneSpace paper_gene_space(const SearchSpace& space);

class Space {
 public:
  virtual ~Space() = default;
  /// "paper" | "nb201": the value of --space.
  virtual std::string name() const = 0;
  virtual const GeneSpace& genes() const = 0;
  int length() const { return genes().length(); }
  /// Names of the op codes that op genes take.
  virtual std::vector<std::string> op_names() const = 0;
  /// What each gene position means, for people (the log's genome_layout attribute).
  virtual std::string layout_text() const = 0;
  /// The same as JSON, for programs (the log's genome_layout_json attribute): {"space": ..,
  /// "length": .., "genes": [{"name": .., "kind": "input"|"op", "range": ..}, ...], ...}.
  virtual std::string layout_json() const = 0;
  /// Throws ConfigError naming the first bad gene, its value and its allowed range (or a wrong length).
  virtual void validate(const Genome& g) const = 0;
  /// One-line text form (integers); parse_text reads it (and, for nb201, the benchmark's cell string).
  virtual std::string to_text(const Genome& g) const = 0;
  virtual Genome parse_text(const std::string& text) const = 0;
  /// JSON with "space", the genes, the text form and the decoded cell(s); fitness < 0 is left out.
  virtual std::string to_json(const Genome& g, double fitness, NetCompat compat) const = 0;
  /// Graphviz DOT of the cell(s).
  virtual std::string to_dot(const Genome& g, NetCompat compat) const = 0;
  /// The benchmark's own name of the cell, when the space has one (nb201's cell string); else "".
  virtual std::string benchmark_string(const Genome&) const { return ""; }
};

/// The space of --space: "paper" (n_blocks blocks per cell) or "nb201" (n_blocks is ignored).
/// Throws ConfigError for another name.
std::unique_ptr<Space> make_space(const std::string& name, int n_blocks);
/// The names make_space accepts, "paper | nb201".
const char* space_names();

/// The n_blocks a genome JSON file records (the paper's space writes it), or `fallback` when it has
/// none or the text is not such a file.
int json_n_blocks(const std::string& json, int fallback);

/// Reads a genome of `space` given as text, as a JSON file, or as a file holding the text form
/// ('#' starts a comment that runs to the end of its line). A directory is taken as a run directory
/// and its best_genome.json is read. A JSON file of another space is refused, naming both.
Genome load_genome(const Space& space, const std::string& text_or_path);

/// The "space" member of a genome JSON file's text ("paper" when it has none: files written before
/// there were two spaces).
std::string json_space(const std::string& json);

}  // namespace gnas::space
