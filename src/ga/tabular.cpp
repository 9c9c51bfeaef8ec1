#include "gnas/ga/tabular.h"

#include <filesystem>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "gnas/core/error.h"

namespace gnas::ga::nb201 {

const char* const kOpNames[kOps] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};

GeneSpace gene_space() { return GeneSpace(std::vector<int>(kEdges, kOps), {0, 1, 3}); }

int encode(const Genome& g) {
  GNAS_CHECK(g.size() == std::size_t(kEdges), "NAS-Bench-201: a cell has ", kEdges, " genes, got ", g.size());
  int code = 0;
  for (int i = kEdges - 1; i >= 0; --i) {
    GNAS_CHECK(g[std::size_t(i)] < kOps, "NAS-Bench-201: gene ", i, " is ", int(g[std::size_t(i)]));
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

namespace {

/// Parses an arch string into a genome; "" on success, else what is wrong.
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

bool parse_float(const std::string& s, float& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !(v >= 0 && v <= 100)) return false;
  out = static_cast<float>(v);
  return true;
}

}  // namespace

Table load_table(const std::string& path) {
  std::error_code ec;
  GNAS_CHECK_AS(DataError, std::filesystem::exists(path, ec), path, ": cannot read the table (no such file)");
  GNAS_CHECK_AS(DataError, !std::filesystem::is_directory(path, ec), path, ": is a directory, not the table's CSV file");
  std::ifstream in(path);
  GNAS_CHECK_AS(DataError, in.good(), path, ": cannot read the table");
  Table t;
  t.path = path;
  t.valid.assign(kCells, -1.f);
  t.test.assign(kCells, -1.f);
  std::vector<int> line_of(kCells, 0);
  std::string line;
  int line_no = 1;
  GNAS_CHECK_AS(DataError, std::getline(in, line), path, ":1: the file is empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::string header = "index,arch,params_m,valid_acc,test_acc";
  if (line != header) {
    std::string shown;  // invisible characters (a byte-order mark, a stray carriage return) made visible
    for (unsigned char c : line) {
      if (c >= 32 && c < 127) {
        shown += char(c);
      } else {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        shown += hex;
      }
    }
    throw DataError(detail::concat(path, ":1: expected the header '", header, "', got '", shown, "'"));
  }
  int rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
    GNAS_CHECK_AS(DataError, fields.size() == 5, path, ":", line_no, ": expected 5 comma-separated fields, got ",
                  fields.size());
    Genome g;
    const std::string bad = parse_arch(fields[1], g);
    GNAS_CHECK_AS(DataError, bad.empty(), path, ":", line_no, ": ", bad, " in '", fields[1], "'");
    float valid = 0, test = 0;
    GNAS_CHECK_AS(DataError, parse_float(fields[3], valid), path, ":", line_no, ": valid_acc '", fields[3],
                  "' is not a percentage");
    GNAS_CHECK_AS(DataError, parse_float(fields[4], test), path, ":", line_no, ": test_acc '", fields[4],
                  "' is not a percentage");
    const int code = encode(g);
    GNAS_CHECK_AS(DataError, line_of[std::size_t(code)] == 0, path, ":", line_no, ": duplicate cell ", fields[1],
                  " (first on line ", line_of[std::size_t(code)], ")");
    line_of[std::size_t(code)] = line_no;
    t.valid[std::size_t(code)] = valid;
    t.test[std::size_t(code)] = test;
    if (t.best_code < 0 || valid > t.valid[std::size_t(t.best_code)]) t.best_code = code;
    ++rows;
  }
  GNAS_CHECK_AS(DataError, rows == kCells, path, ":", line_no, ": ", rows, " cells, but NAS-Bench-201 has ", kCells);
  return t;
}

namespace {

/// Looks cells up, counting distinct ones, and keeps the best-so-far curve.
class Evaluator {
 public:
  Evaluator(const Table& t, int budget) : t_(t), budget_(budget), seen_(kCells, 0) {
    curve_.best_valid.reserve(std::size_t(budget));
    curve_.best_test.reserve(std::size_t(budget));
    curve_.best_code.reserve(std::size_t(budget));
  }
  bool done() const { return int(curve_.best_valid.size()) >= budget_; }
  float operator()(const Genome& g) {
    const int code = encode(g);
    const float v = t_.valid[std::size_t(code)];
    if (!seen_[std::size_t(code)] && !done()) {
      seen_[std::size_t(code)] = 1;
      ticks_ = 0;
      if (best_ < 0 || v > t_.valid[std::size_t(best_)]) best_ = code;
      curve_.best_valid.push_back(t_.valid[std::size_t(best_)]);
      curve_.best_test.push_back(t_.test[std::size_t(best_)]);
      curve_.best_code.push_back(best_);
    }
    return v;
  }
  /// Guards loops that could stop finding new cells (a converged population): a million rounds
  /// without a new cell end the run with an error.
  void tick(const char* strategy) {
    GNAS_CHECK_AS(Error, ++ticks_ < 1000000, strategy, " found no new cell in a million rounds after ",
                  curve_.best_valid.size(), " distinct cells; lower --budget");
  }
  Curve take() { return std::move(curve_); }

 private:
  const Table& t_;
  int budget_;
  std::vector<std::uint8_t> seen_;
  int best_ = -1;
  long ticks_ = 0;
  Curve curve_;
};

void check_budget(int budget) {
  GNAS_CHECK_AS(ConfigError, budget >= 1 && budget <= kCells, "--budget ", budget, " must be in [1, ", kCells,
                "] (the number of NAS-Bench-201 cells)");
}

}  // namespace

Curve run_ga(const Table& t, const GaOptions& opt, int budget, Rng& rng) {
  check_budget(budget);
  const GeneSpace space = gene_space();
  Evaluator eval(t, budget);
  std::vector<Member> population;
  std::vector<Genome> generation = random_generation(space, opt.generation, rng);
  while (!eval.done()) {
    eval.tick("the GA");
    std::vector<Member> scored;
    for (const auto& g : generation) scored.push_back({g, eval(g)});
    population = replace(population, scored, opt.population).population;
    generation = next_generation(space, opt, population, rng);
  }
  return eval.take();
}

Curve run_random(const Table& t, int budget, Rng& rng) {
  check_budget(budget);
  Evaluator eval(t, budget);
  std::vector<int> order(kCells);
  for (int i = 0; i < kCells; ++i) order[std::size_t(i)] = i;
  for (int i = 0; !eval.done(); ++i) {  // a partial Fisher-Yates shuffle: no repeats
    std::swap(order[std::size_t(i)], order[std::size_t(i) + rng.uniform_int(std::uint64_t(kCells - i))]);
    eval(decode(order[std::size_t(i)]));
  }
  return eval.take();
}

Curve run_rea(const Table& t, const ReaOptions& opt, int budget, Rng& rng) {
  check_budget(budget);
  GNAS_CHECK_AS(ConfigError, opt.population >= 1 && opt.sample >= 1, "--rea.population and --rea.sample must be >= 1");
  const GeneSpace space = gene_space();
  Evaluator eval(t, budget);
  std::deque<Member> population;
  while (int(population.size()) < opt.population && !eval.done()) {
    const Genome g = random_genome(space, rng);
    population.push_back({g, eval(g)});
  }
  while (!eval.done()) {
    eval.tick("REA");
    const Member* parent = nullptr;
    for (int s = 0; s < opt.sample; ++s) {
      const Member& m = population[std::size_t(rng.uniform_int(population.size()))];
      if (!parent || m.fitness > parent->fitness) parent = &m;
    }
    Genome child = parent->genome;
    const std::size_t edge = std::size_t(rng.uniform_int(kEdges));
    child[edge] = static_cast<std::uint8_t>((child[edge] + 1 + rng.uniform_int(kOps - 1)) % kOps);  // another op
    population.push_back({child, eval(child)});
    population.pop_front();
  }
  return eval.take();
}

}  // namespace gnas::ga::nb201
