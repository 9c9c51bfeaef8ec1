#include "gnas/ga/operators.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "gnas/core/error.h"

namespace gnas::ga {
namespace {

SearchSpace space() { return SearchSpace{}; }
GeneSpace genes(const SearchSpace& s) { return space::paper_gene_space(s); }

Genome filled(int value_mod) {  // a valid genome: every gene = value_mod mod its range
  const SearchSpace s;
  Genome g(s.length());
  for (int i = 0; i < s.length(); ++i) g[i] = static_cast<std::uint8_t>(value_mod % s.gene_range(i));
  return g;
}

TEST(CrossoverTest, MaskSwapsExactlyTheMarkedGenes) {
  const Genome a = filled(0), b = filled(1);
  std::vector<std::uint8_t> mask(60, 0);
  for (int i = 4; i < 8; ++i) mask[i] = 1;  // block 1 of the normal cell
  mask[59] = 1;
  auto [x, y] = apply_crossover(a, b, mask);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(x[i], mask[i] ? b[i] : a[i]) << i;
    EXPECT_EQ(y[i], mask[i] ? a[i] : b[i]) << i;
  }
}

TEST(CrossoverTest, BlockMaskIsConstantWithinBlocks) {
  Rng r(1);
  for (int t = 0; t < 50; ++t) {
    const auto m = crossover_mask(genes(space()), CrossoverKind::kBlock, r);
    ASSERT_EQ(m.size(), 60u);
    for (int b = 0; b < 15; ++b)
      for (int j = 1; j < 4; ++j) EXPECT_EQ(m[b * 4 + j], m[b * 4]);
  }
}

TEST(CrossoverTest, UniformAndBlockStatistics) {
  // Both swap half the genes on average. Within a block, uniform crossover makes the 4 bits
  // independent (all equal with probability 1/8); block crossover always keeps them equal.
  Rng r(2);
  const int trials = 4000;
  for (auto kind : {CrossoverKind::kUniform, CrossoverKind::kBlock}) {
    double swapped = 0, all_equal = 0;
    for (int t = 0; t < trials; ++t) {
      const auto m = crossover_mask(genes(space()), kind, r);
      for (auto v : m) swapped += v;
      for (int b = 0; b < 15; ++b)
        all_equal += (m[b * 4] == m[b * 4 + 1] && m[b * 4] == m[b * 4 + 2] && m[b * 4] == m[b * 4 + 3]);
    }
    const double frac = swapped / (trials * 60.0), eq = all_equal / (trials * 15.0);
    // sd of frac <= 0.5/sqrt(60000 / 4 blocks-correlated) ~ 0.004: tolerance 0.02.
    EXPECT_NEAR(frac, 0.5, 0.02);
    if (kind == CrossoverKind::kUniform) EXPECT_NEAR(eq, 0.125, 0.01);  // sd ~ 0.0013
    else EXPECT_EQ(eq, 1.0);
  }
}

TEST(CrossoverTest, ProbabilityZeroReturnsParents) {
  Rng r(4);
  GaOptions o;
  o.p_c = 0.0;
  const Genome a = filled(0), b = filled(1);
  auto [x, y] = crossover(genes(space()), o, a, b, r);
  EXPECT_EQ(x, a);
  EXPECT_EQ(y, b);
}

TEST(MutationTest, WrapsAroundAtBothEnds) {
  // With p_m = 1 every gene moves by exactly +1 or -1 modulo its range.
  const SearchSpace s;
  Rng r(5);
  std::set<int> from_zero, from_top;
  for (int t = 0; t < 200; ++t) {
    Genome g = filled(0);  // all genes at 0
    EXPECT_EQ(mutate(genes(s), g, 1.0, r), 60);
    Genome top(60);
    for (int i = 0; i < 60; ++i) top[i] = static_cast<std::uint8_t>(s.gene_range(i) - 1);
    Genome h = top;
    mutate(genes(s), h, 1.0, r);
    for (int i = 0; i < 60; ++i) {
      const int range = s.gene_range(i);
      if (range == 1) {
        EXPECT_EQ(g[i], 0);  // a single allowed value never changes
        continue;
      }
      EXPECT_TRUE(g[i] == 1 || g[i] == range - 1) << "gene " << i << " from 0 became " << int(g[i]);
      EXPECT_TRUE(h[i] == range - 2 || h[i] == 0) << "gene " << i << " from top became " << int(h[i]);
      if (i == 2) from_zero.insert(g[i]);  // an op gene, range 5
      if (i == 2) from_top.insert(h[i]);
    }
  }
  EXPECT_EQ(from_zero, (std::set<int>{1, 4}));  // 0 - 1 wraps to 4
  EXPECT_EQ(from_top, (std::set<int>{3, 0}));   // 4 + 1 wraps to 0
}

TEST(MutationTest, EmpiricalRateMatchesPm) {
  const SearchSpace s;
  Rng r(6);
  const double p_m = 0.02;
  const int trials = 20000;
  long events = 0, changed = 0, eligible = 0;
  for (int t = 0; t < trials; ++t) {
    Genome g = filled(t), before = g;
    events += mutate(genes(s), g, p_m, r);
    for (int i = 0; i < 60; ++i)
      if (s.gene_range(i) > 1) {
        ++eligible;
        changed += g[i] != before[i];
      }
  }
  // 1.2M Bernoulli(0.02) draws: sd of the rate ~ 1.3e-4; tolerance ~ 5 sd.
  EXPECT_NEAR(double(events) / (trials * 60.0), p_m, 7e-4);
  // Every drawn gene with range >= 2 changes value.
  EXPECT_NEAR(double(changed) / eligible, p_m, 7e-4);
}

TEST(SelectionTest, RouletteFrequenciesFollowFitness) {
  Rng r(7);
  const std::vector<float> f = {10.f, 20.f, 30.f, 0.f, 40.f};
  std::vector<int> counts(f.size(), 0);
  const int n = 100000;
  for (int i = 0; i < n; ++i) ++counts[roulette(f, r)];
  EXPECT_EQ(counts[3], 0);  // zero fitness is never picked
  for (std::size_t i = 0; i < f.size(); ++i)
    EXPECT_NEAR(counts[i] / double(n), f[i] / 100.0, 0.008) << i;  // sd <= 0.0016
}

TEST(SelectionTest, AllZeroFitnessIsUniform) {
  Rng r(8);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 40000; ++i) ++counts[roulette({0.f, 0.f, 0.f, 0.f}, r)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // sd ~ 87
}

Member m(int value, float fitness) { return {filled(value), fitness}; }

TEST(ReplacementTest, KeepsTheBestUniqueAndCountsNewcomers) {
  const std::vector<Member> pop = {m(0, 50.f), m(1, 40.f), m(2, 30.f)};
  // Generation: one better (60), one tie with an incumbent (40), one duplicate of an incumbent, one worse.
  const std::vector<Member> gen = {m(3, 60.f), m(4, 40.f), m(1, 99.f), m(5, 10.f)};
  const Replacement r = replace(pop, gen, 3);
  ASSERT_EQ(r.population.size(), 3u);
  EXPECT_EQ(r.population[0].genome, filled(3));
  EXPECT_EQ(r.population[1].genome, filled(0));
  EXPECT_EQ(r.population[2].genome, filled(1));  // the incumbent wins the 40-40 tie
  EXPECT_EQ(r.population[2].fitness, 40.f);      // and its duplicate in G does not replace its fitness
  EXPECT_EQ(r.n_new, 1);
}

TEST(ReplacementTest, FirstPopulationIsTopOfFirstGeneration) {
  std::vector<Member> gen;
  for (int i = 0; i < 6; ++i) gen.push_back(m(i, float((i * 37) % 11)));
  const Replacement r = replace({}, gen, 4);
  ASSERT_EQ(r.population.size(), 4u);
  EXPECT_EQ(r.n_new, 4);
  for (std::size_t i = 1; i < r.population.size(); ++i)
    EXPECT_GE(r.population[i - 1].fitness, r.population[i].fitness);
  EXPECT_EQ(r.population[0].fitness, 9.f);  // fitness values 0 4 8 1 5 9
}

TEST(GenerationTest, DedupAndRefillRemovesDuplicatesAndPopulationMembers) {
  Rng r(9);
  const std::vector<Member> pop = {m(0, 1.f)};
  const std::vector<Genome> offspring = {filled(1), filled(0), filled(1), filled(2)};
  const auto out = dedup_and_refill(genes(space()), offspring, pop, 5, r);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], filled(1));
  EXPECT_EQ(out[1], filled(2));  // filled(0) is in P, the second filled(1) is a duplicate
  std::set<Genome> unique(out.begin(), out.end());
  EXPECT_EQ(unique.size(), 5u);
  EXPECT_EQ(unique.count(filled(0)), 0u);
  for (const auto& g : out) EXPECT_NO_THROW(space::validate(space(), g));
}

