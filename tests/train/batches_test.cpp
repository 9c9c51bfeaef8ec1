// Seeded permutations and subsets (train/batches.h).
#include "gnas/train/batches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "gnas/core/error.h"

namespace gnas::train {
namespace {

TEST(SamplingTest, PermutationAndSubsetsAreValidAndSeeded) {
  Rng a(3), b(3);
  const auto p = permutation(1000, a);
  EXPECT_EQ(p, permutation(1000, b));
  EXPECT_EQ(std::set<int64_t>(p.begin(), p.end()).size(), 1000u);
  EXPECT_EQ(*std::min_element(p.begin(), p.end()), 0);
  EXPECT_EQ(*std::max_element(p.begin(), p.end()), 999);
  const auto s = sample_without_replacement(50, 20, a);
  EXPECT_EQ(s.size(), 20u);
  EXPECT_EQ(std::set<int64_t>(s.begin(), s.end()).size(), 20u);
  EXPECT_THROW(sample_without_replacement(5, 6, a), gnas::Error);
}

}  // namespace
}  // namespace gnas::train
