// Score tables (fitness/score_table.h), rank selection with training-free scores, and tabular
// searches over a score: plain C++.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>

#include "gnas/core/error.h"
#include "gnas/core/stats.h"
#include "gnas/fitness/score_table.h"
#include "gnas/ga/operators.h"
#include "gnas/ga/tabular.h"

namespace {

using namespace gnas::fitness;

std::string write_temp(const std::string& body) {
  char path[] = "/tmp/gnas_scoresXXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << body;
  return path;
}

const std::string kHead = std::string(kScoreTableMagic) +
                          "\n# space=nb201 channels=16 cells=5 blocks=5 batch=128 seed=1 data=cifar10 train_images=45000\n"
                          "arch,params,naswot,synflow\n";
const std::string kRowA = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|,1000,10.5,3.25\n";
const std::string kRowB = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|,500,-inf,1e-3\n";

TEST(ScoreTableTest, RoundTripsRowsAndSetup) {
  ScoreSetup setup;
  setup.channels = 8;
  setup.seed = 42;
  setup.data = "cifar10";
  setup.train_images = 45000;
  ScoreRow r{"|a|", 1234, -std::numeric_limits<double>::infinity(), 61.123456789012345};
  ScoreRow q{"|b|", 7, 2095.5, std::nan("")};
  const std::string path = write_temp(score_table_header(setup) + score_row_line(r) + score_row_line(q));
  const ScoreTable t = read_score_table(path);
  EXPECT_EQ(t.setup.difference(setup), "");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].arch, "|a|");
  EXPECT_EQ(t.rows[0].params, 1234);
  EXPECT_TRUE(std::isinf(t.rows[0].naswot) && t.rows[0].naswot < 0);
  EXPECT_EQ(t.rows[0].synflow, 61.123456789012345);  // 17 significant digits: exact
  EXPECT_TRUE(std::isnan(t.rows[1].synflow));
  ScoreSetup other = setup;
  other.batch = 64;
  EXPECT_EQ(t.setup.difference(other), "batch=128 (the other: 64)");
  std::remove(path.c_str());
}

TEST(ScoreTableTest, CutOffLastRowIsDroppedAndAppendsStartBeforeIt) {
  const std::string path = write_temp(kHead + kRowA + "|none~0|+|none~0|none~1|+|ski");
  const ScoreTable t = read_score_table(path);
  EXPECT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.valid_bytes, kHead.size() + kRowA.size());
  std::remove(path.c_str());
}

