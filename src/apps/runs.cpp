// gnas runs: one table line per run directory, from status.json, config.ini and log.h5 (read only,
// so it is safe on runs that are still being written).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "gnas/cli/options.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/core/progress.h"
#include "gnas/io/config_keys.h"
#include "gnas/io/files.h"
#include "gnas/io/ini.h"
#include "gnas/io/log_reader.h"
#include "gnas/io/run_dir.h"
#include "gnas/io/run_status.h"
#include "gnas/space/space.h"

namespace gnas::app {
namespace {
namespace fs = std::filesystem;

/// Not among the differing keys: those with their own column, and the operational ones (how a run
/// was executed, not what it computed): io/config_keys.h, the list the log also carries.
bool hidden_key(const std::string& key) {
  const auto& own = io::own_column_keys();
  // `threads` is operational (a resume may change it) but changes a run's last digits (the sums run
  // in another order): runs that differ in it are told apart.
  return (io::is_operational_key(key) && key != "threads") || std::find(own.begin(), own.end(), key) != own.end();
}

/// A directory that could not be searched (its permissions, an I/O error): named, not skipped.
struct Unreadable {
  fs::path dir;
  std::string why;
};

/// True when `d` holds a run's file. A directory whose entries cannot be looked at throws the
/// filesystem's error.
bool is_run_dir(const fs::path& d) {
  for (const char* f : {"log.h5", "status.json", "config.ini"}) {
    std::error_code ec;
    if (fs::exists(d / f, ec)) return true;
    if (ec) throw fs::filesystem_error("cannot look into the directory", d, ec);
  }
  return false;
}

/// `dir` itself when it is a run, else the runs below it (3 levels at most), in name order. The
/// directories that cannot be read go to `unreadable`; the others are still searched.
void find_runs(const fs::path& dir, int depth, std::vector<fs::path>& out, std::vector<Unreadable>& unreadable) {
  try {
    if (is_run_dir(dir)) {
      out.push_back(dir);
      return;
    }
  } catch (const fs::filesystem_error& e) {
    unreadable.push_back({dir, e.code().message()});
    return;
  }
  if (depth == 0) return;
  std::vector<fs::path> children;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) children.push_back(it->path());
  if (ec) {
    unreadable.push_back({dir, ec.message()});
    return;
  }
  std::sort(children.begin(), children.end());
  for (const auto& c : children) find_runs(c, depth - 1, out, unreadable);
}

struct Row {
  std::string path, name, command, status, reason, strategy, seed, genome, dataset;
  std::string fitness;                   ///< search: supernet, naswot, ... ("" for a retrain)
  double rank_tau = NAN, params_tau = NAN;  ///< the last ranking's tau, and the params floor's
  int epochs_done = 0, epochs_planned = 0;
  double best_fitness = NAN, best_val = NAN, test_acc = NAN, wall_s = NAN;
  double table_test = NAN;  ///< nb201 with --nb201.table: the chosen cell's table test accuracy
  double table_pct = NAN;   ///< and the share of the table's cells below it
  std::string source_run;   ///< retrain: the search its genome came from (absolute path)
  int source_epoch = 0;
  std::map<std::string, std::string> config;
  bool unreadable = false;
  std::string unreadable_why;
};

double max_finite(const std::vector<double>& v) {
  double m = NAN;
  for (double x : v)
    if (std::isfinite(x) && !(x <= m)) m = x;
  return m;
}

/// Unique short names: the directory name, with parent directories added where names collide.
void name_rows(std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> parts;
  for (const auto& r : rows) {
    std::vector<std::string> p;
    for (const auto& c : fs::weakly_canonical(fs::path(r.path))) {
      const std::string s = c.string();
      if (!s.empty() && s != "/") p.push_back(s);
    }
    parts.push_back(p);
  }
  std::vector<std::size_t> take(rows.size(), 1);
  for (int round = 0; round < 16; ++round) {
    std::map<std::string, std::vector<std::size_t>> by_name;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& p = parts[i];
      const std::size_t n = std::min(take[i], p.size());
      std::string name;
      for (std::size_t k = p.size() - n; k < p.size(); ++k) name += (name.empty() ? "" : "/") + p[k];
      rows[i].name = name.empty() ? rows[i].path : name;
      by_name[rows[i].name].push_back(i);
    }
    bool clash = false;
    for (auto& [name, idx] : by_name)
      if (idx.size() > 1)
        for (std::size_t i : idx)
          if (take[i] < parts[i].size()) ++take[i], clash = true;
    if (!clash) break;
  }
  std::map<std::string, int> seen;  // the same directory listed twice
  for (auto& r : rows)
    if (++seen[r.name] > 1) r.name += "#" + std::to_string(seen[r.name]);
}

