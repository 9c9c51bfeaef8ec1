#include "gnas/cli/options.h"
#include "gnas/fitness/score_table.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <type_traits>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/ga/tabular.h"
#include "gnas/io/config_keys.h"

namespace po = boost::program_options;

namespace gnas::cli {
namespace {

/// Whether `command` takes the options of `use`: the search's own (search only), the fixed
/// network's (retrain and bench).
bool takes(RunCommand command, OptionUse use) {
  return use == OptionUse::kSearch ? command == RunCommand::kSearch : command != RunCommand::kSearch;
}

/// Boost.Program_options flags (and INI keys) for every option a command takes, walked from
/// RunConfig::visit_options: the option's name, its help, its field as the storage and the field's
/// default as the default. Values that are not plain numbers or words (an enum, a device, an
/// unsigned) are read as text and converted when the values are notified, with the option's own
/// error. Groups follow the name's section, in the order the list first names them.
class FlagVisitor {
 public:
  explicit FlagVisitor(RunCommand command) : command_(command) {}
  bool includes(OptionUse use) const { return takes(command_, use); }
  template <class T>
  void option(const char* name, T& value, const char* help, const Bound& bound = {}) {
    const std::string text = bound.rule.empty() ? help : std::string(help) + "; must be " + bound.rule;
    group(name).add_options()(name, po::value(&value)->default_value(value, shown(value)), text.c_str());
  }
  void option(const char* name, std::uint64_t& value, const char* help, const Bound& = {}) {
    // Read as text: boost would take "-1" for 18446744073709551615.
    add_text(name, std::to_string(value), help, [&value, name](const std::string& t) {
      GNAS_CHECK_AS(ConfigError, !t.empty() && t.size() <= 20 && t.find_first_not_of("0123456789") == std::string::npos,
                    "--", name, " must be a whole number >= 0, got ", t);
      try {
        value = std::stoull(t);
      } catch (const std::out_of_range&) {
        throw ConfigError(detail::concat("--", name, " must be below 2^64, got ", t));
      }
    });
  }
  template <class E>
  void choice(const char* name, E& value, const char* help, const Choices<E>& choices) {
    add_text(name, choice_name(choices, value), help,
             [&value, choices, name](const std::string& t) { value = parse_choice(choices, name, t); });
  }
  template <class T, class Parse, class Print>
  void text(const char* name, T& value, const char* help, Parse parse, Print print) {
    add_text(name, print(value), help, [&value, parse](const std::string& t) { value = parse(t); });
  }

  /// Every group, in order.
  po::options_description all() const {
    po::options_description out;
    for (const auto& g : groups_) out.add(*g);
    return out;
  }

 private:
  template <class T>
  static std::string shown(const T& v) {
    std::ostringstream out;
    if constexpr (std::is_same_v<T, bool>) out << (v ? "true" : "false");
    else out << v;
    return out.str();
  }
  template <class F>
  void add_text(const char* name, const std::string& initial, const char* help, F convert) {
    texts_.push_back(initial);
    group(name).add_options()(name, po::value(&texts_.back())->default_value(initial)->notifier(convert), help);
  }
  po::options_description& group(const std::string& name) {
    const auto dot = name.find('.');
    const std::string section = dot == std::string::npos ? "" : name.substr(0, dot);
    for (std::size_t i = 0; i < sections_.size(); ++i)
      if (sections_[i] == section) return *groups_[i];
    sections_.push_back(section);
    groups_.push_back(std::make_unique<po::options_description>(title(section)));
    return *groups_.back();
  }
  static std::string title(const std::string& section) {
    static const std::map<std::string, std::string> titles = {
        {"", "General"},
        {"net", "Network [net]"},
        {"train", "Training [train]"},
        {"ga", "Genetic algorithm [ga]"},
        {"search", "Search [search]"},
        {"nb201", "NAS-Bench-201 ground truth [nb201] (--space nb201)"},
        {"data", "Data [data]"},
        {"log", "Logging [log]"},
        {"dist", "Distributed [dist]"}};
    const auto t = titles.find(section);
    return t != titles.end() ? t->second : "[" + section + "]";
  }

