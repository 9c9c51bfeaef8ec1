// End-to-end: training-free fitness. gnas score's tables, gnas tabular over them, gnas search with a
// training-free fitness (no supernet training) and the hybrid's warm start; real processes and logs.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/h5_reader.h"
#include "support/process.h"

namespace {

using gnas::testing::H5;
using gnas::testing::Result;
using Genes = std::vector<uint8_t>;

Result run(const std::string& args) { return gnas::testing::run_shell(gnas::testing::gnas_exe() + " " + args); }
std::string temp_dir() { return gnas::testing::make_temp_dir("gnas_fitness"); }
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

const std::string kTable = "data/nasbench201/nasbench201_cifar10.csv";  // tests run in the source root
// A small scoring network: C = 2, N = 1, NASWOT on 8 images.
const char* const kTinyScore = " --score.channels 2 --score.cells 1 --score.batch 8 --threads 1 --no-progress";
const char* const kTinyProxy = " --proxy.channels 2 --proxy.cells 1 --proxy.batch 8";
// A training-free search: the supernet is built (C = 4) but never trained.
const char* const kTinyFree =
    " --space nb201 --net.channels 4 --net.cells 1 --ga.population 4 --ga.generation 6 --threads 1 --no-progress"
    " --proxy.channels 2 --proxy.cells 1 --proxy.batch 8";

const char* const kCells[] = {
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"};

/// The rows of a score table, by cell: "params,naswot,synflow".
std::map<std::string, std::string> rows_of(const std::string& path) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_text(path));
  std::string line;
  for (int n = 0; std::getline(in, line); ++n)
    if (n >= 3) out[line.substr(0, line.find(','))] = line.substr(line.find(',') + 1);
  return out;
}

TEST(ScoreCliTest, WritesContinuesAndRefusesAnotherSetup) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/two.txt") << "# two cells\n" << kCells[0] << "\n\n" << kCells[1] << "\n";
  Result r = run("score --cells " + dir + "/two.txt --out " + dir + "/s.csv" + kTinyScore);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "speed: ");
  EXPECT_CONTAINS(r.output, " cells/s (2 cells in ");
  const std::string first = read_text(dir + "/s.csv");
  EXPECT_EQ(first.rfind("# gnas score table v1\n# space=nb201 channels=2 cells=1 blocks=5 batch=8 seed=1 data=synthetic10 "
                        "train_images=3000\n"
                        "arch,params,naswot,synflow\n", 0), 0u) << first;
  auto rows = rows_of(dir + "/s.csv");
  ASSERT_EQ(rows.size(), 2u);
  // The all-3x3 cell has more parameters than a cell with one 1x1 convolution.
  EXPECT_GT(std::stod(rows[kCells[0]]), std::stod(rows[kCells[1]]));

  // A crash mid-row: the cut row is dropped, the same command scores what is missing.
  std::ofstream(dir + "/s.csv", std::ios::app) << kCells[2] << ",123";
  std::ofstream(dir + "/three.txt") << kCells[0] << "\n" << kCells[1] << "\n" << kCells[2] << "\n";
  r = run("score --cells " + dir + "/three.txt --out " + dir + "/s.csv" + kTinyScore);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "1 of 3 cells to score");
  const auto again = rows_of(dir + "/s.csv");
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again.at(kCells[0]), rows[kCells[0]]);  // untouched
  // Scoring the third alone in a new table gives the same row: a cell's scores do not depend on the others.
  std::ofstream(dir + "/one.txt") << kCells[2] << "\n";
  ASSERT_EQ(run("score --cells " + dir + "/one.txt --out " + dir + "/one.csv" + kTinyScore).exit_code, 0);
  EXPECT_EQ(rows_of(dir + "/one.csv").at(kCells[2]), again.at(kCells[2]));

  // Another setup into the same file: refused, naming what differs; --force replaces it.
  r = run("score --cells " + dir + "/two.txt --out " + dir + "/s.csv --score.channels 3 --score.cells 1 "
          "--score.batch 8 --threads 1 --no-progress");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "was scored with channels=2 (the other: 3)");
  EXPECT_EQ(read_text(dir + "/s.csv").size(), first.size() + again.at(kCells[2]).size() + std::string(kCells[2]).size() + 2);
  r = run("score --cells " + dir + "/two.txt --out " + dir + "/s.csv --force --score.channels 3 --score.cells 1 "
          "--score.batch 8 --threads 1 --no-progress");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(rows_of(dir + "/s.csv").size(), 2u);

  for (const auto& [args, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"--cells bogus:3", "is neither all, random:N, stratified:N nor a readable file"},
           {"--cells random:0", "N must be a whole number >= 1"},
           {"--cells stratified:5", "draws from the table's strata: give --table"},
           {"--cells all --space paper", "only NAS-Bench-201's space can be listed whole"},
           {"--scores naswot,jacov", "--scores: unknown score 'jacov'"},
           {"--score.batch 1", "--score.batch must be in [2, 4096]"},
           {"--space darts", "--space must be nb201 or paper"},
           {"--space paper --table " + kTable, "--table is NAS-Bench-201's"}}) {
    const Result bad = run("score --out " + dir + "/never.csv " + args);
    EXPECT_EQ(bad.exit_code, 2) << args << "\n" << bad.output;
    EXPECT_CONTAINS(bad.output, phrase);
  }
  std::ofstream(dir + "/bad.txt") << kCells[0] << "\n|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|\n";
  r = run("score --cells " + dir + "/bad.txt --out " + dir + "/never.csv" + kTinyScore);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "bad.txt:2: ");
  EXPECT_FALSE(std::ifstream(dir + "/never.csv").good());
}

