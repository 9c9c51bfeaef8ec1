// The NAS-Bench-201 space: its encoding, its cell string, its table and its Space (nb201.h).
#include "gnas/space/nb201.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <sstream>

#include "gnas/core/error.h"

namespace gnas::space::nb201 {

const char* const kOpNames[kOps] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};

namespace {
constexpr int kFrom[kEdges] = {0, 0, 1, 0, 1, 2};
constexpr int kTo[kEdges] = {1, 2, 2, 3, 3, 3};
}  // namespace

int edge_from(int edge) { return kFrom[edge]; }
int edge_to(int edge) { return kTo[edge]; }

GeneSpace gene_space() { return GeneSpace(std::vector<int>(kEdges, kOps), {0, 1, 3}); }

int encode(const Genome& g) {
  GNAS_CHECK_AS(ConfigError, g.size() == std::size_t(kEdges), "NAS-Bench-201: a cell has ", kEdges, " genes, got ",
                g.size());
  int code = 0;
  for (int i = kEdges - 1; i >= 0; --i) {
    GNAS_CHECK_AS(ConfigError, g[std::size_t(i)] < kOps, "NAS-Bench-201: gene ", i, " is ", int(g[std::size_t(i)]));
    code = code * kOps + g[std::size_t(i)];
  }
  return code;
}

Genome decode(int code) {
  Genome g(kEdges);
  for (int i = 0; i < kEdges; ++i, code /= kOps) g[std::size_t(i)] = static_cast<std::uint8_t>(code % kOps);
  return g;
}

std::string arch_string(const Genome& g) {
  std::ostringstream out;
  int gene = 0;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) out << "+";
    out << "|";
    for (int from = 0; from < node; ++from) out << kOpNames[g[std::size_t(gene++)]] << "~" << from << "|";
  }
  return out.str();
}

std::string parse_arch(const std::string& arch, Genome& g) {
  g.assign(kEdges, 0);
  int gene = 0;
  std::size_t at = 0;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) {
      if (at >= arch.size() || arch[at] != '+') return "expected '+' between nodes";
      ++at;
    }
    if (at >= arch.size() || arch[at] != '|') return "expected '|'";
    ++at;
    for (int from = 0; from < node; ++from) {
      const auto bar = arch.find('|', at);
      if (bar == std::string::npos) return "unterminated edge";
      const std::string edge = arch.substr(at, bar - at);
      const auto tilde = edge.find('~');
      if (tilde == std::string::npos) return "edge '" + edge + "' has no '~'";
      const std::string op = edge.substr(0, tilde), src = edge.substr(tilde + 1);
      if (src != std::to_string(from))
        return "edge '" + edge + "' of node " + std::to_string(node) + " should come from node " + std::to_string(from);
      int value = -1;
      for (int k = 0; k < kOps; ++k)
        if (op == kOpNames[k]) value = k;
      if (value < 0) return "unknown op '" + op + "' (expected none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)";
      g[std::size_t(gene++)] = static_cast<std::uint8_t>(value);
      at = bar + 1;
    }
  }
  if (at != arch.size()) return "trailing text after node 3";
  return "";
}

namespace {

/// A decimal number in [lo, hi] that is the whole field: digits with an optional sign, point and
/// exponent. Not hex (strtod reads "0x5A" as 90), inf, nan or surrounding spaces. False otherwise.
bool parse_number(const std::string& s, double lo, double hi, double& out) {
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string::npos) return false;
  if (s.find_first_of("0123456789") == std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !(v >= lo && v <= hi)) return false;
  out = v;
  return true;
}

/// A non-negative integer written as digits only (not "1e3", "+7" or "7.0"), below 10^9.
bool parse_index(const std::string& s, int& out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoi(s);
  return true;
}

std::string visible(const std::string& line) {  // invisible characters (a BOM, a stray CR) made visible
  std::string shown;
  for (unsigned char c : line) {
    if (c >= 32 && c < 127) {
      shown += char(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      shown += hex;
    }
  }
  return shown;
}

}  // namespace

