#include "gnas/space/genome.h"

#include <filesystem>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gnas/core/hash.h"
#include "gnas/core/error.h"

namespace gnas::space {

const char* cell_kind_name(CellKind kind) {
  switch (kind) {
    case CellKind::kNormal: return "normal";
    case CellKind::kReduction: return "reduction";
    case CellKind::kInput: return "input";
  }
  return "?";
}

namespace {
constexpr OpInfo kOps[kNumOps] = {
    {"identity", OpKind::kIdentity, 0, false},    {"max_pool_3x3", OpKind::kMaxPool, 3, false},
    {"avg_pool_3x3", OpKind::kAvgPool, 3, false}, {"sep_conv_3x3", OpKind::kSepConv, 3, true},
    {"sep_conv_5x5", OpKind::kSepConv, 5, true}};
}  // namespace

const OpInfo& op_info(int op) {
  GNAS_CHECK(op >= 0 && op < kNumOps, "op code ", op, " is outside [0, ", kNumOps, ")");
  return kOps[op];
}

const char* op_name(int op) { return (op >= 0 && op < kNumOps) ? kOps[op].name : "?"; }

int SearchSpace::num_inputs(CellKind kind, int block) const {
  return block + (kind == CellKind::kInput ? 1 : 2);
}

int SearchSpace::gene_range(int index) const {
  const int cell = index / genes_per_cell();
  const int block = (index % genes_per_cell()) / kGenesPerBlock;
  const int slot = index % kGenesPerBlock;
  return slot < 2 ? num_inputs(static_cast<CellKind>(cell), block) : kNumOps;
}

std::string SearchSpace::gene_name(int index) const {
  static const char* const kSlots[kGenesPerBlock] = {"in_A", "in_B", "op_A", "op_B"};
  const int cell = index / genes_per_cell();
  const int block = (index % genes_per_cell()) / kGenesPerBlock;
  return detail::concat("gene ", index, " (", cell_kind_name(static_cast<CellKind>(cell)),
                        " cell, block ", block, ", ", kSlots[index % kGenesPerBlock], ")");
}

void validate(const SearchSpace& space, const Genome& g) {
  GNAS_CHECK_AS(ConfigError, static_cast<int>(g.size()) == space.length(), "genome: expected ",
                space.length(), " genes (3 cells x ", space.n_blocks, " blocks x 4), got ", g.size(),
                g.size() == 6 ? " (6 genes is a NAS-Bench-201 cell: pass --space nb201)" : "");
  for (int i = 0; i < space.length(); ++i) {
    const int r = space.gene_range(i);
    GNAS_CHECK_AS(ConfigError, g[i] < r, "genome: ", space.gene_name(i), " is ", int(g[i]),
                  ", allowed range is [0, ", r - 1, "]");
  }
}

CellSpec decode_cell(const SearchSpace& space, const Genome& g, CellKind kind, NetCompat compat) {
  CellSpec spec;
  spec.kind = kind;
  const int base = static_cast<int>(kind) * space.genes_per_cell();
  const int offset = spec.num_cell_inputs();
  std::vector<bool> used(space.n_blocks, false);
  for (int k = 0; k < space.n_blocks; ++k) {
    const std::uint8_t* b = &g[base + k * kGenesPerBlock];
    spec.blocks.push_back({b[0], b[1], b[2], b[3]});
    for (int in : {int(b[0]), int(b[1])})
      if (in >= offset) used[in - offset] = true;
  }
  const bool drop_first = compat == NetCompat::kReference && kind == CellKind::kInput && space.n_blocks > 1;
  for (int k = drop_first ? 1 : 0; k < space.n_blocks; ++k)
    if (!used[k]) spec.concat.push_back(k);
  // Liveness, from the last block back: a block is live when it is concatenated or a live block
  // reads it. Under kPaper every block is live (an unread block is concatenated).
  spec.live.assign(space.n_blocks, false);
  for (int k : spec.concat) spec.live[k] = true;
  for (int k = space.n_blocks - 1; k >= 0; --k) {
    if (!spec.live[k]) continue;
    for (int in : {spec.blocks[k].in_a, spec.blocks[k].in_b})
      if (in >= offset) spec.live[in - offset] = true;
  }
  return spec;
}

std::string to_text(const SearchSpace& space, const Genome& g) {
  std::ostringstream out;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (i > 0) out << ((i % space.genes_per_cell() == 0) ? " | " : " ");
    out << int(g[i]);
  }
  return out.str();
}