// Stratified cells against the table: each score's tau and rho is printed, params as the floor; the
// table then feeds gnas tabular (random search among its cells only: it covers part of the space).
TEST(ScoreCliTest, StratifiedCellsRankAgainstTheTableAndFeedTabular) {
  if (!std::ifstream(kTable).good()) GTEST_SKIP() << kTable << " is absent";
  const std::string dir = temp_dir();
  Result r = run("score --cells stratified:24 --table " + kTable + " --out " + dir + "/s.csv" + kTinyScore);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "ranking of 24 cells against the table");
  for (const char* s : {"\nparams ", "\nnaswot ", "\nsynflow "}) EXPECT_CONTAINS(r.output, s);
  EXPECT_CONTAINS(r.output, "(the floor: a score should beat this)");
  r = run("tabular --table " + kTable + " --scores " + dir + "/s.csv --fitness naswot+synflow --strategy random "
          "--budget 5,24 --runs 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "\"budget\": 24, \"runs\": 3");
  EXPECT_CONTAINS(r.output, "\"fitness\": \"naswot+synflow\"}");
  // At budget 24 every run has seen all 24 cells: the same best cell, so no spread.
  EXPECT_CONTAINS(r.output, "\"budget\": 24, \"runs\": 3, \"test_mean\": ");
  const auto at = r.output.find("\"budget\": 24");
  EXPECT_CONTAINS(r.output.substr(at), "\"test_std\": 0.0000");

  for (const auto& [args, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"--fitness naswot", "--fitness naswot needs --scores FILE"},
           {"--scores " + dir + "/s.csv", "--scores is given but --fitness is valid"},
           {"--scores " + dir + "/s.csv --fitness jacov", "--fitness: unknown score 'jacov'"},
           {"--scores " + dir + "/s.csv --fitness naswot --ga.selection roulette", "--ga.selection roulette needs an accuracy"},
           {"--scores " + dir + "/s.csv --fitness naswot --strategy ga", "GA and REA can reach any cell"}}) {
    const Result bad = run("tabular --table " + kTable + " --runs 2 --budget 5 " + args);
    EXPECT_EQ(bad.exit_code, 2) << args << "\n" << bad.output;
    EXPECT_CONTAINS(bad.output, phrase);
  }
  // A table of the paper's space is no NAS-Bench-201 fitness.
  ASSERT_EQ(run("score --space paper --cells random:2 --out " + dir + "/paper.csv" + kTinyScore).exit_code, 0);
  r = run("tabular --table " + kTable + " --scores " + dir + "/paper.csv --fitness naswot --strategy random --budget 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "scores cells of the paper space");
}

int convs(const Genes& g) {
  int n = 0;
  for (uint8_t op : g) n += op == 2 || op == 3;
  return n;
}

