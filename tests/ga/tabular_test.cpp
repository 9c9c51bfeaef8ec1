#include "gnas/ga/tabular.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "gnas/core/error.h"

namespace gnas::ga::nb201 {
namespace {

/// A complete synthetic table: valid = a hash of the code in [50, 90), one cell (code 777) at 95;
/// test = valid + 1. `edit` may change the text before it is written.
std::string write_table(const std::string& name, const std::function<void(std::string&)>& edit = {}) {
  std::ostringstream out;
  out << "index,arch,params_m,valid_acc,test_acc\n";
  for (int code = 0; code < kCells; ++code) {
    const double valid = code == 777 ? 95.0 : 50.0 + double((code * 7919) % 4000) / 100.0;
    out << code << "," << arch_string(decode(code)) << ",0.1," << valid << "," << valid + 1 << "\n";
  }
  std::string text = out.str();
  if (edit) edit(text);
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Nb201Test, EncodingRoundTripsForEveryCell) {
  std::set<std::string> archs;
  for (int code = 0; code < kCells; ++code) {
    ASSERT_EQ(encode(decode(code)), code);
    archs.insert(arch_string(decode(code)));
  }
  EXPECT_EQ(archs.size(), std::size_t(kCells));
  // The benchmark's own string of one cell: gene i is edge i in the order 0->1 | 0->2, 1->2 | 0->3, 1->3, 2->3.
  const Genome g = {3, 3, 4, 1, 3, 1};
  EXPECT_EQ(arch_string(g),
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|");
  const GeneSpace s = gene_space();
  EXPECT_EQ(s.length(), 6);
  EXPECT_EQ(s.block_starts, std::vector<int>({0, 1, 3}));
}

TEST(Nb201Test, TableLookUpAndOptimum) {
  const Table t = load_table(write_table("nb_ok.csv"));
  EXPECT_EQ(t.best_code, 777);
  const int code = encode({1, 2, 3, 4, 0, 1});
  EXPECT_FLOAT_EQ(t.valid[std::size_t(code)], float(50.0 + double((code * 7919) % 4000) / 100.0));
  EXPECT_FLOAT_EQ(t.test[std::size_t(code)], t.valid[std::size_t(code)] + 1.f);
}

/// Every strategy looks up exactly `budget` distinct cells; the curve never goes down; with the
/// whole space as the budget, each ends at the optimum.
TEST(Nb201Test, BudgetCountsDistinctCells) {
  const Table t = load_table(write_table("nb_budget.csv"));
  for (int budget : {1, 37, kCells}) {
    Rng r1(1, 1), r2(1, 2), r3(1, 3);
    GaOptions ga;
    const Curve curves[] = {run_ga(t, ga, budget, r1), run_random(t, budget, r2), run_rea(t, {}, budget, r3)};
    for (const Curve& c : curves) {
      ASSERT_EQ(c.best_valid.size(), std::size_t(budget));
      ASSERT_EQ(c.best_test.size(), std::size_t(budget));
      for (std::size_t k = 1; k < c.best_valid.size(); ++k) {
        ASSERT_GE(c.best_valid[k], c.best_valid[k - 1]);
      }
      for (std::size_t k = 0; k < c.best_valid.size(); ++k) {
        ASSERT_EQ(c.best_test[k], t.test[std::size_t(c.best_code[k])]);
      }
      if (budget == kCells) {
        EXPECT_EQ(c.best_code.back(), 777);
      }
    }
  }
  Rng r(1);
  EXPECT_THROW(run_random(t, kCells + 1, r), ConfigError);
  EXPECT_THROW(run_ga(t, GaOptions{}, 0, r), ConfigError);
}

/// Same seed, same curve; random search at budget 1 is one uniform draw (its mean over many runs
/// is the table's mean valid_acc within a stated tolerance).
TEST(Nb201Test, SeededAndRandomIsUniform) {
  const Table t = load_table(write_table("nb_seed.csv"));
  Rng a(4, 9), b(4, 9);
  EXPECT_EQ(run_ga(t, GaOptions{}, 200, a).best_code, run_ga(t, GaOptions{}, 200, b).best_code);
  double table_mean = 0, sample_mean = 0;
  for (float v : t.valid) table_mean += v / kCells;
  Rng r(5);
  const int n = 20000;
  for (int i = 0; i < n; ++i) sample_mean += run_random(t, 1, r).best_valid[0] / n;
  // valid is spread over [50, 90): std about 11.5, so the mean of 20,000 draws is within 0.35 (4 sigma).
  EXPECT_NEAR(sample_mean, table_mean, 0.35);
}

void expect_data_error(const std::string& path, const std::string& phrase) {
  EXPECT_THAT([&] { load_table(path); }, ::testing::ThrowsMessage<DataError>(::testing::HasSubstr(phrase))) << path;
}

TEST(Nb201Test, BadTablesNameTheFileTheLineAndTheProblem) {
  expect_data_error(::testing::TempDir() + "no_such_table.csv", "no_such_table.csv: cannot read the table");
  expect_data_error(write_table("nb_header.csv", [](std::string& s) { s.replace(0, 5, "INDEX"); }),
                    "nb_header.csv:1: expected the header 'index,arch,params_m,valid_acc,test_acc', got 'INDEX,arch");
  expect_data_error(write_table("nb_short.csv", [](std::string& s) { s.resize(s.rfind('\n', s.size() - 2) + 1); }),
                    "nb_short.csv:15625: 15624 cells, but NAS-Bench-201 has 15625");
  expect_data_error(write_table("nb_op.csv", [](std::string& s) {
                      const auto at = s.find("none", s.find('\n', s.find('\n') + 1));
                      s.replace(at, 4, "zero");
                    }),
                    "nb_op.csv:3: unknown op 'zero'");
  expect_data_error(write_table("nb_dup.csv", [](std::string& s) {
                      // Line 3 (code 1) becomes a copy of line 2's cell (code 0).
                      const auto l2 = s.find('\n') + 1, l3 = s.find('\n', l2) + 1, l4 = s.find('\n', l3) + 1;
                      std::string line2 = s.substr(l2, l3 - l2);
                      s.replace(l3, l4 - l3, line2);
                    }),
                    "nb_dup.csv:3: duplicate cell |none~0|+|none~0|none~1|+|none~0|none~1|none~2| (first on line 2)");
  expect_data_error(write_table("nb_num.csv", [](std::string& s) {
                      const auto l2 = s.find('\n') + 1;
                      const auto comma = s.rfind(',', s.find('\n', l2));
                      s.replace(comma + 1, 2, "x9");
                    }),
                    "nb_num.csv:2: test_acc 'x9");
  expect_data_error(write_table("nb_fields.csv", [](std::string& s) { s.insert(s.find('\n') + 1, "1,2\n"); }),
                    "nb_fields.csv:2: expected 5 comma-separated fields, got 2");
}

/// The numbers are read strictly (issue 29's attack: each of these was accepted, or refused with a
/// message that hid the carriage return).
TEST(Nb201Test, TableNumbersAreReadStrictly) {
  const auto line2 = [](std::string& s) { return s.find('\n') + 1; };
  expect_data_error(write_table("nb_comma.csv", [&](std::string& s) { s.insert(s.find('\n', line2(s)), ","); }),
                    "nb_comma.csv:2: expected 5 comma-separated fields, got 6 (a trailing comma)");
  expect_data_error(write_table("nb_crlf_comma.csv",
                                [&](std::string& s) {
                                  std::string crlf;
                                  for (char c : s) crlf += c == '\n' ? std::string(",\r\n") : std::string(1, c);
                                  crlf.replace(0, crlf.find('\r') + 1, "index,arch,params_m,valid_acc,test_acc\r");
                                  s = crlf;
                                }),
                    "nb_crlf_comma.csv:2: expected 5 comma-separated fields, got 6 (a trailing comma)");
  expect_data_error(write_table("nb_cr_inside.csv", [&](std::string& s) { s.insert(line2(s), "\r"); }),
                    "nb_cr_inside.csv:2: index '\\x0d0' is not");  // the CR shown, not hidden
  expect_data_error(write_table("nb_exp_index.csv",
                                [&](std::string& s) { s.replace(line2(s), s.find(',', line2(s)) - line2(s), "1e3"); }),
                    "nb_exp_index.csv:2: index '1e3' is not a non-negative integer written in digits");
  expect_data_error(write_table("nb_dup_index.csv",
                                [&](std::string& s) {
                                  const auto l3 = s.find('\n', line2(s)) + 1;
                                  s.replace(l3, s.find(',', l3) - l3, s.substr(line2(s), s.find(',', line2(s)) - line2(s)));
                                }),
                    "nb_dup_index.csv:3: duplicate index");
  expect_data_error(write_table("nb_hex.csv",
                                [&](std::string& s) {
                                  const auto comma = s.rfind(',', s.find('\n', line2(s)));
                                  s.replace(comma + 1, s.find('\n', line2(s)) - comma - 1, "0x5A");
                                }),
                    "nb_hex.csv:2: test_acc '0x5A' is not a percentage");
  for (const char* bad : {"nan", "inf", " 90", "90 ", "+"})
    expect_data_error(write_table("nb_bad_number.csv",
                                  [&](std::string& s) {
                                    const auto comma = s.rfind(',', s.find('\n', line2(s)));
                                    s.replace(comma + 1, s.find('\n', line2(s)) - comma - 1, bad);
                                  }),
                      "nb_bad_number.csv:2: test_acc '");
}

/// The shipped benchmark file (data/nasbench201/, tests run in the source root), with the checks
/// its README states.
TEST(Nb201Test, ShippedTableMatchesItsReadme) {
  const Table t = load_table("data/nasbench201/nasbench201_cifar10.csv");
  EXPECT_EQ(t.index[std::size_t(t.best_code)], 6111);
  EXPECT_NEAR(t.valid[std::size_t(t.best_code)], 91.61, 0.005);
  EXPECT_NEAR(t.test[std::size_t(t.best_code)], 94.37, 0.005);
  double mean = 0;
  for (float v : t.test) mean += v / kCells;
  EXPECT_NEAR(mean, 87.06, 0.005);
  const int all_skip = encode(Genome(kEdges, 1));
  EXPECT_NEAR(t.valid[std::size_t(all_skip)], 39.77, 0.005);
  EXPECT_NEAR(t.test[std::size_t(all_skip)], 54.30, 0.005);
}

}  // namespace
}  // namespace gnas::ga::nb201
