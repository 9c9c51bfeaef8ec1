#include "gnas/cli/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <regex>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/ini.h"

namespace gnas::cli {
namespace {

std::string write_ini(const std::string& name, const std::string& body) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << body;
  return path;
}

void expect_error(const std::vector<std::string>& args, const std::string& phrase,
                  RunCommand command = RunCommand::kSearch) {
  EXPECT_THAT([&] { parse_run_command(command, args); },
              ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr(phrase)));
}

TEST(OptionsTest, DefaultsAreTheDocumentedOnes) {
  const auto r = parse_run_command(RunCommand::kSearch, {"--out", "x"});
  EXPECT_EQ(r.config.out, "x");
  EXPECT_EQ(r.config.search.ga.population, 20);
  EXPECT_EQ(r.config.search.ga.generation, 20);
  EXPECT_DOUBLE_EQ(r.config.search.ga.p_m, 0.02);
  EXPECT_DOUBLE_EQ(r.config.train.lr, 0.1);
  EXPECT_TRUE(r.config.data.dir.empty());
  EXPECT_EQ(r.config.search.ga.crossover, ga::CrossoverKind::kBlock);
}

TEST(OptionsTest, CommandLineOverridesConfigFile) {
  const auto ini = write_ini("a.ini", "seed = 5\n[ga]\np_m = 0.1\ncrossover = uniform\n[train]\nepochs = 7\n");
  const auto r = parse_run_command(RunCommand::kSearch, {"--out", "x", "--config", ini, "--train.epochs", "9"});
  EXPECT_EQ(r.config.seed, 5u);
  EXPECT_DOUBLE_EQ(r.config.search.ga.p_m, 0.1);
  EXPECT_EQ(r.config.search.ga.crossover, ga::CrossoverKind::kUniform);
  EXPECT_EQ(r.config.train.epochs, 9);
}

/// A UTF-8 byte-order mark (what Windows editors put first) is read past, in --config files and in
/// the INI reader of config.ini; before issue 29 it was refused as an invalid "[search]" line.
TEST(OptionsTest, ConfigFileWithAByteOrderMarkIsRead) {
  const auto ini = write_ini("bom.ini", "\xEF\xBB\xBF[search]\nn_v = 7\n[train]\nepochs = 3\n");
  const auto r = parse_run_command(RunCommand::kSearch, {"--out", "x", "--config", ini});
  EXPECT_EQ(r.config.search.n_v, 7);
  EXPECT_EQ(r.config.train.epochs, 3);
  const auto kv = io::parse_ini("\xEF\xBB\xBFseed = 4\n[train]\nepochs = 3\n");
  EXPECT_EQ(kv.at("seed"), "4");
  EXPECT_EQ(kv.count("\xEF\xBB\xBFseed"), 0u);
  // Only at the very start: a mark inside the text is not a byte-order mark, and stays an error.
  expect_error({"--out", "x", "--config", write_ini("bom_inside.ini", "[train]\n\xEF\xBB\xBF" "epochs = 3\n")},
               "bom_inside.ini");
}

/// A requeued run resuming on a smaller node: its config.ini's threads are more than this machine
/// has. Clamped with a warning (issue 29: the resume was refused); on the command line, still refused.
TEST(OptionsTest, ResumeClampsTheRunsThreadsToThisMachine) {
  const std::string dir = ::testing::TempDir() + "gnas_resume_threads";
  std::filesystem::create_directories(dir);
  const int too_many = train::max_threads() + 7;
  std::ofstream(dir + "/config.ini") << "threads = " << too_many << "\n[train]\nepochs = 3\n";
  const auto r = parse_run_command(RunCommand::kSearch, {"--resume", "--out", dir});
  EXPECT_EQ(r.config.threads, train::max_threads());
  EXPECT_EQ(r.config.train.epochs, 3);
  expect_error({"--resume", "--out", dir, "--threads", std::to_string(too_many)}, "threads");
  // Without --resume the same file is refused as before: it is a new run's request.
  expect_error({"--config", dir + "/config.ini", "--out", dir + "/new"}, "threads");
  std::filesystem::remove_all(dir);
}

