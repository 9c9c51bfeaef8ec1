// gnas tabular: search strategies on NAS-Bench-201 (a table look-up as the fitness), many runs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "gnas/cli/options.h"
#include "gnas/core/error.h"
#include "gnas/fitness/score_table.h"
#include "gnas/ga/tabular.h"
#include "gnas/io/hdf5_curves.h"
#include "gnas/io/run_dir.h"

namespace gnas::app {
namespace {

struct Stats {
  double mean = 0, std = 0;
};
/// Mean and sample standard deviation (n - 1; 0 for one value).
Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(s.std / double(v.size() - 1)) : 0.0;
  return s;
}

/// The fitness --fitness names: the table's valid_acc, or a score table's score(s) by cell code.
ga::nb201::Fitness make_fitness(const cli::TabularArgs& a, const ga::nb201::Table& table) {
  namespace nb = ga::nb201;
  if (a.fitness == "valid") return nb::valid_fitness(table);
  const auto kinds = fitness::parse_score_list(a.fitness, "fitness");
  const fitness::ScoreTable scores = fitness::read_score_table(a.scores);
  GNAS_CHECK_AS(ConfigError, scores.setup.space == "nb201", "--scores ", a.scores, " scores cells of the ",
                scores.setup.space, " space; gnas tabular searches NAS-Bench-201 (write one with gnas score --space nb201)");
  GNAS_CHECK_AS(ConfigError, !scores.rows.empty(), "--scores ", a.scores, " holds no scored cell");
  const std::vector<double> values = fitness::combined_fitness(scores, kinds);
  nb::Fitness f;
  f.name = a.fitness;
  f.accuracy = false;
  f.by_code.assign(std::size_t(nb::kCells), std::nan(""));
  for (std::size_t i = 0; i < scores.rows.size(); ++i) {
    space::Genome g;
    const std::string bad = space::nb201::parse_arch(scores.rows[i].arch, g);
    GNAS_CHECK_AS(DataError, bad.empty(), a.scores, ": the cell '", scores.rows[i].arch, "' is not a NAS-Bench-201 cell (",
                  bad, ")");
    const int code = nb::encode(g);
    f.by_code[std::size_t(code)] = values[i];
    f.codes.push_back(code);
  }
  std::sort(f.codes.begin(), f.codes.end());
  const bool needs_all = std::find(a.strategies.begin(), a.strategies.end(), "random") == a.strategies.end() ||
                         a.strategies.size() > 1;
  GNAS_CHECK_AS(ConfigError, f.complete() || !needs_all, "--scores ", a.scores, " scores ", f.codes.size(), " of the ",
                nb::kCells, " cells: GA and REA can reach any cell, so they need all of them (gnas score --cells all); "
                "random search alone (--strategy random) draws from the scored cells");
  return f;
}

}  // namespace

