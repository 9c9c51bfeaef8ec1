#include "gnas/fitness/score_table.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/stats.h"
#include "gnas/io/files.h"

namespace gnas::fitness {

namespace {

const char* const kColumns = "arch,params,naswot,synflow";

/// A whole field as a double: decimal or exponent notation, or nan / inf / -inf. No hex, no
/// leading or trailing space, nothing after the number.
bool parse_double(const std::string& s, double& out) {
  if (s == "nan") return out = std::numeric_limits<double>::quiet_NaN(), true;
  if (s == "inf") return out = std::numeric_limits<double>::infinity(), true;
  if (s == "-inf") return out = -std::numeric_limits<double>::infinity(), true;
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// "key=value" pairs of the setup line, in order.
ScoreSetup parse_setup(const std::string& line, const std::string& where) {
  GNAS_CHECK_AS(DataError, line.rfind("# ", 0) == 0, where, ": expected the setup line '# space=... data=...', got '",
                line, "'");
  std::istringstream in(line.substr(2));
  std::map<std::string, std::string> kv;
  std::string item;
  while (in >> item) {
    const auto eq = item.find('=');
    GNAS_CHECK_AS(DataError, eq != std::string::npos && eq > 0, where, ": '", item, "' is not key=value");
    GNAS_CHECK_AS(DataError, kv.emplace(item.substr(0, eq), item.substr(eq + 1)).second, where, ": key '",
                  item.substr(0, eq), "' twice");
  }
  ScoreSetup s;
  auto text = [&](const char* key) -> std::string {
    const auto it = kv.find(key);
    GNAS_CHECK_AS(DataError, it != kv.end() && !it->second.empty(), where, ": the setup line has no ", key, "=");
    return it->second;
  };
  auto whole = [&](const char* key, double lo, double hi) {
    const std::string v = text(key);
    double d = 0;
    GNAS_CHECK_AS(DataError, v.find_first_not_of("0123456789") == std::string::npos && parse_double(v, d) && d >= lo && d <= hi,
                  where, ": ", key, "=", v, " is not a whole number in [", lo, ", ", hi, "]");
    return d;
  };
  s.space = text("space");
  s.channels = int64_t(whole("channels", 1, 4096));
  s.cells = int64_t(whole("cells", 1, 64));
  s.blocks = int(whole("blocks", 1, 16));
  s.batch = int(whole("batch", 2, 1e6));
  {
    const std::string v = text("seed");
    char* end = nullptr;
    errno = 0;
    const unsigned long long seed = std::strtoull(v.c_str(), &end, 10);
    GNAS_CHECK_AS(DataError, v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos &&
                                 end == v.c_str() + v.size() && errno == 0,
                  where, ": seed=", v, " is not a whole number");
    s.seed = std::uint64_t(seed);
  }
  s.data = text("data");
  s.train_images = int64_t(whole("train_images", 1, 1e9));
  GNAS_CHECK_AS(DataError, kv.size() == 8, where, ": the setup line has ", kv.size(),
                " keys; expected space, channels, cells, blocks, batch, seed, data, train_images");
  return s;
}

}  // namespace

std::string ScoreSetup::header_line() const {
  std::ostringstream o;
  o << "# space=" << space << " channels=" << channels << " cells=" << cells << " blocks=" << blocks
    << " batch=" << batch << " seed=" << seed << " data=" << data << " train_images=" << train_images;
  return o.str();
}

std::string ScoreSetup::difference(const ScoreSetup& other) const {
  auto diff = [](const char* key, const auto& mine, const auto& theirs) -> std::string {
    if (mine == theirs) return "";
    std::ostringstream o;
    o << key << "=" << mine << " (the other: " << theirs << ")";
    return o.str();
  };
  for (const std::string& d :
       {diff("space", space, other.space), diff("channels", channels, other.channels),
        diff("cells", cells, other.cells), diff("blocks", space == "paper" ? blocks : 0, other.space == "paper" ? other.blocks : 0),
        diff("batch", batch, other.batch), diff("seed", seed, other.seed), diff("data", data, other.data),
        diff("train_images", train_images, other.train_images)})
    if (!d.empty()) return d;
  return "";
}

std::string score_table_header(const ScoreSetup& setup) {
  return std::string(kScoreTableMagic) + "\n" + setup.header_line() + "\n" + kColumns + "\n";
}

std::string score_row_line(const ScoreRow& r) {
  GNAS_CHECK(r.arch.find_first_of(",\n\r") == std::string::npos, "score table: the cell '", r.arch,
             "' holds a comma or a line break");
  return r.arch + "," + format_double(r.params) + "," + format_double(r.naswot) + "," + format_double(r.synflow) + "\n";
}

ScoreTable read_score_table(const std::string& path) {
  ScoreTable t;
  t.path = path;
  const std::string body = io::read_file(path);
  std::size_t pos = 0;
  int line_no = 0;
  std::set<std::string> seen;
  while (pos < body.size()) {
    const std::size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) break;  // a row cut off by a crash: dropped, appends overwrite it
    std::string line = body.substr(pos, nl - pos);
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no);
    GNAS_CHECK_AS(DataError, line.empty() || line.back() != '\r', where,
                  ": the line ends in a carriage return (\\r: a CRLF file); convert it to LF line ends");
    if (line_no == 1) {
      if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF)
        throw DataError(where + ": the file starts with a byte-order mark; save it without one");
      GNAS_CHECK_AS(DataError, line == kScoreTableMagic, where, ": not a gnas score table (expected '", kScoreTableMagic,
                    "', got '", line.substr(0, 60), "'); write one with gnas score");
    } else if (line_no == 2) {
      t.setup = parse_setup(line, where);
    } else if (line_no == 3) {
      GNAS_CHECK_AS(DataError, line == kColumns, where, ": expected the columns '", kColumns, "', got '", line, "'");
    } else {
      std::vector<std::string> f;
      std::size_t a = 0;
      while (true) {
        const std::size_t c = line.find(',', a);
        f.push_back(line.substr(a, c == std::string::npos ? std::string::npos : c - a));
        if (c == std::string::npos) break;
        a = c + 1;
      }
      GNAS_CHECK_AS(DataError, f.size() == 4, where, ": ", f.size(), " fields, expected 4 (", kColumns, ")");
      ScoreRow r;
      r.arch = f[0];
      GNAS_CHECK_AS(DataError, !r.arch.empty(), where, ": empty arch");
      double* dest[3] = {&r.params, &r.naswot, &r.synflow};
      const char* names[3] = {"params", "naswot", "synflow"};
      for (int k = 0; k < 3; ++k) {
        GNAS_CHECK_AS(DataError, parse_double(f[std::size_t(k) + 1], *dest[k]), where, ": ", names[k], " '",
                      f[std::size_t(k) + 1], "' is not a number");
      }
      GNAS_CHECK_AS(DataError, std::isfinite(r.params) && r.params >= 0 && r.params == std::floor(r.params), where,
                    ": params '", f[1], "' is not a parameter count");
      GNAS_CHECK_AS(DataError, !(std::isinf(r.naswot) && r.naswot > 0), where, ": naswot +inf (only -inf, a singular kernel, is a valid infinity)");
      GNAS_CHECK_AS(DataError, seen.insert(r.arch).second, where, ": the cell ", r.arch, " is scored twice");
      t.rows.push_back(std::move(r));
    }
    pos = nl + 1;
    t.valid_bytes = pos;
  }
  GNAS_CHECK_AS(DataError, line_no >= 3, path, ": a score table needs its three header lines (", kScoreTableMagic,
                ", the setup line, the columns); this file has ", line_no, " complete line(s)");
  return t;
}