TEST(ScoreTableTest, BadFilesAreRefusedWithTheLineAndTheReason) {
  const struct {
    std::string body, phrase;
  } cases[] = {
      {"index,arch\n", "not a gnas score table"},
      {"\xEF\xBB\xBF" + kHead, "byte-order mark"},
      {std::string(kScoreTableMagic) + "\n# space=nb201 channels=16\narch,params,naswot,synflow\n", "has no cells="},
      {std::string(kScoreTableMagic) + "\n# space=nb201 channels=0x10 cells=5 blocks=5 batch=128 seed=1 data=c train_images=9\n" +
           "arch,params,naswot,synflow\n", "channels=0x10 is not a whole number"},
      {std::string(kScoreTableMagic) + "\n# space=nb201 channels=16 cells=5 blocks=5 batch=128 seed=1 data=c train_images=9 x=1\n" +
           "arch,params,naswot,synflow\n", "9 keys"},
      {std::string(kScoreTableMagic) + "\nspace=nb201\n", "expected the setup line"},
      {kHead.substr(0, kHead.size() - 1) + ",extra\n", "expected the columns"},
      {kHead + "|x|,1,2\n", ":4: 3 fields, expected 4"},
      {kHead + "|x|,1,2,3,\n", ":4: 5 fields"},
      {kHead + "|x|,1,0x5A,3\n", "naswot '0x5A' is not a number"},
      {kHead + "|x|,1,2, 3\n", "synflow ' 3' is not a number"},
      {kHead + "|x|,1,inf,3\n", "naswot +inf"},
      {kHead + "|x|,1.5,2,3\n", "params '1.5' is not a parameter count"},
      {kHead + "|x|,-1,2,3\n", "not a parameter count"},
      {kHead + kRowA + kRowA, ":5: the cell |nor_conv_3x3~0|"},
      {kHead + "|x|,1,2,3\r\n", "carriage return"},
      {kHead.substr(0, 30), "three header lines"},
  };
  for (const auto& c : cases) {
    const std::string path = write_temp(c.body);
    try {
      read_score_table(path);
      ADD_FAILURE() << "accepted: " << c.body;
    } catch (const gnas::DataError& e) {
      EXPECT_NE(std::string(e.what()).find(c.phrase), std::string::npos) << e.what() << "\nexpected: " << c.phrase;
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    std::remove(path.c_str());
  }
  EXPECT_THROW(read_score_table("/nonexistent/scores.csv"), gnas::Error);
}

TEST(ScoreTableTest, ScoreListsAndCombinedFitnessBySumOfLogRanks) {
  EXPECT_EQ(parse_score_list("naswot", "fitness"), std::vector<ScoreKind>{ScoreKind::kNaswot});
  EXPECT_EQ(parse_score_list("synflow+naswot", "fitness"),
            (std::vector<ScoreKind>{ScoreKind::kSynflow, ScoreKind::kNaswot}));
  for (const char* bad : {"", "naswot+", "jacov", "naswot+naswot", "valid"}) {
    try {
      parse_score_list(bad, "fitness");
      ADD_FAILURE() << bad;
    } catch (const gnas::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--fitness"), std::string::npos) << e.what();
    }
  }
  ScoreTable t;
  t.rows = {{"a", 10, 1.0, 5.0}, {"b", 20, 3.0, 4.0}, {"c", 30, 2.0, 6.0}, {"d", 40, -INFINITY, 4.0}};
  EXPECT_EQ(combined_fitness(t, {ScoreKind::kNaswot}), (std::vector<double>{1.0, 3.0, 2.0, -INFINITY}));
  // naswot ranks (ascending): a 2, b 4, c 3, d 1; synflow: a 3, b 1.5, c 4, d 1.5 (tied: mean rank).
  const auto f = combined_fitness(t, {ScoreKind::kNaswot, ScoreKind::kSynflow});
  const double n = 4;
  EXPECT_DOUBLE_EQ(f[0], std::log(2 / n) + std::log(3 / n));
  EXPECT_DOUBLE_EQ(f[1], std::log(4 / n) + std::log(1.5 / n));
  EXPECT_DOUBLE_EQ(f[2], std::log(3 / n) + std::log(4 / n));
  EXPECT_DOUBLE_EQ(f[3], std::log(1 / n) + std::log(1.5 / n));
  t.rows[2].synflow = std::nan("");
  EXPECT_THROW(combined_fitness(t, {ScoreKind::kSynflow}), gnas::DataError);
}

// Rank selection draws the k-th worst of n with probability k / (n(n+1)/2); -inf is the worst.
TEST(RankSelectionTest, LinearRankingProbabilitiesAndMinusInfinity) {
  const std::vector<float> fitness = {2095.f, -INFINITY, 1800.f, 2000.f};  // ranks 4, 1, 2, 3
  gnas::Rng rng(9, 0);
  std::vector<int> count(4, 0);
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) ++count[gnas::ga::select_parent(fitness, gnas::ga::Selection::kRank, rng)];
  const double expected[4] = {0.4, 0.1, 0.2, 0.3};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(double(count[std::size_t(i)]) / draws, expected[i], 0.006) << i;  // > 4 sigma
  // Roulette would refuse these (negative fitness); rank selection takes any real number.
  const std::vector<float> negative = {-3.f, -1.f};
  EXPECT_ANY_THROW(gnas::ga::select_parent(negative, gnas::ga::Selection::kRoulette, rng));
  EXPECT_NO_THROW(gnas::ga::select_parent(negative, gnas::ga::Selection::kRank, rng));
  EXPECT_ANY_THROW(gnas::ga::select_parent({1.f, NAN}, gnas::ga::Selection::kRank, rng));
}

