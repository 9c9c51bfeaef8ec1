// Rank correlations (core/stats.h): exact values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "gnas/core/stats.h"

namespace gnas {
namespace {

/// Exact values worked out by hand.
TEST(RankCorrelationTest, KendallTauBAndSpearmanRho) {
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6.0);  // 5 concordant, 1 discordant
  EXPECT_DOUBLE_EQ(spearman_rho({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8);       // 1 - 6 * 2 / (4 * 15)
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 2, 3}, {1, 2, 3, 3}), 0.8);        // tau-b: 4 / sqrt(5 * 5)
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3}, {3, 2, 1}), -1.0);
  EXPECT_DOUBLE_EQ(spearman_rho({1, 2, 3}, {30, 20, 10}), -1.0);
  EXPECT_EQ(mean_ranks({10, 20, 20, 5}), std::vector<double>({2, 3.5, 3.5, 1}));
  // Ties averaged: ranks x (1, 2.5, 2.5, 4) against y (1, 2, 3, 4): Pearson of the ranks.
  const double rho = spearman_rho({1, 2, 2, 3}, {1, 2, 3, 4});
  EXPECT_NEAR(rho, 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
  EXPECT_TRUE(std::isnan(kendall_tau({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman_rho({1}, {1})));
  EXPECT_THROW(kendall_tau({1, 2}, {1}), std::invalid_argument);
}

}  // namespace
}  // namespace gnas