Table load_table(const std::string& path) {
  std::error_code ec;
  GNAS_CHECK_AS(DataError, std::filesystem::exists(path, ec), path, ": cannot read the table (no such file)");
  GNAS_CHECK_AS(DataError, std::filesystem::is_regular_file(path, ec), path,
                ": is not a regular file (a directory or a device?); give the table's CSV file");
  std::ifstream in(path);
  GNAS_CHECK_AS(DataError, in.good(), path, ": cannot read the table");
  Table t;
  t.path = path;
  t.valid.assign(kCells, -1.f);
  t.test.assign(kCells, -1.f);
  t.params_m.assign(kCells, -1.f);
  t.index.assign(kCells, -1);
  std::vector<int> line_of(kCells, 0);
  std::map<int, int> index_line;  // the benchmark's index -> its first line
  std::string line;
  int line_no = 1;
  GNAS_CHECK_AS(DataError, std::getline(in, line), path, ":1: the file is empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::string header = "index,arch,params_m,valid_acc,test_acc";
  GNAS_CHECK_AS(DataError, line == header, path, ":1: expected the header '", header, "', got '", visible(line),
                "' (is this the NAS-Bench-201 CIFAR-10 table?)");
  int rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;  // every field, the empty one after a trailing comma included
    for (std::size_t at = 0;;) {
      const std::size_t comma = line.find(',', at);
      fields.push_back(line.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    GNAS_CHECK_AS(DataError, fields.size() == 5, path, ":", line_no, ": expected 5 comma-separated fields, got ",
                  fields.size(), !line.empty() && line.back() == ',' ? " (a trailing comma)" : "", " in '",
                  visible(line), "'");
    Genome g;
    const std::string bad = parse_arch(fields[1], g);
    GNAS_CHECK_AS(DataError, bad.empty(), path, ":", line_no, ": ", bad, " in '", visible(fields[1]), "'");
    int index = 0;
    double params = 0, valid = 0, test = 0;
    GNAS_CHECK_AS(DataError, parse_index(fields[0], index), path, ":", line_no, ": index '", visible(fields[0]),
                  "' is not a non-negative integer written in digits");
    GNAS_CHECK_AS(DataError, parse_number(fields[2], 0, 1e6, params), path, ":", line_no, ": params_m '", visible(fields[2]),
                  "' is not a parameter count in millions");
    GNAS_CHECK_AS(DataError, parse_number(fields[3], 0, 100, valid), path, ":", line_no, ": valid_acc '", visible(fields[3]),
                  "' is not a percentage");
    GNAS_CHECK_AS(DataError, parse_number(fields[4], 0, 100, test), path, ":", line_no, ": test_acc '", visible(fields[4]),
                  "' is not a percentage");
    const auto code = std::size_t(encode(g));
    GNAS_CHECK_AS(DataError, line_of[code] == 0, path, ":", line_no, ": duplicate cell ", fields[1],
                  " (first on line ", line_of[code], ")");
    line_of[code] = line_no;
    const auto first = index_line.emplace(index, line_no);
    GNAS_CHECK_AS(DataError, first.second, path, ":", line_no, ": duplicate index ", index, " (first on line ",
                  first.first->second, ")");
    t.valid[code] = float(valid);
    t.test[code] = float(test);
    t.params_m[code] = float(params);
    t.index[code] = index;
    if (t.best_code < 0 || float(valid) > t.valid[std::size_t(t.best_code)]) t.best_code = int(code);
    ++rows;
  }
  GNAS_CHECK_AS(DataError, rows == kCells, path, ":", line_no, ": ", rows, " cells, but NAS-Bench-201 has ", kCells);
  return t;
}

std::vector<int> ranking_set(const Table& t, int n, Rng& rng) {
  GNAS_CHECK_AS(ConfigError, n >= 1 && n <= kCells, "a ranking set of ", n, " cells: must be in [1, ", kCells, "]");
  std::vector<int> order(kCells);
  for (int i = 0; i < kCells; ++i) order[std::size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return t.test[std::size_t(a)] < t.test[std::size_t(b)]; });
  std::vector<int> out;
  for (int s = 0; s < n; ++s) {
    const std::int64_t begin = std::int64_t(s) * kCells / n, end = std::int64_t(s + 1) * kCells / n;
    out.push_back(order[std::size_t(begin + std::int64_t(rng.uniform_int(std::uint64_t(end - begin))))]);
  }
  return out;
}

Standing standing_of(const Table& t, const Genome& g) {
  const float own = t.test_of(g);
  std::int64_t above = 0, below = 0;
  for (float x : t.test) above += x > own, below += x < own;
  return {int(above) + 1, 100.0 * double(below) / double(t.test.size())};
}

double mean_test(const Table& t) {
  double sum = 0;
  for (float x : t.test) sum += double(x);
  return t.test.empty() ? std::nan("") : sum / double(t.test.size());
}

Nb201Space::Nb201Space() : genes_(gene_space()) {}

std::vector<std::string> Nb201Space::op_names() const { return {kOpNames, kOpNames + kOps}; }

std::string Nb201Space::layout_text() const {
  return "one NAS-Bench-201 cell: 6 genes, one per edge in the order 0->1 | 0->2, 1->2 | 0->3, 1->3, 2->3 "
         "(node 0 is the cell's input, node 3 its output, each node sums its incoming edges); each gene is an op: "
         "op_names[code]";
}

std::string Nb201Space::layout_json() const {
  nlohmann::json genes = nlohmann::json::array();
  for (int e = 0; e < kEdges; ++e)
    genes.push_back({{"name", detail::concat("edge ", kFrom[e], "->", kTo[e])},
                     {"kind", "op"},
                     {"range", kOps},
                     {"from", kFrom[e]},
                     {"to", kTo[e]}});
  nlohmann::json doc = {{"space", "nb201"}, {"length", kEdges}, {"nodes", kNodes}, {"op_names", op_names()},
                        {"genes", genes}};
  return doc.dump();
}

void Nb201Space::validate(const Genome& g) const {
  GNAS_CHECK_AS(ConfigError, g.size() == std::size_t(kEdges), "genome: expected ", kEdges,
                " genes (a NAS-Bench-201 cell: one op per edge), got ", g.size(),
                g.size() % 12 == 0 && !g.empty() ? " (a genome of the paper's space? pass --space paper)" : "");
  for (int e = 0; e < kEdges; ++e)
    GNAS_CHECK_AS(ConfigError, g[std::size_t(e)] < kOps, "genome: edge ", kFrom[e], "->", kTo[e], " is ",
                  int(g[std::size_t(e)]), ", allowed range is [0, ", kOps - 1, "] (", kOpNames[0], " .. ",
                  kOpNames[kOps - 1], ")");
}

std::string Nb201Space::to_text(const Genome& g) const {
  validate(g);
  std::ostringstream out;
  for (std::size_t i = 0; i < g.size(); ++i) out << (i ? " " : "") << int(g[i]);
  return out.str();
}

Genome Nb201Space::parse_text(const std::string& text) const {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '|') {  // the benchmark's cell string
    const auto last = text.find_last_not_of(" \t\r\n");
    Genome g;
    const std::string bad = parse_arch(text.substr(first, last - first + 1), g);
    GNAS_CHECK_AS(ConfigError, bad.empty(), "NAS-Bench-201 cell string: ", bad);
    return g;
  }
  std::string spaced = text;
  for (char& c : spaced)
    if (c == ',') c = ' ';
  Genome g;
  std::stringstream in(spaced);
  for (std::string tok; in >> tok;) {
    GNAS_CHECK_AS(ConfigError, tok.size() <= 3 && tok.find_first_not_of("0123456789") == std::string::npos,
                  "genome text: token '", tok, "' at gene ", g.size(),
                  " is not a non-negative integer (an nb201 genome is 6 integers or the benchmark's cell string)");
    g.push_back(static_cast<std::uint8_t>(std::min(255, std::stoi(tok))));
  }
  validate(g);
  return g;
}