TEST(OptionsTest, ResolvedConfigIsAValidConfigFile) {
  const auto first = parse_run_command(RunCommand::kSearch, {"--out", "x", "--net.channels", "12", "--data", "/d"});
  EXPECT_EQ(first.config.data.dir, "/d");  // --data is short for --data.dir
  const auto ini = write_ini("resolved.ini", first.config.config_text);
  const auto second = parse_run_command(RunCommand::kSearch, {"--out", "y", "--config", ini});
  EXPECT_EQ(second.config.net.channels, 12);
  EXPECT_EQ(second.config.data.dir, "/d");
  EXPECT_EQ(second.config.config_text, first.config.config_text);
}

TEST(OptionsTest, UnknownKeysAndOptionsAreRejected) {
  const auto ini = write_ini("bad.ini", "[ga]\npopulaton = 3\n");
  expect_error({"--out", "x", "--config", ini}, "unknown option 'ga.populaton'");
  expect_error({"--out", "x", "--config", ini}, "bad.ini");
  expect_error({"--out", "x", "--frobnicate"}, "unknown option");
  expect_error({"--out", "x", "--config", "/nonexistent/gnas.ini"}, "cannot read '/nonexistent/gnas.ini'");
  expect_error({}, "out");  // --out is required
}

TEST(OptionsTest, OutOfRangeValuesNameTheFlag) {
  expect_error({"--out", "x", "--ga.population", "1"}, "--ga.population must be in [2, 1e6], got 1");
  expect_error({"--out", "x", "--ga.p_m", "1.5"}, "--ga.p_m must be in [0, 1], got 1.5");
  expect_error({"--out", "x", "--ga.p_m", "-0.1"}, "--ga.p_m must be in [0, 1]");
  expect_error({"--out", "x", "--train.epochs", "0"}, "--train.epochs must be > 0, got 0");
  expect_error({"--out", "x", "--ga.generation", "10"}, "--ga.generation must be >= --ga.population (20), got 10");
  expect_error({"--out", "x", "--train.batch", "-3"}, "--train.batch must be > 0");
  expect_error({"--out", "x", "--ga.crossover", "onepoint"}, "--ga.crossover must be block or uniform");
  expect_error({"--out", "x", "--search.bn_eval", "none"}, "--search.bn_eval must be batch or running");
  expect_error({"--out", "x", "--train.schedule", "linear"}, "--train.schedule must be step or cosine");
  expect_error({"--out", "x", "--net.dropout", "1"}, "--net.dropout must be in [0, 1)");
  expect_error({"--out", "x", "--train.epochs", "three"}, "train.epochs");
  expect_error({"--out", "x", "--device", "tpu"}, "--device must be auto, cpu, cuda or cuda:N");
}

/// A later --config file overrides an earlier one (and its values are validated); the command
/// line overrides both.
TEST(OptionsTest, LaterConfigFilesOverrideEarlierOnes) {
  const auto a = write_ini("first.ini", "[train]\nlr = 0.05\nepochs = 7\n[ga]\np_m = 0.1\n");
  const auto b = write_ini("second.ini", "[train]\nlr = 0.02\n");
  const auto r = parse_run_command(RunCommand::kSearch, {"--out", "x", "--config", a, "--config", b});
  EXPECT_DOUBLE_EQ(r.config.train.lr, 0.02);
  EXPECT_EQ(r.config.train.epochs, 7);
  EXPECT_DOUBLE_EQ(r.config.search.ga.p_m, 0.1);
  const auto cli = parse_run_command(RunCommand::kSearch, {"--out", "x", "--config", a, "--config", b, "--train.lr", "0.3"});
  EXPECT_DOUBLE_EQ(cli.config.train.lr, 0.3);
  const auto bad = write_ini("bad_second.ini", "[train]\nepochs = 0\n");
  expect_error({"--out", "x", "--config", a, "--config", bad}, "--train.epochs must be > 0, got 0");
}

/// Prefixes are never taken for an option; the error suggests the nearest one.
TEST(OptionsTest, PrefixesAreRefusedWithASuggestion) {
  expect_error({"--out", "x", "--train.epoch", "2"}, "unknown option '--train.epoch'. Did you mean '--train.epochs'?");
  expect_error({"--out", "x", "--ga.popluation", "4"}, "Did you mean '--ga.population'?");
  expect_error({"--out", "x", "--tra", "4"}, "unknown option '--tra'");
  const auto ini = write_ini("prefix.ini", "[train]\nepoch = 2\n");
  expect_error({"--out", "x", "--config", ini}, "Did you mean '--train.epochs'?");
}