// --search.fitness naswot+synflow: no training; each epoch scores the GA's generations; the ranking
// set is scored by the same fitness; the log names it; a resumed run continues exactly.
TEST(TrainingFreeSearchTest, NoTrainingScoresGenerationsRanksAndResumesExactly) {
  if (!std::ifstream(kTable).good()) GTEST_SKIP() << kTable << " is absent";
  const std::string dir = temp_dir();
  const std::string common = std::string(kTinyFree) + " --debug.table_on_synthetic --search.fitness naswot+synflow --nb201.table " + kTable +
                             " --nb201.rank_cells 10 --nb201.rank_every 1";
  Result r = run("search --out " + dir + "/a --train.epochs 3" + common);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "fitness naswot+synflow (training-free, C=2 N=1; the supernet is not trained)");
  EXPECT_CONTAINS(r.output, "cells scored ");
  EXPECT_CONTAINS(r.output, "(params: tau ");
  const H5 h(dir + "/a/log.h5");
  EXPECT_EQ(h.attr_string("fitness"), "naswot+synflow");
  const auto loss = h.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE);
  ASSERT_EQ(loss.size(), 3u);
  for (double l : loss) EXPECT_TRUE(std::isnan(l));
  EXPECT_EQ(h.shape("/nb201/ranking/kendall_tau"), std::vector<hsize_t>({3}));
  const auto tau = h.read<double>("/nb201/ranking/kendall_tau", H5T_NATIVE_DOUBLE);
  EXPECT_EQ(tau[0], tau[2]);  // the scores do not change between epochs: nothing is trained
  for (float p : h.read<float>("/nb201/ranking/table_params", H5T_NATIVE_FLOAT)) EXPECT_GT(p, 0.f);
  const auto fit = h.read<float>("/ga/generation/fitness", H5T_NATIVE_FLOAT);
  ASSERT_EQ(fit.size(), 3u * 2 * 6);
  for (float f : fit) EXPECT_TRUE(f <= 0.f && !std::isnan(f)) << f;  // sums of log(rank / n)
  EXPECT_TRUE(std::ifstream(dir + "/a/best_genome.json").good());

  // Stopped after 2 epochs, resumed to 3: the same generations and scores as the uninterrupted run.
  ASSERT_EQ(run("search --out " + dir + "/b --train.epochs 2" + common).exit_code, 0);
  r = run("search --out " + dir + "/b --resume --train.epochs 3" + common);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "scoring the run's 24 earlier cells again");
  const H5 hb(dir + "/b/log.h5");
  EXPECT_EQ(hb.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8),
            h.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8));
  EXPECT_EQ(hb.read<float>("/ga/generation/fitness", H5T_NATIVE_FLOAT), fit);

  // gnas runs names the fitness and shows the ranking's tau beside the floor's.
  r = run("runs " + dir + "/a --csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, ",strategy,fitness,");
  EXPECT_CONTAINS(r.output, ",tau,tau_params,");
  EXPECT_CONTAINS(r.output, ",ga,naswot+synflow,");
}