Row read_row(const fs::path& dir, double stale_after_min, std::int64_t now) {
  Row r;
  r.path = dir.lexically_normal().string();
  if (r.path.size() > 1 && r.path.back() == '/') r.path.pop_back();
  const std::string d = dir.string();
  std::optional<io::LogSummary> log;
  try {
    if (io::path_exists(d + "/log.h5")) log = io::read_log_summary(d + "/log.h5");
  } catch (const std::exception& e) {
    GNAS_LOG(WARN) << e.what();
    r.unreadable = true;
    r.unreadable_why = e.what();
  }
  std::optional<io::RunStatus> status;
  try {
    status = io::read_run_status(d);
  } catch (const std::exception& e) {
    GNAS_LOG(WARN) << e.what();
    r.unreadable = true;
    r.unreadable_why = e.what();
  }
  try {
    if (io::path_exists(d + "/config.ini"))
      r.config = io::parse_ini(io::read_file(d + "/config.ini"));
    else if (log)
      r.config = io::parse_ini(log->config);
  } catch (const std::exception& e) {  // the log's copy of the config, when there is one
    GNAS_LOG(WARN) << e.what();
    r.unreadable = true;
    r.unreadable_why = e.what();
    if (log) r.config = io::parse_ini(log->config);
  }
  for (auto it = r.config.begin(); it != r.config.end();) {  // a v2 log's copy has [run]: same keys as config.ini
    if (it->first.rfind("run.", 0) == 0) {
      r.config[it->first.substr(4)] = it->second;
      it = r.config.erase(it);
    } else {
      ++it;
    }
  }
  const auto cfg = [&](const std::string& k) { const auto it = r.config.find(k); return it == r.config.end() ? "" : it->second; };
  if (!status && log && log->status) status = log->status;  // a log copied without its status.json
  r.seed = !cfg("seed").empty() ? cfg("seed") : log && log->has_seed ? std::to_string(log->seed) : "";
  r.command = status ? status->command : log ? log->command : "";
  r.strategy = log && !log->strategy.empty() ? log->strategy : r.command == "search" ? cfg("search.strategy") : "";
  if (r.command == "search")
    r.fitness = log && !log->fitness.empty() ? log->fitness : !cfg("search.fitness").empty() ? cfg("search.fitness") : "supernet";
  if (log) r.rank_tau = log->rank_tau, r.params_tau = log->params_tau;
  if (log) {
    r.dataset = log->dataset;
    r.source_run = log->source_run;
    r.source_epoch = log->source_epoch;
    r.epochs_done = int(log->time_s.size());
    if (r.command == "search") {
      r.best_fitness = max_finite(log->best_fitness);
      r.best_val = max_finite(log->best_full_val_acc);
    }
    if (!log->test_acc.empty() && std::isfinite(log->test_acc.back())) r.test_acc = log->test_acc.back();
    if (!log->gt_chosen_test.empty() && std::isfinite(log->gt_chosen_test.back()))
      r.table_test = log->gt_chosen_test.back();
    if (!log->gt_chosen_below_pct.empty() && std::isfinite(log->gt_chosen_below_pct.back()))
      r.table_pct = log->gt_chosen_below_pct.back();
    const bool genome_set = r.command == "retrain" || std::isfinite(log->best_genome_fitness);
    if (genome_set && !log->best_genome.empty()) {
      // The log names its space (logs before there were two spaces: the paper's, N_b from the length).
      const std::string space_name = log->space.empty() ? "paper" : log->space;
      const int n_blocks = int(log->best_genome.size()) / (3 * space::kGenesPerBlock);
      try {
        const auto space = space::make_space(space_name, std::max(1, n_blocks));
        r.genome = space->to_text(log->best_genome);
        if (!space->benchmark_string(log->best_genome).empty()) r.genome = space->benchmark_string(log->best_genome);
      } catch (const ConfigError&) {
        r.genome = "?";  // a genome that does not fit its space: shown as unknown, not guessed
      }
    }
    double sum = 0;
    for (double t : log->time_s) sum += t;
    r.wall_s = log->time_s.empty() ? NAN : sum;
  } else if (status) {
    r.epochs_done = status->epochs_done;
  }
  r.epochs_planned = status ? status->epochs_planned : cfg("train.epochs").empty() ? 0 : std::atoi(cfg("train.epochs").c_str());
  if (status) {
    double longest = 0;
    if (log)
      for (double t : log->time_s) longest = std::max(longest, t);
    const double stale = stale_after_min > 0 ? 60 * stale_after_min : io::stale_after_s(*status, longest);
    const io::StatusView view = io::view_status(*status, now, stale, io::host_name());
    r.status = view.label;
    r.reason = view.reason;
    double wall = 0;  // every segment, from its start to its end (or its last sign of life)
    for (std::size_t i = 0; i < status->segments.size(); ++i) {
      const auto& g = status->segments[i];
      const bool last = i + 1 == status->segments.size();
      std::int64_t end = io::parse_utc(g.ended_at);
      if (end < 0) end = last && view.label == "running" ? now : io::parse_utc(status->updated_at);
      const std::int64_t start = io::parse_utc(g.started_at);
      if (start >= 0 && end >= start) wall += double(end - start);
    }
    r.wall_s = wall;
  } else {
    r.status = "unknown";
    r.reason = "no status recorded (a run written before gnas recorded its status)";
  }
  if (r.unreadable) {
    r.status = "unreadable";
    r.reason = r.unreadable_why;
  }
  // The number of ranks is not in config.ini but changes the run (the data shards, the results).
  if (log && log->world_size > 0) r.config["world_size"] = std::to_string(log->world_size);
  return r;
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "";
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

std::string duration(double s) { return std::isfinite(s) ? format_duration(s) : ""; }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// A cell of the table view on one line: a value with control characters (a newline in a run
/// directory's name split its row) is quoted, with C escapes, as `ls` quotes such names.
std::string table_cell(const std::string& s) {
  bool plain = true;
  for (unsigned char c : s) plain = plain && c >= 0x20 && c != 0x7f;
  if (plain) return s;
  std::string q = "\"";
  for (unsigned char c : s) {
    if (c == '\n') q += "\\n";
    else if (c == '\t') q += "\\t";
    else if (c == '\r') q += "\\r";
    else if (c == '"' || c == '\\') q += std::string("\\") + char(c);
    else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      q += hex;
    } else q += char(c);
  }
  return q + "\"";
}