/// Values that used to be accepted silently or crash.
TEST(OptionsTest, ImpossibleNumbersAreRefusedByName) {
  expect_error({"--out", "x", "--seed", "-1"}, "--seed must be a whole number >= 0, got -1");
  expect_error({"--out", "x", "--threads", "100000"}, "--threads must be in [0, ");
  expect_error({"--out", "x", "--train.lr", "1e300"}, "--train.lr must be in (0, 1e6], got 1e+300");
  expect_error({"--out", "x", "--train.lr", "1e999"}, "train.lr");
  expect_error({"--out", "x", "--net.channels", "99999999999"}, "net.channels");
}

/// The options a command takes, as RunConfig::visit_options lists them.
struct NameCollector {
  RunCommand command;
  std::vector<std::string> names;
  bool includes(OptionUse use) const {
    return use == OptionUse::kSearch ? command == RunCommand::kSearch : command != RunCommand::kSearch;
  }
  template <class T>
  void option(const char* n, T&, const char*, const Bound& = {}) { names.push_back(n); }
  template <class E>
  void choice(const char* n, E&, const char*, const Choices<E>&) { names.push_back(n); }
  template <class T, class P, class Q>
  void text(const char* n, T&, const char*, P, Q) { names.push_back(n); }
};

/// The one list is the whole configuration: each option it names is a flag in --help and a key of
/// config.ini, and config.ini holds nothing else.
TEST(OptionsTest, EveryListedOptionIsAFlagAndAKeyAndNothingElseIs) {
  for (RunCommand command : {RunCommand::kSearch, RunCommand::kRetrain}) {
    NameCollector names{command, {}};
    train::RunConfig c;
    train::RunConfig::visit_options(c, names);
    std::vector<std::string> args = {"--out", "x"};
    if (command == RunCommand::kRetrain) args.insert(args.end(), {"--genome", "g"});
    const auto help = parse_run_command(command, {"--help"}).help_text;
    const auto ini = io::parse_ini(parse_run_command(command, args).config.config_text);
    ASSERT_GE(names.names.size(), 35u);
    for (const auto& n : names.names) {
      EXPECT_NE(help.find("--" + n + " "), std::string::npos) << n;
      EXPECT_EQ(ini.count(n), 1u) << n;
    }
    EXPECT_EQ(ini.size(), names.names.size());
    const bool search = command == RunCommand::kSearch;
    EXPECT_EQ(ini.count("search.n_v"), search ? 1u : 0u);
    EXPECT_EQ(ini.count("net.drop_path_keep"), search ? 0u : 1u);
  }
}

/// A value that breaks `bound`, if one of a few candidates does.
template <class T>
std::optional<T> violating(const Bound& bound) {
  for (double candidate : {-1e12, -1.0, 0.0, 0.5, 1.0, 1e5, 1e8, 1e12}) {
    const double v = std::clamp(candidate, double(std::numeric_limits<T>::lowest()),
                                std::min(1e12, double(std::numeric_limits<T>::max())));
    if (!bound.holds(static_cast<T>(v))) return static_cast<T>(v);
  }
  return std::nullopt;
}

/// Sets the `target`-th bounded option of the list to a value its bound refuses.
struct BreakOne {
  int target;
  int index = 0;
  std::string name;
  bool includes(OptionUse) const { return true; }
  template <class T>
  void option(const char* n, T& value, const char*, const Bound& bound = {}) {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      if (!bound.ok || index++ != target) return;
      const auto bad = violating<T>(bound);
      ASSERT_TRUE(bad.has_value()) << n << ": no candidate breaks " << bound.rule;
      value = *bad;
      name = n;
    }
  }
  template <class E>
  void choice(const char*, E&, const char*, const Choices<E>&) {}
  template <class T, class P, class Q>
  void text(const char*, T&, const char*, P, Q) {}
};

/// Every bound of the list is checked by validate(), and its error names the option.
TEST(OptionsTest, EveryBoundIsCheckedAndNamesItsOption) {
  EXPECT_NO_THROW(train::RunConfig().validate());
  int bounded = 0;
  for (;; ++bounded) {
    train::RunConfig c;
    BreakOne breaker{bounded, 0, {}};
    train::RunConfig::visit_options(c, breaker);
    if (breaker.name.empty()) break;
    EXPECT_THAT([&] { c.validate(); },
                ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr("--" + breaker.name + " must be ")))
        << breaker.name;
  }
  EXPECT_GE(bounded, 25);  // the list's bounded options were all visited
}