  RunCommand command_;
  std::deque<std::string> texts_;  // storage of the text-read options; a deque keeps their addresses
  std::vector<std::string> sections_;
  std::vector<std::unique_ptr<po::options_description>> groups_;
};

/// The resolved configuration as INI text, from the same list: top-level keys first, then one
/// [section] per prefix, in name order, each key in the list's order.
class IniWriter {
 public:
  explicit IniWriter(RunCommand command) : command_(command) {}
  bool includes(OptionUse use) const { return takes(command_, use); }
  template <class T>
  void option(const char* name, const T& value, const char*, const Bound& = {}) {
    std::ostringstream out;
    out.precision(15);
    if constexpr (std::is_same_v<T, bool>) out << (value ? "true" : "false");
    else out << value;
    add(name, out.str());
  }
  template <class E>
  void choice(const char* name, const E& value, const char*, const Choices<E>& choices) {
    add(name, choice_name(choices, value));
  }
  template <class T, class Parse, class Print>
  void text(const char* name, const T& value, const char*, Parse, Print print) {
    add(name, print(value));
  }
  std::string ini(const std::string& header) const {
    std::ostringstream out;
    out << header;
    for (const auto& [section, keys] : sections_) {  // "" sorts first: top-level keys precede sections
      if (!section.empty()) out << "\n[" << section << "]\n";
      for (const auto& [k, v] : keys) out << k << " = " << v << "\n";
    }
    return out.str();
  }

 private:
  void add(const std::string& name, const std::string& value) {
    const auto dot = name.find('.');
    if (dot == std::string::npos) sections_[""].emplace_back(name, value);
    else sections_[name.substr(0, dot)].emplace_back(name.substr(dot + 1), value);
  }
  RunCommand command_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections_;
};

/// False on the ranks after the first of a job an MPI launcher or srun started (their rank, from
/// the launcher's environment, is not 0).
bool launcher_rank_is_zero() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* r = std::getenv(v)) return std::string(r) == "0";
  return true;
}

/// A renamed option's current name, with a warning, when `name` is its old one and `desc` (the
/// command's options) has the new one; otherwise `name` as it is, for the unknown-option error to
/// name what was written (retrain never takes --ga.n_v, nor --search.n_v).
std::string renamed_option(const std::string& name, const po::options_description& desc, const std::string& where) {
  const std::string now = io::current_key(name);
  if (now == name || !desc.find_nothrow(now, false)) return name;
  if (!launcher_rank_is_zero()) return now;  // parsed before the rank prefixes: once per job, not per rank
  GNAS_LOG(WARN) << where << "--" << name << " is now --" << now << " ([" << now.substr(0, now.find('.')) << "] "
                 << now.substr(now.find('.') + 1) << " in an INI file); read as that";
  return now;
}

const char* command_name(RunCommand c) {
  switch (c) {
    case RunCommand::kSearch: return "search";
    case RunCommand::kRetrain: return "retrain";
    case RunCommand::kBench: return "bench";
  }
  return "?";
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// " Did you mean '--x'?" for the option of `desc` nearest to `name` (a typo, or a prefix, which
/// is never accepted as the option it abbreviates), or "" when nothing is close.
std::string suggestion(const po::options_description* desc, std::string name) {
  if (!desc) return "";
  while (!name.empty() && name.front() == '-') name.erase(0, 1);
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& opt : desc->options()) {
    const std::string& candidate = opt->long_name();
    std::size_t d = edit_distance(name, candidate);
    if (candidate.rfind(name, 0) == 0) d = std::min<std::size_t>(d, 1);  // a prefix of it
    if (d < best_d) best_d = d, best = candidate;
  }
  if (best.empty() || best_d > std::max<std::size_t>(2, name.size() / 4)) return "";
  return " Did you mean '--" + best + "'?";
}

template <class F>
auto translate_po_errors(const std::string& where, F&& f, const po::options_description* desc = nullptr)
    -> decltype(f()) {
  try {
    return f();
  } catch (const po::unknown_option& e) {
    throw ConfigError(detail::concat(where, "unknown option '", e.get_option_name(), "'.",
                                     suggestion(desc, e.get_option_name()), " See --help for the valid ones."));
  } catch (const po::invalid_option_value& e) {
    throw ConfigError(detail::concat(where, e.what(), " (a number out of range, or not a number?)"));
  } catch (const po::error& e) {
    throw ConfigError(detail::concat(where, e.what()));
  }
}

/// Command-line style: GNU long options, but never a unique prefix taken for the whole name
/// (`--train.epoch 2` is an error that suggests `--train.epochs`, not a silent guess).
constexpr int kCommandLineStyle = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

}  // namespace