Genome parse_text(const SearchSpace& space, const std::string& text) {
  Genome g;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',') {
      ++i;
    } else if (c == '|') {
      GNAS_CHECK_AS(ConfigError, !g.empty() && g.size() % space.genes_per_cell() == 0,
                    "genome text: '|' after gene ", g.size(), " is not at a cell boundary (cells have ",
                    space.genes_per_cell(), " genes)");
      ++i;
    } else {
      std::size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) && text[j] != ',' &&
             text[j] != '|')
        ++j;
      const std::string tok = text.substr(i, j - i);
      bool digits = tok.size() <= 3;
      for (char d : tok) digits = digits && std::isdigit(static_cast<unsigned char>(d));
      GNAS_CHECK_AS(ConfigError, digits, "genome text: token '", tok, "' at gene ", g.size(),
                    " is not a non-negative integer");
      const int v = std::stoi(tok);
      GNAS_CHECK_AS(ConfigError, v <= 255, "genome text: value ", v, " at gene ", g.size(), " is too large");
      g.push_back(static_cast<std::uint8_t>(v));
      i = j;
    }
  }
  validate(space, g);
  return g;
}

namespace {
void json_cell(std::ostringstream& out, const CellSpec& c) {
  out << "{\"blocks\": [";
  for (std::size_t k = 0; k < c.blocks.size(); ++k) {
    const auto& b = c.blocks[k];
    out << (k ? ", " : "") << "{\"in_a\": " << b.in_a << ", \"in_b\": " << b.in_b << ", \"op_a\": \""
        << op_name(b.op_a) << "\", \"op_b\": \"" << op_name(b.op_b) << "\"}";
  }
  out << "], \"concat\": [";
  for (std::size_t k = 0; k < c.concat.size(); ++k) out << (k ? ", " : "") << c.concat[k];
  out << "]}";
}

std::string input_label(const CellSpec& c, int in) {
  if (c.kind == CellKind::kInput) return in == 0 ? "x" : detail::concat("block ", in - 1);
  if (in == 0) return "h_n";
  if (in == 1) return "h_n-1";
  return detail::concat("block ", in - 2);
}
}  // namespace

std::string to_json(const SearchSpace& space, const Genome& g, double fitness, NetCompat compat) {
  validate(space, g);
  std::ostringstream out;
  out << "{\n  \"format\": \"gnas-genome\",\n  \"space\": \"paper\",\n  \"n_blocks\": " << space.n_blocks << ",\n  \"genes\": [";
  for (std::size_t i = 0; i < g.size(); ++i) out << (i ? ", " : "") << int(g[i]);
  out << "],\n  \"text\": \"" << to_text(space, g) << "\",\n";
  if (fitness >= 0) out << "  \"fitness\": " << fitness << ",\n";
  out << "  \"compat\": \"" << compat_name(compat) << "\",\n";
  out << "  \"cells\": {";
  for (int c = 0; c < kNumCellKinds; ++c) {
    const auto kind = static_cast<CellKind>(c);
    out << (c ? ",\n" : "\n") << "    \"" << cell_kind_name(kind) << "\": ";
    json_cell(out, decode_cell(space, g, kind, compat));
  }
  out << "\n  }\n}\n";
  return out.str();
}