/// [ga] strategy, n_v, generations_per_epoch, bn_eval and rescore are [search]'s now. Their old
/// names still work, with a warning, on a command line and in an INI file (an old run's config.ini
/// on --resume); config.ini is written with the new ones; anything else unknown is still an error.
TEST(OptionsTest, RenamedOptionsAreReadUnderTheirNewNames) {
  const auto old_ini = write_ini("old.ini", "[ga]\npopulation = 6\nn_v = 60\nbn_eval = running\nrescore = population\n");
  ::testing::internal::CaptureStderr();
  const auto r = parse_run_command(RunCommand::kSearch,
                                   {"--out", "x", "--config", old_ini, "--ga.strategy=random", "--ga.generations_per_epoch", "3"});
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.config.search.ga.population, 6);
  EXPECT_EQ(r.config.search.n_v, 60);
  EXPECT_EQ(r.config.search.bn_eval, ga::BnEval::kRunning);
  EXPECT_EQ(r.config.search.rescore, ga::Rescore::kPopulation);
  EXPECT_EQ(r.config.search.strategy, ga::Strategy::kRandom);
  EXPECT_EQ(r.config.search.generations_per_epoch, 3);
  EXPECT_THAT(warnings, ::testing::HasSubstr("--ga.strategy is now --search.strategy ([search] strategy in an INI file)"));
  EXPECT_THAT(warnings, ::testing::HasSubstr("old.ini': --ga.n_v is now --search.n_v"));
  const auto ini = io::parse_ini(r.config.config_text);
  EXPECT_EQ(ini.at("search.n_v"), "60");
  EXPECT_NE(r.config.config_text.find("[search]\nstrategy = random\nn_v = 60\n"), std::string::npos)
      << r.config.config_text;
  EXPECT_EQ(r.config.config_text.find("[ga]\nn_v"), std::string::npos);
  const auto bogus = write_ini("bogus.ini", "[ga]\nn_vv = 60\n");
  expect_error({"--out", "x", "--config", bogus}, "unknown option 'ga.n_vv'");
  expect_error({"--out", "x", "--ga.n_v", "0"}, "--search.n_v must be >= 1, got 0");
  // A command without the option is told about the name that was written, with no rename warning.
  ::testing::internal::CaptureStderr();
  expect_error({"--out", "x", "--genome", "g", "--ga.n_v", "5"}, "unknown option '--ga.n_v'", RunCommand::kRetrain);
  const auto retrain_ini = write_ini("retrain_old.ini", "[ga]\nn_v = 60\n");
  expect_error({"--out", "x", "--genome", "g", "--config", retrain_ini}, "unknown option 'ga.n_v'", RunCommand::kRetrain);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  // Under a launcher, only the first rank warns (the others parse the same line).
  for (const char* rank : {"1", "0"}) {
    ::setenv("OMPI_COMM_WORLD_RANK", rank, 1);
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(parse_run_command(RunCommand::kSearch, {"--out", "x", "--ga.n_v", "7"}).config.search.n_v, 7);
    const std::string said = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(said.find("is now --search.n_v") != std::string::npos, std::string(rank) == "0") << rank << ": " << said;
  }
  ::unsetenv("OMPI_COMM_WORLD_RANK");
}

/// Unsigned options are read as text: "-1" is refused, not wrapped to 2^64 - 1.
TEST(OptionsTest, UnsignedOptionsRefuseNegativeValues) {
  expect_error({"--out", "x", "--data.synthetic_seed", "-1"}, "--data.synthetic_seed must be a whole number >= 0, got -1");
  expect_error({"--out", "x", "--seed", "18446744073709551616"}, "--seed must be below 2^64");
  EXPECT_EQ(parse_run_command(RunCommand::kSearch, {"--out", "x", "--seed", "18446744073709551615"}).config.seed,
            std::numeric_limits<std::uint64_t>::max());
}