TEST(GenerationTest, NextGenerationIsUniqueValidAndDisjointFromPopulation) {
  Rng r(11);
  GaOptions o;
  std::vector<Member> pop;
  for (const auto& g : random_generation(genes(space()), 20, r)) pop.push_back({g, float(r.uniform_int(100))});
  const auto next = next_generation(genes(space()), o, pop, r);
  ASSERT_EQ(next.size(), 20u);
  std::set<Genome> seen;
  for (const auto& p : pop) seen.insert(p.genome);
  for (const auto& g : next) {
    EXPECT_NO_THROW(space::validate(space(), g));
    EXPECT_TRUE(seen.insert(g).second);
  }
}

TEST(SamplingTest, EmptyPopulationGivesRandomGenomesAndOneMemberItself) {
  Rng r(12);
  GaOptions o;
  const Genome a = sample_for_batch(genes(space()), o, {}, r), b = sample_for_batch(genes(space()), o, {}, r);
  EXPECT_NE(a, b);
  o.p_m = 0.0;
  const std::vector<Member> one = {m(3, 5.f)};
  EXPECT_EQ(sample_for_batch(genes(space()), o, one, r), filled(3));  // crossing a member with itself
}

TEST(SamplingTest, SameSeedSameGenomeSequence) {
  GaOptions o;
  Rng r0(13);
  std::vector<Member> pop;
  for (const auto& g : random_generation(genes(space()), 20, r0)) pop.push_back({g, 1.f});
  Rng a(99), b(99);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sample_for_batch(genes(space()), o, pop, a), sample_for_batch(genes(space()), o, pop, b));
}

}  // namespace
}  // namespace gnas::ga
