#pragma once
/// The search space of DESIGN §2: three cells (normal, reduction, input) of N_b blocks,
/// each block 4 genes [in_A, in_B, op_A, op_B]. Plain C++, no torch.
#include <cstdint>
#include <string>
#include <vector>

#include "gnas/core/compat.h"

namespace gnas::space {

/// Chromosome order inside a genome.
enum class CellKind : int { kNormal = 0, kReduction = 1, kInput = 2 };
constexpr int kNumCellKinds = 3;
constexpr int kGenesPerBlock = 4;
constexpr int kNumOps = 5;
const char* cell_kind_name(CellKind kind);  ///< "normal" | "reduction" | "input"

/// The op table: one row per op code (DESIGN §2). nn builds every op from it.
enum class OpKind { kIdentity, kMaxPool, kAvgPool, kSepConv };
struct OpInfo {
  const char* name;  ///< e.g. "sep_conv_3x3"
  OpKind kind;
  int kernel;        ///< 0 for identity
  bool has_params;   ///< only the separable convolutions have weights
};
/// Row `op` of the table; throws gnas::Error outside [0, kNumOps).
const OpInfo& op_info(int op);
const char* op_name(int op);                ///< op_info(op).name, or "?" outside the table

/// One gene value per byte; length = 3 * n_blocks * 4.
using Genome = std::vector<std::uint8_t>;

/// The genes of one block, decoded.
struct BlockGenes {
  int in_a = 0, in_b = 0, op_a = 0, op_b = 0;
};

/// One cell of a genome, decoded: its blocks and which blocks are concatenated into the output.
struct CellSpec {
  CellKind kind = CellKind::kNormal;
  std::vector<BlockGenes> blocks;
  std::vector<int> concat;  ///< concatenated block indices, ascending (see decode_cell)
  /// live[k]: block k's output reaches the cell output (it is concatenated, or a live block reads
  /// it). Dead blocks are neither computed nor built; only NetCompat::kReference has them.
  std::vector<bool> live;
  /// Number of cell inputs before the blocks: 2 (h_n, h_{n-1}) or 1 (x) for the input cell.
  int num_cell_inputs() const { return kind == CellKind::kInput ? 1 : 2; }
  /// True when some live block reads state `index` (0 = h_n or x, 1 = h_{n-1}, then the blocks).
  bool uses_state(int index) const {
    for (std::size_t k = 0; k < blocks.size(); ++k)
      if ((live.empty() || live[k]) && (blocks[k].in_a == index || blocks[k].in_b == index)) return true;
    return false;
  }
};

/// Shape of the search space. n_blocks is 5 in the paper; n_ops is fixed to the 5 ops.
struct SearchSpace {
  int n_blocks = 5;

  int genes_per_cell() const { return n_blocks * kGenesPerBlock; }
  int length() const { return kNumCellKinds * genes_per_cell(); }
  /// Number of input choices of block `block` (0-based) in a cell of `kind`.
  int num_inputs(CellKind kind, int block) const;
  /// Number of allowed values of gene `index` (values are 0 .. range-1).
  int gene_range(int index) const;
  /// Human-readable name of a gene, e.g. "normal cell, block 2, in_B".
  std::string gene_name(int index) const;
};

/// Throws ConfigError naming the first bad gene, its value and its allowed range.
void validate(const SearchSpace& space, const Genome& g);

/// Decodes one cell of a valid genome. Concatenated: the blocks no other block uses, except that
/// under NetCompat::kReference block 0 of the input cell never is (the authors' code; kept when it
/// is the cell's only block).
CellSpec decode_cell(const SearchSpace& space, const Genome& g, CellKind kind,
                     NetCompat compat = NetCompat::kPaper);

/// Text form: the genes as integers, cells in genome order separated by " | ".
std::string to_text(const SearchSpace& space, const Genome& g);
/// Parses text form (separators: whitespace, commas; '|' only at cell boundaries) and validates.
/// Throws ConfigError on non-numeric tokens, wrong length or out-of-range genes.
Genome parse_text(const SearchSpace& space, const std::string& text);

/// JSON with the genes, the text form, the compat and the decoded cells (ops by name, concatenated
/// blocks under that compat).
std::string to_json(const SearchSpace& space, const Genome& g, double fitness = -1.0,
                    NetCompat compat = NetCompat::kPaper);
/// Reads the "genes" array of a JSON object written by to_json (or any object with such an array).
Genome parse_json(const SearchSpace& space, const std::string& json);
/// Graphviz DOT of the three cells, one cluster per cell; the graph label names the compat.
std::string to_dot(const SearchSpace& space, const Genome& g, NetCompat compat = NetCompat::kPaper);

/// 64-bit FNV-1a hash of the genes (identical on every platform).
std::uint64_t genome_hash(const Genome& g);

}  // namespace gnas::space