/// The README's table of options gives the program's own defaults (its "built-in default" column),
/// and names only options that exist: a renamed option or a changed default fails here.
TEST(OptionsTest, ReadmeTableGivesTheProgramsDefaults) {
  std::ifstream in("README.md");
  ASSERT_TRUE(in.good()) << "run from the source root";
  const auto search = io::parse_ini(parse_run_command(RunCommand::kSearch, {"--out", "x"}).config.config_text);
  const auto retrain =
      io::parse_ini(parse_run_command(RunCommand::kRetrain, {"--out", "x", "--genome", "g"}).config.config_text);
  const std::regex row(R"(^\| `([a-z_0-9.]+(/[a-z_0-9]+)*)` \| ([^|]*) \|)");
  const auto normalized = [](std::string v) {
    v = std::regex_replace(v, std::regex(R"( *\(.*\) *$)"), "");  // "0 (all)" -> "0"
    if (v == "(synthetic)" || v.empty()) return std::string();
    return v;
  };
  bool in_section = false;
  int rows = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Configuration";
    std::smatch m;
    if (!in_section || !std::regex_search(line, m, row)) continue;
    // "data.synthetic_train/val/test" with "3000 / 500 / 1000": one option per part.
    std::vector<std::string> keys, values;
    std::string key = m[1], cell = m[3];
    const std::string stem = key.substr(0, key.rfind('_') + 1);
    std::stringstream parts(key.substr(key.rfind('.') + 1)), cells(cell);
    if (key.find('/') == std::string::npos) {
      keys = {key}, values = {cell};
    } else {
      for (std::string part, value; std::getline(parts, part, '/') && std::getline(cells, value, '/');) {
        // the first part is whole ("synthetic_train"), the others its suffix ("val")
        keys.push_back(part.find('_') == std::string::npos ? stem + part : key.substr(0, key.rfind('.') + 1) + part);
        values.push_back(value);
      }
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& options = search.count(keys[i]) ? search : retrain;
      const auto it = options.find(keys[i]);
      ASSERT_NE(it, options.end()) << "the README names --" << keys[i] << ", which no command has";
      std::string want = normalized(values[i]);
      want.erase(0, want.find_first_not_of(' '));
      want.erase(want.find_last_not_of(' ') + 1);
      char* end = nullptr;
      const double a = std::strtod(want.c_str(), &end);
      if (!want.empty() && *end == '\0')
        EXPECT_EQ(a, std::strtod(it->second.c_str(), nullptr)) << keys[i] << ": README " << want << ", program " << it->second;
      else
        EXPECT_EQ(want, it->second) << keys[i];
      ++rows;
    }
  }
  EXPECT_GE(rows, 35);
}

TEST(OptionsTest, HelpListsEveryOption) {
  const auto r = parse_run_command(RunCommand::kSearch, {"--help"});
  EXPECT_TRUE(r.help);
  for (const char* opt : {"--config", "--out", "--force", "--seed", "--threads", "--device", "--net.channels",
                          "--net.cells", "--net.blocks", "--net.dropout", "--net.compat", "--net.share_slots", "--train.epochs", "--train.batch",
                          "--train.lr", "--train.momentum", "--train.nesterov", "--train.weight_decay",
                          "--train.schedule", "--ga.population", "--ga.generation", "--ga.p_m", "--ga.p_c",
                          "--ga.crossover", "--search.n_v", "--search.generations_per_epoch", "--search.bn_eval", "--data.dir",
                          "--data.val_size", "--data.train_limit", "--data.synthetic_train", "--data.augment",
                          "--data.cutout", "--data.eval_batch", "--no-progress"})
    EXPECT_NE(r.help_text.find(opt), std::string::npos) << opt;
}

TEST(OptionsTest, RetrainNeedsAGenomeAndHasDropPath) {
  expect_error({"--out", "x"}, "genome", RunCommand::kRetrain);
  const auto r = parse_run_command(RunCommand::kRetrain, {"--out", "x", "--genome", "g", "--net.drop_path_keep", "0.8"});
  EXPECT_DOUBLE_EQ(r.config.net.drop_path_keep, 0.8);
  expect_error({"--out", "x", "--genome", "g", "--net.drop_path_keep", "0"}, "--net.drop_path_keep must be in (0, 1]",
               RunCommand::kRetrain);
  // GA keys belong to search only.
  expect_error({"--out", "x", "--genome", "g", "--ga.p_m", "0.1"}, "unknown option", RunCommand::kRetrain);
}