ParsedRun parse_run_command(RunCommand command, const std::vector<std::string>& args) {
  ParsedRun r;
  train::RunConfig& c = r.config;
  FlagVisitor flags(command);
  train::RunConfig::visit_options(c, flags);
  const po::options_description cfg = flags.all();

  po::options_description cmd("Command");
  std::vector<std::string> config_files;
  cmd.add_options()("help,h", "print this help and exit")(
      "config", po::value(&config_files)->composing(),
      "INI file with [section] key = value lines (repeatable; command-line flags override it)");
  if (command != RunCommand::kBench)
    cmd.add_options()("out", po::value(&c.out)->required(), "run directory to create (required)")(
        "force", po::bool_switch(&c.force), "write into an existing run directory, replacing its files")(
        "resume", po::bool_switch(&c.resume),
        "continue the run in --out from its latest checkpoint; its config.ini is read unless --config is given");
  if (command == RunCommand::kRetrain)
    cmd.add_options()("genome", po::value(&r.extras.genome),
                      "genome to train, of the run's --space: its text (paper: 60 integers at N_b = 5; nb201: 6 "
                      "integers or the benchmark's cell string), a genome JSON file, or a search run directory "
                      "(required unless --resume)");
  if (command == RunCommand::kBench)
    cmd.add_options()("bench.steps", po::value(&r.extras.bench_steps)->default_value(r.extras.bench_steps),
                      "timed steps per measurement")(
        "bench.warmup", po::value(&r.extras.bench_warmup)->default_value(r.extras.bench_warmup),
        "untimed warm-up steps")(
        "bench.genome", po::value(&r.extras.bench_genome),
        "time the fixed (retrain) network of this genome, with drop-path --net.drop_path_keep, instead of "
        "the supernet with per-step genome switching")(
        "profile", po::bool_switch(&r.extras.bench_profile),
        "also the share of the training step's time in data and augmentation, genome sampling, forward and "
        "backward, gradient sync and the optimizer, and the seconds of one GA round (waits for the device at "
        "every phase, so the throughput figures of a profiled run are lower)");
  cmd.add_options()("no-progress", "no step progress indicator even on a terminal");
  if (command != RunCommand::kBench)
    cmd.add_options()("debug.stop_after_steps", po::value(&c.debug.stop_after_steps)->default_value(0),
                      "testing: raise SIGTERM after N training steps of this process (0 = never)");
  if (command == RunCommand::kSearch)
    cmd.add_options()(
        "debug.check_sync", po::bool_switch(&c.debug.check_sync),
        "verify at every step and replacement that all ranks hold the same genome and population")(
        "debug.fail_rank", po::value(&c.debug.fail_rank)->default_value(-1),
        "testing: this rank throws after --debug.fail_after_steps steps")(
        "debug.fail_after_steps", po::value(&c.debug.fail_after_steps)->default_value(1),
        "testing: see --debug.fail_rank")(
        "debug.table_on_synthetic", po::bool_switch(&c.debug.table_on_synthetic),
        "testing: allow --nb201.table on the synthetic data set (its table accuracies and tau then describe "
        "nothing: the tests check the mechanics)");

  po::options_description visible;
  visible.add(cmd).add(cfg);
  std::ostringstream help;
  help << "Usage: gnas " << command_name(command) << " [options]\n";
  if (command == RunCommand::kSearch)
    help << "Genetic architecture search over a weight-sharing supernet (GeneticNAS, Alg. 1-2).\n"
            "Without --data.dir it runs on the embedded synthetic data set.\n";
  if (command == RunCommand::kRetrain)
    help << "Trains the fixed network of one genome from scratch (the final training stage).\n";
  if (command == RunCommand::kBench)
    help << "Measures supernet training and evaluation throughput (images/s) and projects a search epoch.\n"
            "Prints one JSON line per measurement.\n";
  help << "Every option of a [section] may also be set in an INI file given with --config.\n" << visible;
  r.help_text = help.str();

  std::vector<std::string> argv = args;
  for (auto& a : argv) {
    if (a.rfind("--", 0) != 0) continue;
    const auto eq = a.find('=');
    std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (name == "data") name = "data.dir";  // --data: the short form of --data.dir
    name = renamed_option(name, visible, "");
    a = "--" + name + (eq == std::string::npos ? "" : a.substr(eq));
  }

  po::variables_map vm;
  translate_po_errors("", [&] {
    po::store(po::command_line_parser(argv).options(visible).style(kCommandLineStyle).run(), vm);
  }, &visible);
  if (vm.count("help")) {
    r.help = true;
    return r;
  }
  std::vector<std::string> files;
  if (vm.count("config")) files = vm["config"].as<std::vector<std::string>>();
  // --resume: the run's own config.ini comes first (lowest priority); --config files and the
  // command line change only what they name (and a change of the run's shape is refused later).
  if (vm.count("resume") && vm["resume"].as<bool>() && vm.count("out")) {
    const std::string out = vm["out"].as<std::string>(), resumed = out + "/config.ini";
    if (std::ifstream(resumed).good()) {
      files.insert(files.begin(), resumed);
    } else {
      GNAS_CHECK_AS(ConfigError, std::ifstream(out + "/checkpoints/latest.pt").good() ||
                                     std::ifstream(out + "/checkpoints/previous.pt").good(),
                    "--resume: no run to resume in '", out, "' (no config.ini, no checkpoint)");
      GNAS_CHECK_AS(ConfigError, !files.empty(), "--resume: '", resumed,
                    "' is missing; give the run's options with --config FILE (the checkpoint keeps a copy of "
                    "them, and a change of the run's shape is refused against it)");
    }
  }
  // po::store keeps the first value it sees for a key: the command line was stored first (it wins),
  // then the files from the last to the first, so a later --config overrides an earlier one.
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    std::ifstream file_in(*file);
    GNAS_CHECK_AS(ConfigError, file_in.good(), "--config: cannot read '", *file, "'");
    std::string text((std::istreambuf_iterator<char>(file_in)), std::istreambuf_iterator<char>());
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the first line: without
    // this, Boost read it as the start of an invalid "[section]" or key.
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    std::istringstream in(text);
    const std::string where = "config file '" + *file + "': ";
    translate_po_errors(where, [&] {
      // Unknown keys are let through to be told apart: a renamed key is taken under its new name,
      // anything else is the unknown-option error it would have been.
      auto parsed = po::parse_config_file(in, cfg, true);
      for (auto& o : parsed.options) {
        if (!o.unregistered) continue;
        const std::string now = renamed_option(o.string_key, cfg, where);
        if (now == o.string_key) throw po::unknown_option(o.string_key);
        o.string_key = now;
        o.unregistered = false;
      }
      po::store(parsed, vm);
    }, &cfg);
  }
  translate_po_errors("", [&] { po::notify(vm); });
  // A requeued run may resume on a smaller node than it started on: the threads its config.ini
  // records are then more than this machine has. `threads` is operational (it changes no result's
  // meaning), so it is clamped with a warning; given on this command line, it is checked as usual.
  if (c.resume && c.threads > train::max_threads()) {
    const bool on_command_line = std::any_of(args.begin(), args.end(), [](const std::string& a) {
      return a == "--threads" || a.rfind("--threads=", 0) == 0;
    });
    if (!on_command_line) {
      GNAS_LOG(WARN) << "--resume: the run's configuration asks for " << c.threads << " threads, but this machine has "
                     << train::max_threads() << " hardware threads; using " << train::max_threads();
      c.threads = train::max_threads();
    }
  }
  r.config.progress = vm.count("no-progress") == 0;
  GNAS_CHECK_AS(ConfigError, !(c.resume && c.force), "--resume and --force exclude each other");
  GNAS_CHECK_AS(ConfigError, command != RunCommand::kRetrain || c.resume || !r.extras.genome.empty(),
                "--genome is required (genome text, a genome JSON file, or a search run directory)");
  c.validate();
  IniWriter ini(command);
  train::RunConfig::visit_options(c, ini);
  c.config_text = ini.ini(detail::concat("# gnas ", command_name(command), ": resolved configuration\n"));
  return r;
}

