// The search-space interface (space.h) and the paper's space behind it.
#include "gnas/space/space.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/space/nb201.h"

namespace gnas::space {

GeneSpace::GeneSpace(std::vector<int> gene_ranges, std::vector<int> blocks)
    : ranges(std::move(gene_ranges)), block_starts(std::move(blocks)) {
  GNAS_CHECK(!ranges.empty() && !block_starts.empty() && block_starts.front() == 0, "GeneSpace: bad layout");
  for (int r : ranges) GNAS_CHECK(r >= 1 && r <= 256, "GeneSpace: gene range ", r, " is not in [1, 256]");
  for (std::size_t b = 1; b < block_starts.size(); ++b)
    GNAS_CHECK(block_starts[b] > block_starts[b - 1] && block_starts[b] < length(), "GeneSpace: bad block starts");
}

GeneSpace paper_gene_space(const SearchSpace& space) {
  std::vector<int> ranges, starts;
  for (int i = 0; i < space.length(); ++i) ranges.push_back(space.gene_range(i));
  for (int b = 0; b < space.length() / kGenesPerBlock; ++b) starts.push_back(b * kGenesPerBlock);
  return GeneSpace(std::move(ranges), std::move(starts));
}

namespace {

/// The GeneticNAS cells (genome.h): normal, reduction and input cell of N_b blocks each.
class PaperSpace : public Space {
 public:
  explicit PaperSpace(SearchSpace s) : s_(s), genes_(paper_gene_space(s)) {}
  std::string name() const override { return "paper"; }
  const GeneSpace& genes() const override { return genes_; }
  std::vector<std::string> op_names() const override {
    std::vector<std::string> out;
    for (int op = 0; op < kNumOps; ++op) out.push_back(op_name(op));
    return out;
  }
  std::string layout_text() const override {
    return "cells normal, reduction, input (in this order), each of N_b blocks of 4 genes [in_A, in_B, op_A, op_B]; "
           "inputs of the normal and reduction cells: 0 = h_n, 1 = h_{n-1}, 2 + k = block k of the same cell; "
           "inputs of the input cell: 0 = the image x, 1 + k = block k; ops: op_names[code]";
  }
  std::string layout_json() const override {
    nlohmann::json genes = nlohmann::json::array();
    for (int i = 0; i < s_.length(); ++i) {
      const int in_block = i % kGenesPerBlock;
      genes.push_back({{"name", s_.gene_name(i)},
                       {"kind", in_block < 2 ? "input" : "op"},
                       {"range", s_.gene_range(i)},
                       {"cell", cell_kind_name(static_cast<CellKind>(i / s_.genes_per_cell()))},
                       {"block", (i % s_.genes_per_cell()) / kGenesPerBlock}});
    }
    nlohmann::json doc = {{"space", "paper"},
                          {"length", s_.length()},
                          {"cells", {"normal", "reduction", "input"}},
                          {"n_blocks", s_.n_blocks},
                          {"genes_per_block", kGenesPerBlock},
                          {"op_names", op_names()},
                          {"genes", genes}};
    return doc.dump();
  }
  void validate(const Genome& g) const override { space::validate(s_, g); }
  std::string to_text(const Genome& g) const override { return space::to_text(s_, g); }
  Genome parse_text(const std::string& text) const override { return space::parse_text(s_, text); }
  std::string to_json(const Genome& g, double fitness, NetCompat compat) const override {
    return space::to_json(s_, g, fitness, compat);
  }
  std::string to_dot(const Genome& g, NetCompat compat) const override { return space::to_dot(s_, g, compat); }