TEST(OptionsTest, ExportArguments) {
  EXPECT_THROW(parse_export_command({}), ConfigError);
  EXPECT_THROW(parse_export_command({"--genome", "1", "--format", "png"}), ConfigError);
  EXPECT_EQ(parse_export_command({"--genome", "1", "--format", "dot"}).format, "dot");
  EXPECT_EQ(parse_export_command({"--genome", "1"}).compat, NetCompat::kPaper);
  EXPECT_EQ(parse_export_command({"--genome", "1", "--net.compat", "reference"}).compat, NetCompat::kReference);
  EXPECT_THAT([] { parse_export_command({"--genome", "1", "--net.compat", "authors"}); },
              ::testing::ThrowsMessage<ConfigError>(
                  ::testing::HasSubstr("--net.compat must be paper or reference, got authors")));
}

/// net.compat and net.share_slots: defaults, INI and flags, the resolved config, bad values.
TEST(OptionsTest, NetworkCompatAndSlotSharing) {
  auto r = parse_run_command(RunCommand::kSearch, {"--out", "x"});
  EXPECT_EQ(r.config.net.compat, NetCompat::kPaper);
  EXPECT_TRUE(r.config.net.share_slots);
  EXPECT_NE(r.config.config_text.find("compat = paper"), std::string::npos);
  r = parse_run_command(RunCommand::kRetrain, {"--out", "x", "--genome", "g", "--net.compat", "reference",
                                               "--net.share_slots", "false"});
  EXPECT_EQ(r.config.net.compat, NetCompat::kReference);
  EXPECT_FALSE(r.config.net.share_slots);
  EXPECT_NE(r.config.config_text.find("compat = reference"), std::string::npos);
  EXPECT_NE(r.config.config_text.find("share_slots = false"), std::string::npos);
  const auto ini = write_ini("compat.ini", "[net]\ncompat = reference\n");
  EXPECT_EQ(parse_run_command(RunCommand::kSearch, {"--out", "x", "--config", ini}).config.net.compat,
            NetCompat::kReference);
  expect_error({"--out", "x", "--net.compat", "Reference"}, "--net.compat must be paper or reference, got Reference");
  expect_error({"--out", "x", "--net.share_slots", "maybe"}, "share_slots");
}

/// Every shipped config parses for its command, and carries the authors' recipe values.
TEST(OptionsTest, ShippedConfigsParseWithTheAuthorsRecipes) {
  auto load = [](RunCommand command, const std::string& file) {
    std::vector<std::string> args = {"--out", "x", "--config", file};
    if (command == RunCommand::kRetrain) args.insert(args.end(), {"--genome", "g"});
    return parse_run_command(command, args).config;
  };
  const auto s10 = load(RunCommand::kSearch, "configs/search_cifar10.ini");
  EXPECT_DOUBLE_EQ(s10.train.lr, 0.1);
  EXPECT_EQ(s10.train.batch, 128);
  const auto s100 = load(RunCommand::kSearch, "configs/search_cifar100.ini");
  EXPECT_DOUBLE_EQ(s100.train.lr, 0.05);
  EXPECT_DOUBLE_EQ(s100.search.ga.p_m, 0.01);
  const auto r10 = load(RunCommand::kRetrain, "configs/retrain_cifar10.ini");
  EXPECT_DOUBLE_EQ(r10.train.lr / r10.train.batch, 0.1 / 128);  // the paper's per-sample rate
  const auto r100 = load(RunCommand::kRetrain, "configs/retrain_cifar100.ini");
  EXPECT_EQ(r100.net.channels, 48);
  EXPECT_EQ(r100.train.batch, 50);
  EXPECT_DOUBLE_EQ(r100.train.lr, 0.05);
  const auto paper = load(RunCommand::kRetrain, "configs/reproduce_paper_cifar10.ini");
  EXPECT_EQ(paper.net.compat, NetCompat::kReference);
  EXPECT_EQ(paper.net.channels, 48);
  EXPECT_EQ(paper.net.cells, 4);
  EXPECT_EQ(paper.train.epochs, 630);
  load(RunCommand::kSearch, "configs/quick_cpu.ini");
  // Each usage comment names its own file.
  for (const char* file : {"configs/search_cifar10.ini", "configs/search_cifar100.ini", "configs/retrain_cifar10.ini",
                           "configs/retrain_cifar100.ini", "configs/reproduce_paper_cifar10.ini",
                           "configs/quick_cpu.ini"}) {
    std::ifstream in(file);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find(std::string("--config ") + file), std::string::npos) << file;
  }
}

}  // namespace
}  // namespace gnas::cli