// Kendall's tau compares signs, not differences: -inf - -inf is NaN, and ties at -inf are ties.
TEST(RankSelectionTest, KendallTauTakesInfiniteScores) {
  const std::vector<double> y = {1, 2, 3, 4, 5};
  const std::vector<double> with_inf = {-INFINITY, -INFINITY, 1.0, 2.0, 3.0};
  const std::vector<double> finite = {-1e300, -1e300, 1.0, 2.0, 3.0};
  EXPECT_DOUBLE_EQ(gnas::kendall_tau(with_inf, y), gnas::kendall_tau(finite, y));
  EXPECT_NEAR(gnas::kendall_tau(with_inf, y), 9.0 / std::sqrt(9.0 * 10.0), 1e-12);  // one tie in x
}

// A GA whose members score -inf (singular NASWOT kernels) replaces and breeds as usual: they sort last.
TEST(RankSelectionTest, GaHandlesMinusInfinityScores) {
  const auto space = gnas::space::nb201::gene_space();
  gnas::Rng rng(10, 0);
  gnas::ga::GaOptions opt;
  opt.population = 4;
  opt.generation = 6;
  opt.selection = gnas::ga::Selection::kRank;
  std::vector<gnas::ga::Member> scored;
  for (const auto& g : gnas::ga::random_generation(space, 6, rng))
    scored.push_back({g, scored.size() % 2 ? -INFINITY : float(scored.size())});
  const auto r = gnas::ga::replace({}, scored, opt.population);
  ASSERT_EQ(r.population.size(), 4u);
  EXPECT_EQ(r.population[0].fitness, 4.f);
  EXPECT_EQ(r.population[2].fitness, 0.f);
  EXPECT_TRUE(std::isinf(r.population[3].fitness));
  EXPECT_EQ(gnas::ga::next_generation(space, opt, r.population, rng).size(), 6u);
}

// With a fitness of the table's own valid_acc, the Fitness overloads give the old curves; random
// search over a partial score table draws only its cells.
TEST(TabularFitnessTest, ValidFitnessMatchesAndPartialTablesStayInside) {
  namespace nb = gnas::ga::nb201;
  nb::Table t;
  t.valid.resize(nb::kCells);
  t.test.resize(nb::kCells);
  for (int c = 0; c < nb::kCells; ++c) {
    t.valid[std::size_t(c)] = float((c * 7919) % 10007) / 100.f;
    t.test[std::size_t(c)] = float((c * 104729) % 10007) / 100.f;
  }
  gnas::ga::GaOptions opt;
  gnas::Rng r1(1, 0), r2(1, 0);
  const auto a = nb::run_ga(t, opt, 200, r1);
  const auto b = nb::run_ga(t, nb::valid_fitness(t), opt, 200, r2);
  EXPECT_EQ(a.best_code, b.best_code);
  // A score that is the test accuracy itself: best of N by it is the best test among the cells drawn.
  nb::Fitness f;
  f.name = "test";
  f.accuracy = false;
  f.by_code.assign(std::size_t(nb::kCells), std::nan(""));
  for (int c = 0; c < nb::kCells; c += 5) {
    f.by_code[std::size_t(c)] = t.test[std::size_t(c)];
    f.codes.push_back(c);
  }
  gnas::Rng r3(2, 0);
  const auto c = nb::run_random(t, f, 300, r3);
  for (std::size_t k = 0; k < c.best_code.size(); ++k) {
    EXPECT_EQ(c.best_code[k] % 5, 0);
    EXPECT_EQ(c.best_test[k], t.test[std::size_t(c.best_code[k])]);
    if (k) EXPECT_GE(c.best_test[k], c.best_test[k - 1]);
  }
  gnas::Rng r4(3, 0);
  EXPECT_THROW(nb::run_ga(t, f, opt, 100, r4), gnas::DataError);  // the GA leaves the scored cells
  gnas::Rng r5(4, 0);
  EXPECT_THROW(nb::run_random(t, f, 4000, r5), gnas::ConfigError);  // more than the 3,125 scored
}

}  // namespace