bool launched_under_mpi() {
  // Set by Open MPI's mpirun, by PMIx launchers (srun --mpi=pmix) and by PMI-1/2 launchers.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

int slurm_step_tasks() {
  if (!std::getenv("SLURM_PROCID")) return 0;  // not a task started by srun
  for (const char* v : {"SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"})
    if (const char* n = std::getenv(v)) return std::atoi(n);
  return 0;
}

bool stdout_is_user_terminal() {
  return stdout_is_tty() && !launched_under_mpi() && !std::getenv("SLURM_STEP_ID");
}

std::string backend_from_args(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--dist.backend" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--dist.backend=", 0) == 0) return args[i].substr(15);
  }
  return "auto";
}

namespace {
/// Parses a small command's options: usage + description + option list into help_text; returns
/// true when --help was given (nothing else is checked then).
bool parse_simple(const std::vector<std::string>& args, const po::options_description& d, const std::string& usage,
                  std::string& help_text) {
  std::ostringstream help;
  help << usage << d;
  help_text = help.str();
  po::variables_map vm;
  translate_po_errors("", [&] { po::store(po::command_line_parser(args).options(d).style(kCommandLineStyle).run(), vm); },
                      &d);
  if (vm.count("help")) return true;
  translate_po_errors("", [&] { po::notify(vm); });
  return false;
}
}  // namespace