/// The config keys that differ between the runs that have them (absent keys do not count: a
/// retrain has no [ga] section).
std::vector<std::string> differing_keys(const std::vector<std::map<std::string, std::string>>& configs) {
  std::map<std::string, std::set<std::string>> values;
  for (const auto& c : configs)
    for (const auto& [k, v] : c) values[k].insert(v);
  std::vector<std::string> out;
  for (const auto& [k, v] : values)
    if (v.size() > 1 && !hidden_key(k)) out.push_back(k);
  return out;
}

}  // namespace

int run_runs(const cli::RunsArgs& args) {
  std::vector<fs::path> dirs;
  std::vector<Unreadable> unreadable;
  for (const auto& arg : args.dirs) {
    fs::path d(arg);
    if (fs::is_regular_file(d) && d.filename() == "log.h5") d = d.parent_path().empty() ? "." : d.parent_path();
    GNAS_CHECK_AS(ConfigError, fs::exists(d), "'", arg, "': no such file or directory");
    GNAS_CHECK_AS(ConfigError, fs::is_directory(d), "'", arg, "' is not a run directory (nor a log.h5)");
    const std::size_t before = dirs.size(), before_unreadable = unreadable.size();
    find_runs(d, 3, dirs, unreadable);
    GNAS_CHECK_AS(ConfigError, dirs.size() > before || unreadable.size() > before_unreadable, "'", d,
                  "' holds no gnas run (no log.h5, status.json or config.ini in it or in its subdirectories)");
  }
  std::vector<fs::path> unique;  // a run listed twice (also through a parent directory) once
  std::set<std::string> seen_dirs;
  for (const auto& d : dirs)
    if (seen_dirs.insert(fs::weakly_canonical(d).string()).second) unique.push_back(d);
  dirs.swap(unique);
  const std::int64_t now = std::int64_t(std::time(nullptr));
  std::vector<Row> rows;
  for (const auto& d : dirs) rows.push_back(read_row(d, args.stale_after_min, now));
  for (const auto& u : unreadable) {  // a row each, so that nothing is silently left out
    Row r;
    r.path = u.dir.lexically_normal().string();
    r.status = "unreadable";
    r.reason = "cannot read the directory: " + u.why;
    r.unreadable = true;
    GNAS_LOG(WARN) << "'" << r.path << "': " << r.reason;
    rows.push_back(r);
  }
  name_rows(rows);
  std::vector<std::map<std::string, std::string>> configs;
  for (const auto& r : rows) configs.push_back(r.config);
  const std::vector<std::string> keys = differing_keys(configs);

  std::vector<std::string> header = {"run", "command", "status", "epochs", "seed", "strategy"};
  // The fitness, when a run has one other than the paper's supernet; the ranking's tau with the
  // parameter count's beside it (the floor), when a run scored a ranking set.
  const bool with_fitness = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return !r.fitness.empty() && r.fitness != "supernet"; });
  const bool with_tau = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return std::isfinite(r.rank_tau); });
  if (with_fitness) header.push_back("fitness");
  header.insert(header.end(), keys.begin(), keys.end());
  // The ground truth of NAS-Bench-201 searches run with its table: a column only when a run has it.
  const bool with_table = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return std::isfinite(r.table_test); });
  for (const char* h : {"best_fitness", "best_val", "test_acc"}) header.push_back(h);
  if (with_table) header.insert(header.end(), {"table_test", "table_pct"});
  if (with_tau) header.insert(header.end(), {"tau", "tau_params"});
  // A retrain's search: "from" names it as this table does when it is listed, else by its path;
  // with the epoch that chose the genome ("seed1@2").
  const bool with_source = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return !r.source_run.empty(); });
  std::map<std::string, std::string> name_of_dir;
  for (const auto& r : rows) name_of_dir[fs::weakly_canonical(fs::absolute(r.path)).string()] = r.name;
  auto source_text = [&](const Row& r) {
    if (r.source_run.empty()) return std::string();
    const auto listed = name_of_dir.find(r.source_run);
    return (listed != name_of_dir.end() ? listed->second : r.source_run) +
           (r.source_epoch > 0 ? "@" + std::to_string(r.source_epoch) : "");
  };
  if (with_source) header.push_back("from");
  for (const char* h : {"wall", "best_genome"}) header.push_back(h);
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    std::vector<std::string> line = {r.name, r.command, r.status,
                                     std::to_string(r.epochs_done) + "/" + std::to_string(r.epochs_planned), r.seed,
                                     r.strategy};
    if (with_fitness) line.push_back(r.fitness.empty() ? "-" : r.fitness);
    for (const auto& k : keys) line.push_back(r.config.count(k) ? r.config.at(k) : "-");
    line.push_back(fixed(r.best_fitness, 2));
    line.push_back(fixed(r.best_val, 2));
    line.push_back(fixed(r.test_acc, 2));
    if (with_table) {
      line.push_back(fixed(r.table_test, 2));
      line.push_back(fixed(r.table_pct, 1));
    }
    if (with_tau) {
      line.push_back(fixed(r.rank_tau, 3));
      line.push_back(fixed(r.params_tau, 3));
    }
    if (with_source) line.push_back(source_text(r));
    line.push_back(args.csv ? fixed(r.wall_s, 0) : duration(r.wall_s));
    line.push_back(r.genome);
    table.push_back(line);
  }
  if (args.csv) {
    header[3] = "epochs_done";
    header.insert(header.begin() + 4, "epochs_planned");
    header.insert(header.begin() + 3, "reason");
    header[header.size() - 2] = "wall_s";
    header.insert(header.begin() + 1, "path");
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + csv_field(v[i]);
      return s;
    };
    std::cout << join(header) << "\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto line = table[i];
      line[3] = std::to_string(rows[i].epochs_done);
      line.insert(line.begin() + 4, std::to_string(rows[i].epochs_planned));
      line.insert(line.begin() + 3, rows[i].reason);
      line.insert(line.begin() + 1, rows[i].path);
      std::cout << join(line) << "\n";
    }
  } else {
    for (auto& line : table)
      for (auto& cell : line) cell = table_cell(cell);
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
      width[c] = header[c].size();
      for (const auto& line : table) width[c] = std::max(width[c], line[c].size());
    }
    auto print = [&](const std::vector<std::string>& line) {
      std::string s;
      for (std::size_t c = 0; c < line.size(); ++c)
        s += c + 1 == line.size() ? line[c] : line[c] + std::string(width[c] - line[c].size() + 2, ' ');
      std::cout << s << "\n";
    };
    print(header);
    for (const auto& line : table) print(line);
    bool notes = false;
    for (const auto& r : rows)
      if (!r.reason.empty()) {
        if (!notes) std::cout << "\n";
        notes = true;
        std::cout << table_cell(r.name) << ": " << r.status << ": " << table_cell(r.reason) << "\n";
      }
  }
  for (const auto& r : rows)
    if (r.unreadable) return kExitError;
  return kExitOk;
}

}  // namespace gnas::app