std::string Nb201Space::to_json(const Genome& g, double fitness, NetCompat) const {
  validate(g);
  nlohmann::ordered_json doc;
  doc["format"] = "gnas-genome";
  doc["space"] = "nb201";
  doc["genes"] = std::vector<int>(g.begin(), g.end());
  doc["text"] = to_text(g);
  doc["arch"] = arch_string(g);
  if (fitness >= 0) doc["fitness"] = fitness;
  nlohmann::ordered_json edges = nlohmann::ordered_json::array();
  for (int e = 0; e < kEdges; ++e)
    edges.push_back({{"from", kFrom[e]}, {"to", kTo[e]}, {"op", kOpNames[g[std::size_t(e)]]}});
  doc["edges"] = edges;
  return doc.dump(2) + "\n";
}

std::string Nb201Space::to_dot(const Genome& g, NetCompat) const {
  validate(g);
  std::ostringstream out;
  out << "digraph nb201 {\n  label=\"NAS-Bench-201 cell " << arch_string(g) << "\";\n  rankdir=LR;\n";
  out << "  n0 [label=\"0 (input)\"];\n  n1 [label=\"1\"];\n  n2 [label=\"2\"];\n  n3 [label=\"3 (output)\"];\n";
  for (int e = 0; e < kEdges; ++e) {
    const int op = g[std::size_t(e)];
    out << "  n" << kFrom[e] << " -> n" << kTo[e] << " [label=\"" << kOpNames[op] << "\""
        << (op == kNone ? ", style=dotted" : "") << "];\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace gnas::space::nb201