 private:
  SearchSpace s_;
  GeneSpace genes_;
};

}  // namespace

const char* space_names() { return "paper | nb201"; }

std::unique_ptr<Space> make_space(const std::string& name, int n_blocks) {
  if (name == "paper") {
    SearchSpace s;
    s.n_blocks = n_blocks;
    return std::make_unique<PaperSpace>(s);
  }
  if (name == "nb201") return std::make_unique<nb201::Nb201Space>();
  throw ConfigError(detail::concat("--space must be ", space_names(), ", got '", name, "'"));
}

std::string json_space(const std::string& json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(detail::concat("genome JSON: not valid JSON (", e.what(), ")"));
  }
  GNAS_CHECK_AS(ConfigError, doc.is_object(), "genome JSON: expected an object with a \"genes\" array, got a ",
                doc.type_name());
  const auto it = doc.find("space");
  if (it == doc.end()) return "paper";
  GNAS_CHECK_AS(ConfigError, it->is_string(), "genome JSON: \"space\" must be a string, got ", it->dump());
  return it->get<std::string>();
}

int json_n_blocks(const std::string& json, int fallback) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception&) {
    return fallback;  // load_genome says what is wrong with it
  }
  if (!doc.is_object()) return fallback;
  const auto it = doc.find("n_blocks");
  if (it == doc.end() || !it->is_number_unsigned()) return fallback;
  const auto n = it->get<std::uint64_t>();
  return n >= 1 && n <= 64 ? int(n) : fallback;
}

Genome load_genome(const Space& space, const std::string& text_or_path) {
  std::error_code ec;
  if (!std::filesystem::exists(text_or_path, ec)) {
    // Genome text has separators between its integers (an nb201 cell string has '|'); one word that
    // is not a number was meant as a path (a mistyped run directory or file).
    const bool one_word = text_or_path.find_first_of(" \t\n,|") == std::string::npos;
    const bool all_digits = text_or_path.find_first_not_of("0123456789") == std::string::npos;
    GNAS_CHECK_AS(ConfigError, !one_word || all_digits, "genome '", text_or_path,
                  "': no such file or directory (and it is not genome text, which is ", space.length(),
                  " integers)");
    GNAS_CHECK_AS(ConfigError, space.name() != "paper" || text_or_path.find('~') == std::string::npos,
                  "genome '", text_or_path, "' looks like a NAS-Bench-201 cell string, which is not a genome of the "
                  "paper's space: give --space nb201");
    return space.parse_text(text_or_path);
  }
  std::string path = text_or_path;
  if (std::filesystem::is_directory(path, ec)) path += "/best_genome.json";
  GNAS_CHECK_AS(IoError, !std::filesystem::exists(path, ec) || std::filesystem::is_regular_file(path, ec),
                "genome file '", path, "' is not a regular file");
  std::ifstream in(path);
  GNAS_CHECK_AS(IoError, in.good(), "cannot read genome file '", path, "'");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string body = buf.str();
  try {
    if (body.find('{') != std::string::npos) {
      const std::string of = json_space(body);
      GNAS_CHECK_AS(ConfigError, of == space.name(), "a genome of the ", of, " space, but this run's space is ",
                    space.name(), " (--space ", space.name(), "); pass --space ", of, " to use it");
      const auto doc = nlohmann::json::parse(body);
      const auto genes = doc.find("genes");
      GNAS_CHECK_AS(ConfigError, genes != doc.end() && genes->is_array(), "genome JSON: no \"genes\" array found");
      GNAS_CHECK_AS(ConfigError, int(genes->size()) == space.length(), "genome JSON: expected ", space.length(),
                    " genes (the ", space.name(), " space), got ", genes->size());
      std::ostringstream text;
      for (const auto& v : *genes) {
        GNAS_CHECK_AS(ConfigError, v.is_number_unsigned() && v.get<std::uint64_t>() <= 255,
                      "genome JSON: genes must be small non-negative integers, got ", v.dump());
        text << v.get<std::uint64_t>() << ' ';
      }
      return space.parse_text(text.str());
    }
    for (std::size_t at = body.find('#'); at != std::string::npos; at = body.find('#', at)) {
      const std::size_t eol = body.find('\n', at);  // a text file's comment runs to the end of its line
      body.erase(at, eol == std::string::npos ? std::string::npos : eol - at);
    }
    return space.parse_text(body);
  } catch (const ConfigError& e) {
    throw ConfigError(detail::concat(path, ": ", e.what()));
  }
}

}  // namespace gnas::space