std::vector<ScoreKind> parse_score_list(const std::string& text, const std::string& option) {
  std::vector<ScoreKind> out;
  std::size_t a = 0;
  while (true) {
    const std::size_t c = text.find('+', a);
    const std::string name = text.substr(a, c == std::string::npos ? std::string::npos : c - a);
    bool found = false;
    for (const auto& [n, k] : kScoreKinds)
      if (n == name) {
        GNAS_CHECK_AS(ConfigError, std::find(out.begin(), out.end(), k) == out.end(), "--", option, ": '", name,
                      "' is named twice in '", text, "'");
        out.push_back(k);
        found = true;
      }
    GNAS_CHECK_AS(ConfigError, found, "--", option, ": unknown score '", name, "' in '", text,
                  "' (naswot, synflow, params, or several joined by '+')");
    if (c == std::string::npos) break;
    a = c + 1;
  }
  return out;
}

std::vector<double> combined_fitness(const ScoreTable& table, const std::vector<ScoreKind>& kinds) {
  const std::size_t n = table.rows.size();
  for (ScoreKind k : kinds)
    for (const auto& r : table.rows)
      GNAS_CHECK_AS(DataError, !std::isnan(r.get(k)), table.path, ": the cell ", r.arch, " has no ",
                    choice_name(kScoreKinds, k), " score (nan); score it with gnas score --scores ",
                    choice_name(kScoreKinds, k));
  std::vector<double> fitness(n, 0.0);
  if (kinds.size() == 1) {
    for (std::size_t i = 0; i < n; ++i) fitness[i] = table.rows[i].get(kinds[0]);
    return fitness;
  }
  for (ScoreKind k : kinds) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = table.rows[i].get(k);
    const std::vector<double> ranks = mean_ranks(v);
    for (std::size_t i = 0; i < n; ++i) fitness[i] += std::log(ranks[i] / double(n));
  }
  return fitness;
}

}  // namespace gnas::fitness