RunsArgs parse_runs_command(const std::vector<std::string>& args) {
  RunsArgs a;
  po::options_description d("Options");
  d.add_options()("help,h", "print this help and exit")(
      "csv", po::bool_switch(&a.csv),
      "the same table as CSV: a path and a reason column, epochs done and planned apart, wall time in seconds")(
      "stale-after", po::value(&a.stale_after_min)->default_value(0),
      "minutes without a logged epoch after which a running run on another host reads 'running or died' "
      "(0: the larger of 30 min and 3x its longest epoch)")(
      "dir", po::value(&a.dirs)->multitoken(), "run directories (also given without --dir)");
  po::positional_options_description pos;
  pos.add("dir", -1);
  std::ostringstream help;
  help << "Usage: gnas runs DIR... [--csv]\n"
          "One line per run directory (search or retrain; a directory holding runs lists them all): status\n"
          "(running, running or died, finished, stopped, failed), epochs done/planned, seed, strategy, the\n"
          "config keys whose values differ between the runs listed, best fitness, best full-validation\n"
          "accuracy, final test accuracy, the chosen cell's NAS-Bench-201 table test accuracy and the share of\n"
          "the table's 15,625 cells below it (table_test, table_pct: searches run with --nb201.table), wall\n"
          "time and best genome (nb201: the benchmark's cell string).\n"
          "Reads only: safe on running jobs.\n"
       << d;
  a.help_text = help.str();
  po::variables_map vm;
  translate_po_errors("", [&] {
    po::store(po::command_line_parser(args).options(d).positional(pos).style(kCommandLineStyle).run(), vm);
  }, &d);
  if (vm.count("help")) {
    a.help = true;
    return a;
  }
  translate_po_errors("", [&] { po::notify(vm); });
  GNAS_CHECK_AS(ConfigError, !a.dirs.empty(), "give at least one run directory (gnas runs --help)");
  GNAS_CHECK_AS(ConfigError, a.stale_after_min >= 0, "--stale-after must be >= 0 minutes, got ", a.stale_after_min);
  return a;
}

ExportArgs parse_export_command(const std::vector<std::string>& args) {
  ExportArgs a;
  std::string compat = "paper";
  po::options_description d("Options");
  d.add_options()("help,h", "print this help and exit")(
      "genome", po::value(&a.genome)->required(),
      "genome: text of integers (paper: cells separated by '|'; nb201: 6 integers or the benchmark's cell "
      "string), a genome JSON file, or a run directory")(
      "space", po::value(&a.space),
      "paper | nb201; default: the space a genome JSON file names, else paper")(
      "format", po::value(&a.format)->default_value(a.format),
      "json | dot | text | arch (the NAS-Bench-201 cell string; nb201 only)")(
      "output,o", po::value(&a.output), "write here instead of stdout")(
      "net.blocks", po::value(&a.blocks)->default_value(a.blocks),
      "N_b, blocks per cell (default: the n_blocks a genome JSON file records, else 5)")(
      "net.compat", po::value(&compat)->default_value(compat),
      "paper | reference: the network the cells are drawn for (reference never concatenates block 0 of the "
      "input cell)");
  a.help = parse_simple(args, d,
                        "Usage: gnas export --genome G [--space paper|nb201] [--format json|dot|text|arch] [-o FILE]\n"
                        "Writes a genome as JSON (genes and decoded cells), Graphviz DOT (one cluster per cell), "
                        "text, or (nb201) the benchmark's cell string.\n",
                        a.help_text);
  if (a.help) return a;
  GNAS_CHECK_AS(ConfigError, a.format == "json" || a.format == "dot" || a.format == "text" || a.format == "arch",
                "--format must be json, dot, text or arch, got ", a.format);
  if (!a.space.empty()) parse_choice(nn::kSpaces, "space", a.space);
  nn::NetOptions net;  // net.blocks's bound is NetOptions's
  net.blocks = a.blocks;
  net.validate();
  a.blocks_given = std::any_of(args.begin(), args.end(),
                               [](const std::string& s) { return s == "--net.blocks" || s.rfind("--net.blocks=", 0) == 0; });
  a.compat = parse_choice(kNetCompats, "net.compat", compat);
  return a;
}

namespace {
/// "100,200,500" -> {100, 200, 500}; throws ConfigError naming `flag` on anything else.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}
}  // namespace