Genome parse_json(const SearchSpace& space, const std::string& json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(detail::concat("genome JSON: not valid JSON (", e.what(), ")"));
  }
  GNAS_CHECK_AS(ConfigError, doc.is_object(), "genome JSON: expected an object with a \"genes\" array, got a ",
                doc.type_name());
  const auto genes = doc.find("genes");
  GNAS_CHECK_AS(ConfigError, genes != doc.end(), "genome JSON: no \"genes\" array found");
  GNAS_CHECK_AS(ConfigError, genes->is_array(), "genome JSON: \"genes\" must be an array of integers, got a ",
                genes->type_name());
  GNAS_CHECK_AS(ConfigError, int(genes->size()) == space.length(), "genome JSON: expected ", space.length(),
                " genes, got ", genes->size());
  Genome g;
  for (std::size_t i = 0; i < genes->size(); ++i) {
    const auto& v = (*genes)[i];
    GNAS_CHECK_AS(ConfigError, v.is_number_unsigned() && v.get<std::uint64_t>() <= 255, "genome JSON: ", space.gene_name(int(i)),
                  " must be a small non-negative integer, got ", v.dump());
    g.push_back(static_cast<std::uint8_t>(v.get<std::uint64_t>()));
  }
  validate(space, g);
  return g;
}

std::string to_dot(const SearchSpace& space, const Genome& g, NetCompat compat) {
  validate(space, g);
  // Drawn like the paper's Fig. 14: the cell's inputs at the top, one box per block holding its two
  // ops and their Add, the Concat of the unused blocks at the bottom; ops coloured by kind.
  std::ostringstream out;
  out << "digraph gnas {\n  rankdir=TB;\n  labelloc=t;\n  label=\"net.compat = " << compat_name(compat)
      << "\";\n  fontname=\"Helvetica\";\n"
         "  node [shape=box, style=filled, fillcolor=white, fontname=\"Helvetica\", fontsize=11];\n";
  auto fill = [](int op) {
    switch (op_info(op).kind) {
      case OpKind::kIdentity: return "greenyellow";
      case OpKind::kSepConv: return "orange";
      default: return "white";
    }
  };
  for (int c = 0; c < kNumCellKinds; ++c) {
    const auto kind = static_cast<CellKind>(c);
    const CellSpec spec = decode_cell(space, g, kind, compat);
    const std::string p = cell_kind_name(kind);
    out << "  subgraph cluster_" << p << " {\n    label=\"" << p << " cell\";\n    style=rounded;\n    color=grey70;\n    fontsize=16;\n";
    out << "    { rank=min;";
    for (int i = 0; i < spec.num_cell_inputs(); ++i)
      out << " " << p << "_in" << i << " [label=\"" << input_label(spec, i) << "\", fillcolor=lightskyblue];";
    out << " }\n";
    const int off = spec.num_cell_inputs();
    auto node = [&](int in) {
      return in < off ? detail::concat(p, "_in", in) : detail::concat(p, "_b", in - off);
    };
    for (int k = 0; k < space.n_blocks; ++k) {
      const auto& b = spec.blocks[k];
      const bool live = spec.live.empty() || spec.live[std::size_t(k)];
      const std::string blk = detail::concat(p, "_b", k);
      out << "    subgraph cluster_" << blk << " {\n      label=\"block " << k << (live ? "" : " (unused)")
          << "\";\n      style=" << (live ? "solid" : "dashed") << ";\n";
      out << "      " << blk << "_a [label=\"" << op_name(b.op_a) << "\", fillcolor=" << fill(b.op_a) << "];\n";
      out << "      " << blk << "_b [label=\"" << op_name(b.op_b) << "\", fillcolor=" << fill(b.op_b) << "];\n";
      out << "      " << blk << " [label=\"Add\", fillcolor=yellow];\n    }\n";
      out << "    " << node(b.in_a) << " -> " << blk << "_a;\n    " << node(b.in_b) << " -> " << blk << "_b;\n";
      out << "    " << blk << "_a -> " << blk << ";\n    " << blk << "_b -> " << blk << ";\n";
    }
    out << "    { rank=max; " << p << "_out [label=\"Concat\", fillcolor=yellow]; }\n";
    for (int k : spec.concat) out << "    " << p << "_b" << k << " -> " << p << "_out;\n";
    out << "  }\n";
  }
  out << "}\n";
  return out.str();
}

std::uint64_t genome_hash(const Genome& g) { return fnv1a64(g.data(), g.size()); }

}  // namespace gnas::space
