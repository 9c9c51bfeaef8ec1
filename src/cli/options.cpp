#include "gnas/cli/options.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <map>
#include <thread>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/ga/tabular.h"

namespace po = boost::program_options;

namespace gnas::cli {
namespace {

struct Strings {  // options converted and checked after parsing
  std::string crossover = "block";
  std::string strategy = "ga";
  std::string compat = "paper";
  std::string device = "auto";
  std::string backend = "auto";
  std::string schedule = "step";
  std::string bn_eval = "batch";
  std::string precision = "fp32";
  std::string rescore = "none";
  std::int64_t seed = 1;  // parsed signed: "-1" must be an error, not 18446744073709551615
};

}  // namespace

train::DeviceSpec parse_device(const std::string& text) {
  train::DeviceSpec d;
  if (text == "auto") return d;
  if (text == "cpu") {
    d.kind = train::DeviceSpec::Kind::kCpu;
    return d;
  }
  d.kind = train::DeviceSpec::Kind::kCuda;
  if (text == "cuda") return d;
  const std::string digits = text.rfind("cuda:", 0) == 0 ? text.substr(5) : "";
  GNAS_CHECK_AS(ConfigError,
                !digits.empty() && digits.size() <= 3 && digits.find_first_not_of("0123456789") == std::string::npos,
                "--device must be auto, cpu, cuda or cuda:N, got ", text);
  d.index = std::stoi(digits);
  return d;
}

namespace {

/// Every key that may appear in an INI file; `[section] key` == `--section.key`.
po::options_description config_options(train::RunConfig& c, Strings& s, RunCommand command) {
  po::options_description general("General");
  general.add_options()
      ("seed", po::value(&s.seed)->default_value(s.seed), "seed of every random stream (GA, data, torch), >= 0")
      ("threads", po::value(&c.threads)->default_value(c.threads),
       "torch intra-op threads; 0 keeps libtorch's default (use 1 per MPI rank)")
      ("space", po::value(&c.net.space)->default_value(c.net.space),
       "search space: paper (the GeneticNAS cells) | nb201 (the NAS-Bench-201 cell: 6 edges of 5 ops; "
       "--net.channels and --net.cells are its C and N, the benchmark's 16 and 5; docs/search-quality.md)")
      ("device", po::value(&s.device)->default_value(s.device),
       "auto | cpu | cuda | cuda:N (under MPI, auto picks cuda:<node-local rank>)")
      ("dist.backend", po::value(&s.backend)->default_value(s.backend),
       "what carries the gradients: auto (NCCL on CUDA in a build with NCCL under mpirun/srun, else MPI "
       "there, else nothing) | serial | mpi | nccl (the CUDA build; a CUDA device). Control messages always go "
       "over MPI under mpirun/srun")
      ("log.all_ranks", po::value(&c.dist.log_all_ranks)->default_value(c.dist.log_all_ranks, "false"),
       "INFO lines from every rank (default: rank 0 only)")
      ("log.progress_seconds", po::value(&c.dist.log_progress_seconds)->default_value(c.dist.log_progress_seconds, "30"),
       "off a terminal (job files, pipes), a progress line at least this often, besides every tenth of an epoch")
      ("log.every_steps", po::value(&c.log.every_steps)->default_value(c.log.every_steps),
       "a row of training loss, accuracy, lr and img/s in the log's /step group every N steps (and at each "
       "epoch's last step); 0: every tenth of an epoch")
      ("dist.timeout", po::value(&c.dist.timeout)->default_value(c.dist.timeout, "0"),
       "seconds a collective may wait for the other ranks before the job is ended with a report (a stopped or "
       "dead rank); 0 waits forever. Set it well above the longest end-of-epoch pause (GA rounds, checkpoint)");

  po::options_description net("Network [net]");
  net.add_options()
      ("net.channels", po::value(&c.net.channels)->default_value(c.net.channels),
       "C, channels of stage 1 (doubled at each reduction). Paper: 20 search, 48 retrain; NAS-Bench-201: 16")
      ("net.cells", po::value(&c.net.cells)->default_value(c.net.cells),
       "N_cell, cells per stage. Paper: 2 search, 4 retrain; NAS-Bench-201: 5")
      ("net.blocks", po::value(&c.net.blocks)->default_value(c.net.blocks), "N_b, blocks per cell. Paper: 5 (paper space only)")
      ("net.dropout", po::value(&c.net.dropout)->default_value(c.net.dropout, "0.2"),
       "dropout before the classifier, in [0, 1). Paper: 0.2 (paper space only)")
      ("net.compat", po::value(&s.compat)->default_value(s.compat),
       "paper (the network of the paper's text) | reference (the network the authors' code trained: 18x18 and "
       "11x11 stages, a ReLU before the classifier, ...; docs/fidelity.md)")
      ("net.share_slots", po::value(&c.net.share_slots)->default_value(c.net.share_slots, "true"),
       "slots A and B of a block share one weight set per (input, op), as the authors' code does; false: one "
       "set per slot (about twice the supernet's separable-conv weights)");
  if (command != RunCommand::kSearch)
    net.add_options()
        ("net.drop_path_keep", po::value(&c.net.drop_path_keep)->default_value(c.net.drop_path_keep, "0.9"),
         "per-sample drop-path keep probability in (0, 1]. Paper: 0.9")
        ("net.drop_path_from", po::value(&c.net.drop_path_from)->default_value(c.net.drop_path_from),
         "first epoch (0-based) with drop-path on");

  po::options_description train("Training [train]");
  train.add_options()
      ("train.epochs", po::value(&c.train.epochs)->default_value(c.train.epochs),
       "epochs. Paper: 310 search, 630 retrain")
      ("train.batch", po::value(&c.train.batch)->default_value(c.train.batch), "global batch size. Paper: 128")
      ("train.lr", po::value(&c.train.lr)->default_value(c.train.lr, "0.1"), "initial learning rate. Paper: 0.1")
      ("train.lr_min", po::value(&c.train.lr_min)->default_value(c.train.lr_min, "0"),
       "cosine schedule: the learning rate it anneals to. NAS-Bench-201's search protocol: 0.001")
      ("train.momentum", po::value(&c.train.momentum)->default_value(c.train.momentum, "0.9"),
       "SGD momentum. Paper: 0.9")
      ("train.nesterov", po::value(&c.train.nesterov)->default_value(c.train.nesterov, "true"),
       "Nesterov momentum. Paper: true")
      ("train.weight_decay", po::value(&c.train.weight_decay)->default_value(c.train.weight_decay, "0.0001"),
       "weight decay. Paper: 1e-4")
      ("train.schedule", po::value(&s.schedule)->default_value(s.schedule),
       "step (lr/10 at 50% and 75% of the epochs; paper) | cosine")
      ("train.precision", po::value(&s.precision)->default_value(s.precision),
       "compute precision of training and evaluation: fp32 | bf16 (autocast; the CPU too) | fp16 (autocast with "
       "loss scaling; CUDA only). Parameters stay float32")
      ("train.channels_last", po::value(&c.train.channels_last)->default_value(c.train.channels_last, "false"),
       "channels-last (NHWC) memory format for convolutions (faster with tensor cores)")
      ("train.grad_clip", po::value(&c.train.grad_clip)->default_value(c.train.grad_clip, "0"),
       "clip the gradients' joint L2 norm to this (0 = off). NAS-Bench-201's search protocol: 5");

  po::options_description ga("Genetic algorithm [ga]");
  if (command == RunCommand::kSearch)
    ga.add_options()
        ("ga.population", po::value(&c.search.ga.population)->default_value(c.search.ga.population),
         "N_p, population size (>= 2). Paper: 20")
        ("ga.generation", po::value(&c.search.ga.generation)->default_value(c.search.ga.generation),
         "N_g, generation size (>= N_p). Paper: 20")
        ("ga.p_m", po::value(&c.search.ga.p_m)->default_value(c.search.ga.p_m, "0.02"),
         "per-gene mutation probability in [0, 1]. Paper: 0.02")
        ("ga.p_c", po::value(&c.search.ga.p_c)->default_value(c.search.ga.p_c, "1"),
         "crossover probability in [0, 1]. Paper: 1")
        ("ga.crossover", po::value(&s.crossover)->default_value(s.crossover), "block (paper) | uniform")
        ("ga.strategy", po::value(&s.strategy)->default_value(s.strategy),
         "ga (the paper's GA) | random (random search with weight sharing at the same cost: a uniform genome "
         "per batch, N_g uniform genomes per round, the same replacement)")
        ("ga.n_v", po::value(&c.search.n_v)->default_value(c.search.n_v),
         "validation images per fitness evaluation. Paper: 1000")
        ("ga.generations_per_epoch",
         po::value(&c.search.generations_per_epoch)->default_value(c.search.generations_per_epoch),
         "evaluate-and-replace rounds after each epoch. Reference: 2")
        ("ga.bn_eval", po::value(&s.bn_eval)->default_value(s.bn_eval),
         "BN statistics when scoring candidates: batch (default) | running (the reference)")
        ("ga.rescore", po::value(&s.rescore)->default_value(s.rescore),
         "none (the paper's Alg. 2: a member keeps the fitness it was first scored with) | population (each "
         "round also re-scores the population on the new generation's N_v images before the replacement; "
         "one more population's evaluation per round)");
  po::options_description nb201("NAS-Bench-201 ground truth [nb201] (--space nb201)");
  if (command == RunCommand::kSearch)
    nb201.add_options()
        ("nb201.table", po::value(&c.search.nb201.table)->default_value(c.search.nb201.table),
         "the benchmark's CIFAR-10 table (CSV: index,arch,params_m,valid_acc,test_acc; the project ships "
         "data/nasbench201/nasbench201_cifar10.csv): the log then holds the ground truth of the population's best, "
         "its mean and the chosen cell every epoch, and the supernet's ranking quality")
        ("nb201.rank_every", po::value(&c.search.nb201.rank_every)->default_value(c.search.nb201.rank_every),
         "with --nb201.table: score the ranking set with the supernet every K epochs (0: after the last epoch "
         "only), and log Kendall tau and Spearman rho against the table")
        ("nb201.rank_cells", po::value(&c.search.nb201.rank_cells)->default_value(c.search.nb201.rank_cells),
         "with --nb201.table: cells in the ranking set, drawn by --seed and spread over the table's accuracy "
         "range, each scored on the whole validation split (0: no ranking)");

  po::options_description data("Data [data]");
  data.add_options()
      ("data.dir", po::value(&c.data.dir)->default_value(c.data.dir),
       "CIFAR-10/100 binary directory; empty: the embedded synthetic data")
      ("data.val_size", po::value(&c.data.val_size)->default_value(c.data.val_size),
       "CIFAR: the last N training images form the validation split. Paper design: 5000")
      ("data.train_limit", po::value(&c.data.train_limit)->default_value(c.data.train_limit),
       "CIFAR: use only the first N training images before the split (0 = all)")
      ("data.synthetic_train", po::value(&c.data.synthetic_train)->default_value(c.data.synthetic_train),
       "synthetic data: training images")
      ("data.synthetic_val", po::value(&c.data.synthetic_val)->default_value(c.data.synthetic_val),
       "synthetic data: validation images")
      ("data.synthetic_test", po::value(&c.data.synthetic_test)->default_value(c.data.synthetic_test),
       "synthetic data: test images")
      ("data.synthetic_seed", po::value(&c.data.synthetic_seed)->default_value(c.data.synthetic_seed),
       "synthetic data: generator seed (independent of --seed)")
      ("data.augment", po::value(&c.data.augment)->default_value(c.data.augment, "true"),
       "pad-4 random crop + horizontal flip + cutout on training batches")
      ("data.cutout", po::value(&c.data.cutout)->default_value(c.data.cutout),
       "cutout hole side in pixels (0 = off). Paper: 16")
      ("data.eval_batch", po::value(&c.data.eval_batch)->default_value(c.data.eval_batch),
       "batch size of evaluation passes");

  po::options_description all;
  all.add(general).add(net).add(train);
  if (command == RunCommand::kSearch) all.add(ga).add(nb201);
  all.add(data);
  return all;
}

std::string format_value(const boost::any& v) {
  std::ostringstream out;
  out.precision(15);
  if (auto pi = boost::any_cast<int>(&v)) out << *pi;
  else if (auto pd = boost::any_cast<double>(&v)) out << *pd;
  else if (auto pb = boost::any_cast<bool>(&v)) out << (*pb ? "true" : "false");
  else if (auto ps = boost::any_cast<std::string>(&v)) out << *ps;
  else if (auto pu = boost::any_cast<std::uint64_t>(&v)) out << *pu;
  else if (auto pl = boost::any_cast<std::int64_t>(&v)) out << *pl;
  else out << "?";
  return out.str();
}

/// The resolved values as INI text, top-level keys first, then one [section] per prefix.
std::string to_ini(const po::options_description& desc, const po::variables_map& vm, const std::string& header) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections;
  for (const auto& opt : desc.options()) {
    const std::string name = opt->long_name();
    if (!vm.count(name)) continue;
    const auto dot = name.find('.');
    const std::string section = dot == std::string::npos ? "" : name.substr(0, dot);
    const std::string key = dot == std::string::npos ? name : name.substr(dot + 1);
    sections[section].emplace_back(key, format_value(vm[name].value()));
  }
  std::ostringstream out;
  out << header;
  for (const auto& [section, keys] : sections) {  // "" sorts first: top-level keys precede sections
    if (!section.empty()) out << "\n[" << section << "]\n";
    for (const auto& [k, v] : keys) out << k << " = " << v << "\n";
  }
  return out.str();
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

void validate(const train::RunConfig& c) {
  auto need = [](bool ok, const std::string& flag, const std::string& rule, const auto& got) {
    GNAS_CHECK_AS(ConfigError, ok, "--", flag, " must be ", rule, ", got ", got);
  };
  const unsigned hw = std::thread::hardware_concurrency();
  const int max_threads = hw > 0 ? static_cast<int>(hw) : 1024;
  need(c.threads >= 0 && c.threads <= max_threads, "threads",
       "in [0, " + std::to_string(max_threads) + "] (this machine's hardware threads)", c.threads);
  need(c.dist.timeout >= 0 && c.dist.timeout <= 1e7, "dist.timeout", "in [0, 1e7] seconds", c.dist.timeout);
  need(c.dist.log_progress_seconds > 0 && c.dist.log_progress_seconds <= 1e6, "log.progress_seconds",
       "in (0, 1e6] seconds", c.dist.log_progress_seconds);
  // Each section's bounds live with its struct; the CLI only maps flags onto them.
  c.log.validate();
  c.net.validate();
  c.train.validate();
  c.search.validate();
  c.data.validate();
  const auto& nb = c.search.nb201;
  const ga::Nb201Options d;
  GNAS_CHECK_AS(ConfigError, c.net.space == "nb201" || (nb.table.empty() && nb.rank_every == d.rank_every &&
                                                        nb.rank_cells == d.rank_cells),
                "--nb201.table, --nb201.rank_every and --nb201.rank_cells need --space nb201 (the space is ",
                c.net.space, ")");
}

ParsedRun parse_run_command(RunCommand command, const std::vector<std::string>& args) {
  ParsedRun r;
  train::RunConfig& c = r.config;
  Strings s;
  po::options_description cfg = config_options(c, s, command);

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
        "testing: see --debug.fail_rank");

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
  for (auto& a : argv)  // accept --data as a short form of --data.dir
    if (a == "--data") a = "--data.dir";
    else if (a.rfind("--data=", 0) == 0) a = "--data.dir=" + a.substr(7);

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
    std::ifstream in(*file);
    GNAS_CHECK_AS(ConfigError, in.good(), "--config: cannot read '", *file, "'");
    translate_po_errors("config file '" + *file + "': ",
                        [&] { po::store(po::parse_config_file(in, cfg, false), vm); }, &cfg);
  }
  translate_po_errors("", [&] { po::notify(vm); });
  GNAS_CHECK_AS(ConfigError, s.seed >= 0, "--seed must be >= 0, got ", s.seed);
  c.seed = static_cast<std::uint64_t>(s.seed);
  r.config.progress = vm.count("no-progress") == 0;