TabularArgs parse_tabular_command(const std::vector<std::string>& args) {
  TabularArgs a;
  std::string strategies = "ga,random,rea", budgets = "100,200,500,1000";
  std::int64_t seed = 1;
  po::options_description d("Options");
  d.add_options()("help,h", "print this help and exit")(
      "table", po::value(&a.table)->required(), "NAS-Bench-201 CIFAR-10 table (CSV: index,arch,params_m,valid_acc,test_acc)")(
      "strategy", po::value(&strategies)->default_value(strategies), "comma-separated: ga, random, rea")(
      "budget", po::value(&budgets)->default_value(budgets),
      "comma-separated numbers of distinct cells looked up, each reported from the same runs")(
      "runs", po::value(&a.runs)->default_value(a.runs), "independent runs per strategy")(
      "seed", po::value(&seed)->default_value(seed), "seed of run r of strategy s: (seed, s, r)")(
      "out", po::value(&a.out), "write DIR/tabular.h5 with every run's best-so-far curves")(
      "force", po::bool_switch(&a.force), "replace the tabular.h5 of an earlier run in --out")(
      "json", po::bool_switch(&a.json), "one JSON object per strategy and budget instead of the table")(
      "rea.population", po::value(&a.rea_population)->default_value(a.rea_population),
      "REA: population (NAS-Bench-201: 10)")(
      "rea.sample", po::value(&a.rea_sample)->default_value(a.rea_sample), "REA: tournament size (NAS-Bench-201: 3)")(
      "scores", po::value(&a.scores),
      "a score table of NAS-Bench-201 cells (gnas score --out FILE): --fitness may then name its scores")(
      "fitness", po::value(&a.fitness)->default_value(a.fitness),
      "what the strategies maximise: valid (the table's valid_acc) | naswot | synflow | params (from --scores) | "
      "several of these joined by '+' (a combined score: the sum of log-ranks over the scored cells, as AZ-NAS). "
      "A run's result is always the table test_acc of its best cell by this fitness; random search with a score "
      "is the score's best of N. Scores are not accuracies: --ga.selection auto then means rank selection");
  FlagVisitor ga_flags(RunCommand::kSearch);  // the GA's options as `gnas search` has them
  ga::GaOptions::visit_options(a.ga, ga_flags);
  d.add(ga_flags.all());
  a.help = parse_simple(args, d,
                        "Usage: gnas tabular --table FILE [--strategy ga,random,rea] [--budget 100,200,500,1000] "
                        "[--runs 500] [--json] [--out DIR [--force]]\n"
                        "Runs search strategies on NAS-Bench-201, where every cell's accuracy is tabulated: the "
                        "fitness is\nvalid_acc, a run's result is the test_acc of the best-valid cell within the "
                        "budget of distinct cells.\n",
                        a.help_text);
  if (a.help) return a;
  a.strategies.clear();
  GNAS_CHECK_AS(ConfigError, strategies.empty() || strategies.back() != ',', "--strategy: empty item in '", strategies, "'");
  for (const auto& s : split_list(strategies)) {
    GNAS_CHECK_AS(ConfigError, s == "ga" || s == "random" || s == "rea", "--strategy: unknown strategy '", s,
                  "' (ga, random, rea)");
    GNAS_CHECK_AS(ConfigError, std::find(a.strategies.begin(), a.strategies.end(), s) == a.strategies.end(),
                  "--strategy: '", s, "' is named twice");
    a.strategies.push_back(s);
  }
  GNAS_CHECK_AS(ConfigError, !a.strategies.empty(), "--strategy: name at least one of ga, random, rea");
  a.budgets.clear();
  GNAS_CHECK_AS(ConfigError, budgets.empty() || budgets.back() != ',', "--budget: empty item in '", budgets, "'");
  for (const auto& b : split_list(budgets)) {
    char* end = nullptr;
    const long v = std::strtol(b.c_str(), &end, 10);
    GNAS_CHECK_AS(ConfigError, !b.empty() && end == b.c_str() + b.size(), "--budget: '", b, "' is not a whole number");
    GNAS_CHECK_AS(ConfigError, v >= 1 && v <= 15625, "--budget ", v,
                  " must be in [1, 15625]: NAS-Bench-201 has 15,625 cells");
    GNAS_CHECK_AS(ConfigError, std::find(a.budgets.begin(), a.budgets.end(), int(v)) == a.budgets.end(),
                  "--budget: ", v, " is named twice");
    a.budgets.push_back(int(v));
  }
  GNAS_CHECK_AS(ConfigError, !a.budgets.empty(), "--budget: give at least one budget");
  std::sort(a.budgets.begin(), a.budgets.end());
  // Each strategy's reachable budget, checked before any output.
  GNAS_CHECK_AS(ConfigError,
                std::find(a.strategies.begin(), a.strategies.end(), "rea") == a.strategies.end() ||
                    a.budgets.back() <= ga::nb201::kReaMaxBudget,
                "--budget ", a.budgets.back(), ": REA cannot be relied on to find more than ", ga::nb201::kReaMaxBudget,
                " distinct cells (it mutates one edge of recent cells and stalls near the end of the space); lower "
                "--budget, or leave rea out of --strategy");
  GNAS_CHECK_AS(ConfigError, a.runs >= 1 && a.runs <= 1000000, "--runs must be in [1, 1000000], got ", a.runs);
  GNAS_CHECK_AS(ConfigError, seed >= 0, "--seed must be >= 0, got ", seed);
  a.seed = std::uint64_t(seed);
  a.ga.validate();
  GNAS_CHECK_AS(ConfigError, a.rea_population >= 1 && a.rea_sample >= 1, "--rea.population and --rea.sample must be >= 1");
  if (a.fitness == "valid") {
    GNAS_CHECK_AS(ConfigError, a.scores.empty(), "--scores is given but --fitness is valid: name the score to search "
                  "(--fitness naswot, synflow, params or a combination such as naswot+synflow)");
  } else {
    fitness::parse_score_list(a.fitness, "fitness");  // the names, before the table is read
    GNAS_CHECK_AS(ConfigError, !a.scores.empty(), "--fitness ", a.fitness,
                  " needs --scores FILE, a score table written by gnas score");
    GNAS_CHECK_AS(ConfigError, a.ga.selection != ga::Selection::kRoulette, "--ga.selection roulette needs an "
                  "accuracy as the fitness; --fitness ", a.fitness, " is a training-free score: use rank (or auto)");
  }
  a.ga.selection = a.ga.resolved_selection(a.fitness == "valid");
  return a;
}

