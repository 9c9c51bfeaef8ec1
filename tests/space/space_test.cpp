// The search-space interface: both spaces through it, the nb201 encoding and ranking set, and the
// rank correlations that score a supernet.
#include "gnas/space/space.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "gnas/core/error.h"
#include "gnas/ga/operators.h"
#include "gnas/space/nb201.h"

namespace gnas::space {
namespace {

namespace nb = nb201;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::string write(const std::string& name, const std::string& body) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << body;
  return path;
}

TEST(SpaceTest, BothSpacesRoundTripThroughTheInterface) {
  for (const std::string name : {"paper", "nb201"}) {
    const auto space = make_space(name, 5);
    EXPECT_EQ(space->name(), name);
    Rng r(3);
    for (int i = 0; i < 50; ++i) {
      const Genome g = ga::random_genome(space->genes(), r);
      EXPECT_NO_THROW(space->validate(g));
      EXPECT_EQ(space->parse_text(space->to_text(g)), g) << name;
      const std::string json = write(name + "_g.json", space->to_json(g, 12.5, NetCompat::kPaper));
      EXPECT_EQ(load_genome(*space, json), g) << name;
      EXPECT_EQ(json_space(space->to_json(g, -1, NetCompat::kPaper)), name);
      EXPECT_NE(space->to_dot(g, NetCompat::kPaper).find("digraph"), std::string::npos);
    }
    // The machine-readable layout names every gene and its range.
    const auto layout = nlohmann::json::parse(space->layout_json());
    EXPECT_EQ(layout["space"], name);
    ASSERT_EQ(int(layout["genes"].size()), space->length());
    for (int i = 0; i < space->length(); ++i) EXPECT_EQ(layout["genes"][i]["range"], space->genes().gene_range(i));
    EXPECT_EQ(layout["op_names"].size(), space->op_names().size());
  }
  EXPECT_EQ(make_space("paper", 5)->length(), 60);
  EXPECT_EQ(make_space("nb201", 5)->length(), 6);
  EXPECT_THAT([] { make_space("darts", 5); }, ThrowsMessage<ConfigError>(HasSubstr("--space must be paper | nb201")));
}

TEST(SpaceTest, Nb201ReadsTheBenchmarksCellStringAndIntegers) {
  const auto space = make_space("nb201", 5);
  const std::string optimum = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
  const Genome g = space->parse_text(optimum);
  EXPECT_EQ(g, Genome({3, 3, 3, 1, 3, 3}));
  EXPECT_EQ(space->benchmark_string(g), optimum);
  EXPECT_EQ(load_genome(*space, optimum), g);
  EXPECT_EQ(load_genome(*space, "3,3,3,1,3,3"), g);
  EXPECT_EQ(nb::decode(nb::encode(g)), g);
  EXPECT_EQ(make_space("paper", 5)->benchmark_string(Genome(60, 0)), "");
}

/// A genome of one space given to the other: refused, naming both and what to pass.
TEST(SpaceTest, AGenomeOfTheOtherSpaceIsRefused) {
  const auto paper = make_space("paper", 5), nb201 = make_space("nb201", 5);
  const std::string nb_json = write("nb.json", nb201->to_json(Genome(6, 1), -1, NetCompat::kPaper));
  const std::string paper_json = write("paper.json", paper->to_json(Genome(60, 0), -1, NetCompat::kPaper));
  EXPECT_THAT([&] { load_genome(*paper, nb_json); },
              ThrowsMessage<ConfigError>(HasSubstr("nb.json: a genome of the nb201 space, but this run's space is "
                                                   "paper (--space paper); pass --space nb201")));
  EXPECT_THAT([&] { load_genome(*nb201, paper_json); },
              ThrowsMessage<ConfigError>(HasSubstr("a genome of the paper space, but this run's space is nb201")));
  EXPECT_THAT([&] { load_genome(*paper, "1 1 1 1 1 1"); },
              ThrowsMessage<ConfigError>(HasSubstr("6 genes is a NAS-Bench-201 cell: pass --space nb201")));
  std::string sixty_zeros = "0";
  for (int i = 1; i < 60; ++i) sixty_zeros += " 0";
  EXPECT_THAT([&] { load_genome(*nb201, sixty_zeros); },
              ThrowsMessage<ConfigError>(HasSubstr("a genome of the paper's space? pass --space paper")));
  EXPECT_THAT([&] { load_genome(*nb201, "|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"); },
              ThrowsMessage<ConfigError>(HasSubstr("unknown op 'nor_conv_5x5'")));
  EXPECT_THAT([&] { load_genome(*nb201, "0 1 2 3 4 5"); },
              ThrowsMessage<ConfigError>(HasSubstr("edge 2->3 is 5, allowed range is [0, 4]")));
}

/// A synthetic table: test accuracy rises with the cell code, so strata are known.
nb::Table rising_table() {
  nb::Table t;
  for (int c = 0; c < nb::kCells; ++c) {
    t.test.push_back(10 + 80.f * float(c) / nb::kCells);
    t.valid.push_back(t.test.back());
  }
  return t;
}

TEST(RankingSetTest, OneDistinctCellFromEachStratumDrawnBySeed) {
  const nb::Table t = rising_table();
  Rng a(1), b(1), c(2);
  const auto set = nb::ranking_set(t, 100, a);
  ASSERT_EQ(set.size(), 100u);
  EXPECT_EQ(std::set<int>(set.begin(), set.end()).size(), 100u);
  for (int s = 0; s < 100; ++s) {  // stratum s holds codes [s * 15625 / 100, (s + 1) * 15625 / 100)
    EXPECT_GE(set[std::size_t(s)], s * nb::kCells / 100);
    EXPECT_LT(set[std::size_t(s)], (s + 1) * nb::kCells / 100);
  }
  EXPECT_EQ(nb::ranking_set(t, 100, b), set);
  EXPECT_NE(nb::ranking_set(t, 100, c), set);
  EXPECT_THROW(nb::ranking_set(t, 0, a), ConfigError);
}

/// Rank and share below, worked out from the rising table: code c has exactly c cells below it;
/// a tie shares the better rank.
TEST(RankingSetTest, StandingOfACellAmongTheTable) {
  nb::Table t = rising_table();
  const auto top = nb::standing_of(t, nb::decode(nb::kCells - 1));
  EXPECT_EQ(top.rank, 1);
  EXPECT_DOUBLE_EQ(top.below_pct, 100.0 * (nb::kCells - 1) / nb::kCells);
  const auto bottom = nb::standing_of(t, nb::decode(0));
  EXPECT_EQ(bottom.rank, nb::kCells);
  EXPECT_DOUBLE_EQ(bottom.below_pct, 0.0);
  const auto mid = nb::standing_of(t, nb::decode(10000));
  EXPECT_EQ(mid.rank, nb::kCells - 10000);
  EXPECT_DOUBLE_EQ(mid.below_pct, 100.0 * 10000 / nb::kCells);
  t.test[10001] = t.test[10000];  // tied with the cell above it: both take the tie's best rank
  EXPECT_EQ(nb::standing_of(t, nb::decode(10000)).rank, nb::kCells - 10001);
  EXPECT_EQ(nb::standing_of(t, nb::decode(10001)).rank, nb::kCells - 10001);
  double sum = 0;
  for (float x : t.test) sum += x;
  EXPECT_DOUBLE_EQ(nb::mean_test(t), sum / nb::kCells);
}

}  // namespace
}  // namespace gnas::space