int run_tabular(const cli::TabularArgs& a) {
  namespace nb = ga::nb201;
  const nb::Table table = nb::load_table(a.table);
  const nb::Fitness fit = make_fitness(a, table);
  // --out before the work: a new or empty directory, or an earlier tabular output (replaced with
  // --force only); held for the whole run, so a second writer fails now and not after the computation.
  std::unique_ptr<io::RunDirLock> lock;
  if (!a.out.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(a.out, ec))
      for (const auto& entry : std::filesystem::directory_iterator(a.out, ec)) {
        const std::string name = entry.path().filename().string();
        if (name == "tabular.h5.tmp") continue;  // a write that was killed: replaced by this one
        GNAS_CHECK_AS(ConfigError, name == "tabular.h5" || name == ".gnas.lock", "--out '", a.out,
                      "' holds other files than a gnas tabular output (", name, "); choose another directory");
        GNAS_CHECK_AS(ConfigError, name != "tabular.h5" || a.force, "--out '", a.out,
                      "' already holds a tabular result (tabular.h5); give --force to replace it, or choose another "
                      "directory");
      }
    io::check_new_run_dir(a.out, true);
    lock = std::make_unique<io::RunDirLock>(a.out, false);
  }
  const int budget = a.budgets.back();
  const auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, io::Matrix> matrices;
  if (!a.json && a.fitness != "valid")
    std::cout << "fitness: " << a.fitness << " from " << a.scores << " (" << fit.codes.size()
              << " cells scored); valid_acc and test_acc below are the table's, of the best cell by that fitness\n";
  if (!a.json) std::cout << "strategy  budget   runs   valid_acc (mean +- std)   test_acc (mean +- std)   p_optimum\n";
  for (std::size_t s = 0; s < a.strategies.size(); ++s) {
    const std::string& name = a.strategies[s];
    io::Matrix valid{{}, std::uint64_t(a.runs), std::uint64_t(budget)}, test = valid;
    std::vector<std::vector<double>> best_valid(a.budgets.size()), best_test(a.budgets.size());
    std::vector<int> optimum(a.budgets.size(), 0);
    for (int r = 0; r < a.runs; ++r) {
      // Each (strategy, run) has its own stream: adding a strategy or a run changes no other run.
      Rng rng(a.seed, (std::uint64_t(name == "ga" ? 0 : name == "random" ? 1 : 2) << 32) + std::uint64_t(r));
      const nb::Curve c = name == "ga"       ? nb::run_ga(table, fit, a.ga, budget, rng)
                          : name == "random" ? nb::run_random(table, fit, budget, rng)
                                             : nb::run_rea(table, fit, {a.rea_population, a.rea_sample}, budget, rng);
      valid.values.insert(valid.values.end(), c.best_valid.begin(), c.best_valid.end());
      test.values.insert(test.values.end(), c.best_test.begin(), c.best_test.end());
      for (std::size_t b = 0; b < a.budgets.size(); ++b) {
        const std::size_t k = std::size_t(a.budgets[b]) - 1;
        best_valid[b].push_back(c.best_valid[k]);
        best_test[b].push_back(c.best_test[k]);
        optimum[b] += c.best_code[k] == table.best_code;
      }
    }
    matrices[name + "/best_valid"] = std::move(valid);
    matrices[name + "/best_test"] = std::move(test);
    std::ostringstream lines;  // this strategy's rows, printed as soon as it has finished
    for (std::size_t b = 0; b < a.budgets.size(); ++b) {
      const Stats v = stats(best_valid[b]), t = stats(best_test[b]);
      const double p = double(optimum[b]) / a.runs;
      if (a.json) {
        lines << std::fixed << std::setprecision(4) << "{\"strategy\": \"" << name << "\", \"budget\": " << a.budgets[b]
              << ", \"runs\": " << a.runs << ", \"test_mean\": " << t.mean << ", \"test_std\": " << t.std
              << ", \"valid_mean\": " << v.mean << ", \"valid_std\": " << v.std << ", \"p_optimum\": " << p << ", \"fitness\": \"" << a.fitness << "\"}\n";
      } else {
        char row[160];
        std::snprintf(row, sizeof row, "%-8s  %6d  %5d   %6.2f +- %4.2f            %6.2f +- %4.2f           %.3f\n",
                      name.c_str(), a.budgets[b], a.runs, v.mean, v.std, t.mean, t.std, p);
        lines << row;
      }
    }
    std::cout << lines.str() << std::flush;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.json) {
    const ga::Genome best = nb::decode(table.best_code);
    std::cout << std::fixed << std::setprecision(2) << "optimum (best valid_acc): valid "
              << table.valid[std::size_t(table.best_code)] << "  test " << table.test[std::size_t(table.best_code)]
              << "  " << nb::arch_string(best) << "\n"
              << a.strategies.size() << " strategies x " << a.runs << " runs x " << budget << " cells in "
              << std::setprecision(2) << seconds << " s\n";
  }
  if (!a.out.empty()) {
    std::ostringstream budgets, ga;
    for (std::size_t b = 0; b < a.budgets.size(); ++b) budgets << (b ? "," : "") << a.budgets[b];
    ga << "population=" << a.ga.population << " generation=" << a.ga.generation << " p_m=" << a.ga.p_m
       << " p_c=" << a.ga.p_c << " crossover=" << (a.ga.crossover == ga::CrossoverKind::kBlock ? "block" : "uniform")
       << " selection=" << choice_name(ga::kSelections, a.ga.selection);
    io::write_matrices(a.out + "/tabular.h5", matrices,
                       {{"table", a.table}, {"budgets", budgets.str()}, {"runs", std::to_string(a.runs)},
                        {"seed", std::to_string(a.seed)}, {"ga", ga.str()},
                        {"fitness", a.fitness}, {"scores", a.scores},
                        {"rea", "population=" + std::to_string(a.rea_population) + " sample=" +
                                    std::to_string(a.rea_sample)},
                        {"optimum_valid", std::to_string(table.valid[std::size_t(table.best_code)])},
                        {"optimum_test", std::to_string(table.test[std::size_t(table.best_code)])},
                        {"description", "per strategy: best_valid and best_test [runs, evaluations]: valid_acc and "
                                        "test_acc (%) of the best-valid cell among the first k+1 distinct cells"}});
    if (!a.json) std::cout << "wrote " << a.out << "/tabular.h5\n";
  }
  return kExitOk;
}

}  // namespace gnas::app