ScoreArgs parse_score_command(const std::vector<std::string>& args) {
  ScoreArgs a;
  auto& q = a.request;
  std::int64_t seed = 1;
  bool no_progress = false;
  po::options_description d("Options");
  d.add_options()("help,h", "print this help and exit")(
      "space", po::value(&q.space)->default_value(q.space), "search space of the cells: nb201 | paper")(
      "cells", po::value(&q.cells)->default_value(q.cells),
      "which cells: all (nb201: the 15,625 cells) | random:N (N cells drawn by --seed) | stratified:N (nb201: one "
      "cell from each of N equal-count strata of --table by test_acc, as --nb201.rank_cells draws them) | FILE "
      "(one genome per line: nb201 cell strings, or paper genome text)")(
      "table", po::value(&q.table),
      "nb201: the benchmark's CIFAR-10 table; needed by stratified:N, and then each score's Kendall tau and "
      "Spearman rho against valid_acc and test_acc are printed")(
      "score.channels", po::value(&q.channels)->default_value(q.channels),
      "C of the scoring network (each cell's fixed network at initialisation). NAS-Bench-201: 16")(
      "score.cells", po::value(&q.net_cells)->default_value(q.net_cells),
      "N (nb201) or N_cell (paper) of the scoring network. NAS-Bench-201: 5")(
      "score.blocks", po::value(&q.blocks)->default_value(q.blocks), "paper space: N_b, blocks per cell")(
      "score.batch", po::value(&q.batch)->default_value(q.batch),
      "NASWOT: training images in its one batch (unaugmented, drawn by --seed). Mellor et al.: 128")(
      "scores", po::value(&q.scores)->default_value(q.scores),
      "comma-separated: naswot, synflow (the parameter count is always written)")(
      "data.dir", po::value(&q.data), "CIFAR-10/100 binary directory whose training images NASWOT sees; empty: the "
                                      "embedded synthetic set")(
      "data.train_limit", po::value(&q.train_limit)->default_value(q.train_limit),
      "CIFAR: only the first N training images (0 = all), as a search's --data.train_limit: the training split "
      "NASWOT's images are drawn from")(
      "data.val_size", po::value(&q.val_size)->default_value(q.val_size),
      "CIFAR: the last N training images are the validation split, as a search's --data.val_size")(
      "seed", po::value(&seed)->default_value(seed),
      "seeds the images and each cell's initialisation (a hash of seed and cell: a cell's scores do not depend "
      "on the others)")(
      "threads", po::value(&q.threads)->default_value(q.threads), "torch intra-op threads")(
      "out", po::value(&q.out)->required(),
      "the score table (CSV). Rows are appended as cells are scored; run the same command again to continue "
      "after a crash (cells already scored are skipped)")(
      "force", po::bool_switch(&q.force), "replace an --out scored with another setup")(
      "no-progress", po::bool_switch(&no_progress), "no progress lines");
  a.help = parse_simple(args, d,
                        "Usage: gnas score --out FILE [--space nb201|paper] [--cells all|random:N|stratified:N|FILE] "
                        "[--table CSV] [--data.dir DIR]\n"
                        "Training-free scores of cells at initialisation (NASWOT, synflow, parameter count), one "
                        "row per cell;\nprints cells/s and, with --table, how well each score ranks the cells. "
                        "gnas tabular --scores FILE\nsearches the table it writes.\n",
                        a.help_text);
  if (a.help) return a;
  GNAS_CHECK_AS(ConfigError, q.space == "nb201" || q.space == "paper", "--space must be nb201 or paper, got '",
                q.space, "'");
  GNAS_CHECK_AS(ConfigError, seed >= 0, "--seed must be >= 0, got ", seed);
  q.seed = std::uint64_t(seed);
  q.progress = !no_progress;
  GNAS_CHECK_AS(ConfigError, q.channels >= 1 && q.channels <= 4096, "--score.channels must be in [1, 4096], got ",
                q.channels);
  GNAS_CHECK_AS(ConfigError, q.net_cells >= 1 && q.net_cells <= 64, "--score.cells must be in [1, 64], got ", q.net_cells);
  GNAS_CHECK_AS(ConfigError, q.blocks >= 1 && q.blocks <= 16, "--score.blocks must be in [1, 16], got ", q.blocks);
  GNAS_CHECK_AS(ConfigError, q.batch >= 2 && q.batch <= 4096, "--score.batch must be in [2, 4096], got ", q.batch);
  GNAS_CHECK_AS(ConfigError, q.train_limit >= 0, "--data.train_limit must be >= 0, got ", q.train_limit);
  GNAS_CHECK_AS(ConfigError, q.val_size >= 0, "--data.val_size must be >= 0, got ", q.val_size);
  GNAS_CHECK_AS(ConfigError, q.threads >= 1 && q.threads <= train::max_threads(), "--threads must be in [1, ",
                train::max_threads(), "], got ", q.threads);
  GNAS_CHECK_AS(ConfigError, q.space == "nb201" || q.table.empty(), "--table is NAS-Bench-201's: it needs --space nb201");
  for (const auto& s : split_list(q.scores))
    GNAS_CHECK_AS(ConfigError, s == "naswot" || s == "synflow", "--scores: unknown score '", s,
                  "' (naswot, synflow; params is always written)");
  const auto colon = q.cells.find(':');
  const std::string kind = q.cells.substr(0, colon);
  if (q.cells == "all") {
    GNAS_CHECK_AS(ConfigError, q.space == "nb201", "--cells all: only NAS-Bench-201's space can be listed whole; "
                  "use random:N for --space paper");
  } else if (colon != std::string::npos && (kind == "random" || kind == "stratified")) {
    const std::string n = q.cells.substr(colon + 1);
    GNAS_CHECK_AS(ConfigError, !n.empty() && n.size() <= 6 && n.find_first_not_of("0123456789") == std::string::npos &&
                  std::stol(n) >= 1, "--cells ", q.cells, ": N must be a whole number >= 1");
    GNAS_CHECK_AS(ConfigError, kind == "random" || std::stol(n) <= 15625, "--cells ", q.cells,
                  ": NAS-Bench-201 has 15625 cells");
    GNAS_CHECK_AS(ConfigError, kind == "random" || !q.table.empty(), "--cells ", q.cells,
                  " draws from the table's strata: give --table");
    GNAS_CHECK_AS(ConfigError, q.space == "nb201" || kind == "random", "--cells stratified:N needs --space nb201");
  } else {
    GNAS_CHECK_AS(ConfigError, std::ifstream(q.cells).good(), "--cells '", q.cells,
                  "' is neither all, random:N, stratified:N nor a readable file of genomes");
  }
  return a;
}