  c.search.ga.crossover = ga::parse_crossover(s.crossover);
  GNAS_CHECK_AS(ConfigError, s.strategy == "ga" || s.strategy == "random", "--ga.strategy must be ga or random, got ",
                s.strategy);
  c.search.strategy = s.strategy == "ga" ? ga::Strategy::kGa : ga::Strategy::kRandom;
  GNAS_CHECK_AS(ConfigError, s.rescore == "none" || s.rescore == "population",
                "--ga.rescore must be none or population, got ", s.rescore);
  c.search.rescore = s.rescore == "none" ? ga::Rescore::kNone : ga::Rescore::kPopulation;
  GNAS_CHECK_AS(ConfigError, parse_compat(s.compat, c.net.compat), "--net.compat must be paper or reference, got ",
                s.compat);
  c.device = parse_device(s.device);
  c.dist.backend = distributed::parse_backend(s.backend);
  GNAS_CHECK_AS(ConfigError, s.schedule == "step" || s.schedule == "cosine", "--train.schedule must be step or cosine, got ",
                s.schedule);
  c.train.schedule = s.schedule == "step" ? train::Schedule::kStep : train::Schedule::kCosine;
  GNAS_CHECK_AS(ConfigError, train::parse_precision(s.precision, c.train.precision),
                "--train.precision must be fp32, bf16 or fp16, got ", s.precision);
  GNAS_CHECK_AS(ConfigError, s.bn_eval == "batch" || s.bn_eval == "running", "--ga.bn_eval must be batch or running, got ",
                s.bn_eval);
  c.search.bn_eval = s.bn_eval == "batch" ? ga::BnEval::kBatch : ga::BnEval::kRunning;
  GNAS_CHECK_AS(ConfigError, !(c.resume && c.force), "--resume and --force exclude each other");
  GNAS_CHECK_AS(ConfigError, command != RunCommand::kRetrain || c.resume || !r.extras.genome.empty(),
                "--genome is required (genome text, a genome JSON file, or a search run directory)");
  validate(c);
  c.config_text = to_ini(cfg, vm, detail::concat("# gnas ", command_name(command), ": resolved configuration\n"));
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
          "accuracy, final test accuracy, the chosen cell's NAS-Bench-201 table test accuracy (table_test:\n"
          "searches run with --nb201.table), wall time and best genome (nb201: the benchmark's cell string).\n"
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
      "net.blocks", po::value(&a.blocks)->default_value(a.blocks), "N_b, blocks per cell")(
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
  GNAS_CHECK_AS(ConfigError, a.space.empty() || a.space == "paper" || a.space == "nb201",
                "--space must be paper or nb201, got ", a.space);
  nn::NetOptions net;  // net.blocks's bound is NetOptions's
  net.blocks = a.blocks;
  net.validate();
  GNAS_CHECK_AS(ConfigError, parse_compat(compat, a.compat), "--net.compat must be paper or reference, got ", compat);
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
  std::string strategies = "ga,random,rea", budgets = "100,200,500,1000", crossover = "block";
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
      "ga.population", po::value(&a.ga.population)->default_value(a.ga.population), "GA: N_p. Paper: 20")(
      "ga.generation", po::value(&a.ga.generation)->default_value(a.ga.generation), "GA: N_g (>= N_p). Paper: 20")(
      "ga.p_m", po::value(&a.ga.p_m)->default_value(a.ga.p_m, "0.02"), "GA: per-gene mutation probability. Paper: 0.02")(
      "ga.p_c", po::value(&a.ga.p_c)->default_value(a.ga.p_c, "1"), "GA: crossover probability. Paper: 1")(
      "ga.crossover", po::value(&crossover)->default_value(crossover), "GA: block (a node's edges) | uniform")(
      "rea.population", po::value(&a.rea_population)->default_value(a.rea_population),
      "REA: population (NAS-Bench-201: 10)")(
      "rea.sample", po::value(&a.rea_sample)->default_value(a.rea_sample), "REA: tournament size (NAS-Bench-201: 3)");
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
  a.ga.crossover = ga::parse_crossover(crossover);
  GNAS_CHECK_AS(ConfigError, a.ga.population >= 2 && a.ga.generation >= a.ga.population,
                "--ga.population must be >= 2 and --ga.generation >= it, got ", a.ga.population, " and ", a.ga.generation);
  GNAS_CHECK_AS(ConfigError, a.ga.p_m >= 0 && a.ga.p_m <= 1 && a.ga.p_c >= 0 && a.ga.p_c <= 1,
                "--ga.p_m and --ga.p_c must be in [0, 1]");
  GNAS_CHECK_AS(ConfigError, a.rea_population >= 1 && a.rea_sample >= 1, "--rea.population and --rea.sample must be >= 1");
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
  q.device = parse_device(device);
  return a;
}

}  // namespace gnas::cli