// A single score is the fitness itself, and it is the score table's: the search draws NASWOT's
// images as gnas score does, and scores each cell with the same seed.
TEST(TrainingFreeSearchTest, FitnessEqualsTheScoreTablesForTheSameSeed) {
  const std::string dir = temp_dir();
  Result r = run("search --out " + dir + "/run --train.epochs 1 --search.generations_per_epoch 1 --search.fitness naswot" +
                 std::string(kTinyFree));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const H5 h(dir + "/run/log.h5");
  const auto genomes = h.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8);
  const auto fit = h.read<float>("/ga/generation/fitness", H5T_NATIVE_FLOAT);
  static const char* ops[] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};
  std::ofstream list(dir + "/cells.txt");
  std::vector<std::string> archs;
  for (std::size_t i = 0; i + 6 <= genomes.size(); i += 6) {
    auto e = [&](int k, int from) { return std::string(ops[genomes[i + std::size_t(k)]]) + "~" + std::to_string(from) + "|"; };
    archs.push_back("|" + e(0, 0) + "+|" + e(1, 0) + e(2, 1) + "+|" + e(3, 0) + e(4, 1) + e(5, 2));
    list << archs.back() << "\n";
  }
  list.close();
  ASSERT_EQ(run("score --cells " + dir + "/cells.txt --scores naswot --out " + dir + "/s.csv" + kTinyScore).exit_code, 0);
  const auto rows = rows_of(dir + "/s.csv");
  ASSERT_EQ(archs.size(), fit.size());
  for (std::size_t i = 0; i < archs.size(); ++i) {
    const std::string& row = rows.at(archs[i]);
    const double naswot = std::stod(row.substr(row.find(',') + 1));
    EXPECT_EQ(fit[i], float(naswot)) << archs[i];
  }
  // --proxy.table: the same run from the table's scores (nothing left to compute), and a table of
  // another setup refused, naming the key.
  r = run("search --out " + dir + "/from-table --train.epochs 1 --search.generations_per_epoch 1 --search.fitness "
          "naswot --proxy.table " + dir + "/s.csv" + std::string(kTinyFree));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const H5 ht(dir + "/from-table/log.h5");
  EXPECT_EQ(ht.read<float>("/ga/generation/fitness", H5T_NATIVE_FLOAT), fit);
  EXPECT_EQ(ht.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8), genomes);
  r = run("search --out " + dir + "/never --train.epochs 1 --search.fitness naswot --proxy.table " + dir +
          "/s.csv --seed 2" + std::string(kTinyFree));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "was scored with seed=1 (the other: 2)");
  r = run("search --out " + dir + "/never --train.epochs 1 --search.fitness naswot --proxy.table " + dir +
          "/s.csv" + std::regex_replace(std::string(kTinyFree), std::regex("--proxy.channels 2"), "--proxy.channels 3"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--proxy.table " + dir + "/s.csv was scored with channels=2 (the other: 3)");
}

// The hybrid: the supernet fitness, with the first generation chosen by a training-free score from a
// warm-start pool. Parameter count as the score: the first generation is far heavier in convolutions.
TEST(HybridSearchTest, WarmStartPicksTheFirstGenerationByTheScore) {
  const std::string dir = temp_dir();
  const std::string tiny = " --space nb201 --net.channels 4 --net.cells 1 --train.epochs 1 --train.batch 32 "
                           "--data.synthetic_train 128 --data.synthetic_val 60 --search.n_v 30 --ga.population 4 "
                           "--ga.generation 6 --search.generations_per_epoch 1 --threads 1 --no-progress";
  Result r = run("search --out " + dir + "/warm --proxy.warm_start 200 --proxy.score params" + tiny + kTinyProxy);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "warm start: scoring 200 random cells with params");
  ASSERT_EQ(run("search --out " + dir + "/plain" + tiny).exit_code, 0);
  const auto warm = H5(dir + "/warm/log.h5").read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8);
  const auto plain = H5(dir + "/plain/log.h5").read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8);
  int warm_convs = 0, plain_convs = 0;
  for (std::size_t i = 0; i < 36; i += 6) {
    const int w = convs(Genes(warm.begin() + long(i), warm.begin() + long(i + 6)));
    EXPECT_GE(w, 4) << "a first-generation cell of the warm start has " << w << " convolutions";
    warm_convs += w;
    plain_convs += convs(Genes(plain.begin() + long(i), plain.begin() + long(i + 6)));
  }
  EXPECT_GT(warm_convs, plain_convs + 6);
  EXPECT_EQ(H5(dir + "/warm/log.h5").attr_string("fitness"), "supernet");

  for (const auto& [args, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"--search.fitness jacov", "--search.fitness: unknown fitness 'jacov'"},
           {"--search.fitness naswot+naswot", "'naswot' is named twice"},
           {"--proxy.channels 8", "--proxy.* configures a training-free score, but --search.fitness is supernet"},
           {"--search.fitness naswot --ga.selection roulette", "--ga.selection roulette needs an accuracy"},
           {"--search.fitness naswot --search.rescore population", "--search.rescore population re-scores"},
           {"--proxy.warm_start 3", "must be 0 or at least --ga.generation"},
           {"--proxy.warm_start 50 --proxy.score valid", "--proxy.score: unknown fitness 'valid'"}}) {
    const Result bad = run("search --out " + dir + "/never " + args + tiny);
    EXPECT_EQ(bad.exit_code, 2) << args << "\n" << bad.output;
    EXPECT_CONTAINS(bad.output, phrase);
  }
}

}  // namespace