EvaluateArgs parse_evaluate_command(const std::vector<std::string>& args) {
  EvaluateArgs a;
  auto& q = a.request;
  std::string device = "auto";
  po::options_description d("Options");
  d.add_options()("help,h", "print this help and exit")(
      "model", po::value(&q.model)->required(), "model checkpoint (.pt) or a retrain run directory")(
      "data", po::value(&q.data), "CIFAR-10/100 binary directory; default: the synthetic test split")(
      "device", po::value(&device)->default_value(device), "auto | cpu | cuda | cuda:N")(
      "batch", po::value(&q.batch)->default_value(q.batch), "evaluation batch size")(
      "threads", po::value(&q.threads)->default_value(q.threads), "torch intra-op threads (0 = default)");
  a.help = parse_simple(args, d,
                        "Usage: gnas evaluate --model CHECKPOINT [--data DIR]\n"
                        "Prints top-1 and top-5 accuracy of a retrained model on the test split.\n",
                        a.help_text);
  if (a.help) return a;
  GNAS_CHECK_AS(ConfigError, q.batch >= 1, "--batch must be >= 1, got ", q.batch);
  GNAS_CHECK_AS(ConfigError, q.threads >= 0, "--threads must be >= 0, got ", q.threads);
  q.device = train::parse_device(device);
  return a;
}

}  // namespace gnas::cli
