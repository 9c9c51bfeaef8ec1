#include "gnas/ga/operators.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "gnas/core/error.h"
#include "gnas/core/stats.h"

namespace gnas::ga {

Genome random_genome(const GeneSpace& space, Rng& rng) {
  Genome g(space.length());
  for (int i = 0; i < space.length(); ++i)
    g[i] = static_cast<std::uint8_t>(rng.uniform_int(space.gene_range(i)));
  return g;
}

std::vector<std::uint8_t> crossover_mask(const GeneSpace& space, CrossoverKind kind, Rng& rng) {
  std::vector<std::uint8_t> mask(space.length());
  if (kind == CrossoverKind::kUniform) {
    for (auto& m : mask) m = rng.bernoulli(0.5);
  } else {
    for (int b = 0; b < space.num_blocks(); ++b) {
      const std::uint8_t bit = rng.bernoulli(0.5);
      for (int j = space.block_starts[std::size_t(b)]; j < space.block_end(b); ++j) mask[std::size_t(j)] = bit;
    }
  }
  return mask;
}

std::pair<Genome, Genome> apply_crossover(const Genome& a, const Genome& b, const std::vector<std::uint8_t>& mask) {
  GNAS_CHECK(a.size() == b.size() && a.size() == mask.size(), "crossover: parents of ", a.size(), " and ",
             b.size(), " genes with a mask of ", mask.size());
  Genome x = a, y = b;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) std::swap(x[i], y[i]);
  return {std::move(x), std::move(y)};
}

std::pair<Genome, Genome> crossover(const GeneSpace& space, const GaOptions& opt, const Genome& a,
                                    const Genome& b, Rng& rng) {
  if (!rng.bernoulli(opt.p_c)) return {a, b};
  return apply_crossover(a, b, crossover_mask(space, opt.crossover, rng));
}

int mutate(const GeneSpace& space, Genome& g, double p_m, Rng& rng) {
  int events = 0;
  for (int i = 0; i < space.length(); ++i) {
    if (!rng.bernoulli(p_m)) continue;
    ++events;
    const int range = space.gene_range(i);
    const int delta = rng.bernoulli(0.5) ? 1 : -1;
    g[i] = static_cast<std::uint8_t>(((int(g[i]) + delta) % range + range) % range);
  }
  return events;
}

std::size_t roulette(const std::vector<float>& fitness, Rng& rng) {
  GNAS_CHECK(!fitness.empty(), "roulette: empty population");
  double total = 0;
  for (float f : fitness) {
    GNAS_CHECK(f >= 0.f, "roulette: fitness must be >= 0, got ", f);
    total += f;
  }
  if (total <= 0) return rng.uniform_int(fitness.size());
  const double r = rng.uniform01() * total;
  double acc = 0;
  for (std::size_t i = 0; i < fitness.size(); ++i) {
    acc += fitness[i];
    if (r < acc) return i;
  }
  // Rounding can leave r == total: the last member with non-zero fitness takes it.
  for (std::size_t i = fitness.size(); i-- > 0;)
    if (fitness[i] > 0) return i;
  return fitness.size() - 1;
}

std::size_t select_parent(const std::vector<float>& fitness, Selection selection, Rng& rng) {
  if (selection != Selection::kRank) return roulette(fitness, rng);
  GNAS_CHECK(!fitness.empty(), "rank selection: empty population");
  std::vector<double> values;
  for (float f : fitness) {
    GNAS_CHECK(!std::isnan(f), "rank selection: a NaN fitness");
    values.push_back(double(f));
  }
  const std::vector<double> ranks = mean_ranks(values);
  return roulette(std::vector<float>(ranks.begin(), ranks.end()), rng);
}

Replacement replace(const std::vector<Member>& population, const std::vector<Member>& generation, int n_p) {
  std::vector<Member> pool;
  std::set<Genome> seen;
  for (const auto* src : {&population, &generation})
    for (const auto& m : *src)
      if (seen.insert(m.genome).second) pool.push_back(m);
  // Stable sort keeps the incumbents (listed first) ahead of newcomers of equal fitness.
  std::stable_sort(pool.begin(), pool.end(), [](const Member& a, const Member& b) { return a.fitness > b.fitness; });
  if (static_cast<int>(pool.size()) > n_p) pool.resize(n_p);
  std::set<Genome> old;
  for (const auto& m : population) old.insert(m.genome);
  Replacement r;
  for (const auto& m : pool) r.n_new += old.count(m.genome) == 0;
  r.population = std::move(pool);
  return r;
}

std::vector<Genome> dedup_and_refill(const GeneSpace& space, std::vector<Genome> offspring,
                                     const std::vector<Member>& population, int n_g, Rng& rng) {
  std::set<Genome> seen;
  for (const auto& m : population) seen.insert(m.genome);
  std::vector<Genome> out;
  for (auto& g : offspring)
    if (static_cast<int>(out.size()) < n_g && seen.insert(g).second) out.push_back(std::move(g));
  const long max_tries = 1000L * n_g + 1000;
  for (long tries = 0; static_cast<int>(out.size()) < n_g; ++tries) {
    GNAS_CHECK(tries < max_tries, "GA: cannot find ", n_g, " unique genomes; the search space is too small");
    Genome g = random_genome(space, rng);
    if (seen.insert(g).second) out.push_back(std::move(g));
  }
  return out;
}

std::vector<Genome> random_generation(const GeneSpace& space, int n_g, Rng& rng) {
  return dedup_and_refill(space, {}, {}, n_g, rng);
}

std::vector<Genome> next_generation(const GeneSpace& space, const GaOptions& opt,
                                    const std::vector<Member>& population, Rng& rng) {
  GNAS_CHECK(!population.empty(), "GA: next_generation needs a non-empty population");
  std::vector<float> fitness;
  for (const auto& m : population) fitness.push_back(m.fitness);
  std::vector<Genome> offspring;
  while (static_cast<int>(offspring.size()) < opt.generation) {
    const auto& a = population[select_parent(fitness, opt.selection, rng)].genome;
    const auto& b = population[select_parent(fitness, opt.selection, rng)].genome;
    auto [x, y] = crossover(space, opt, a, b, rng);
    mutate(space, x, opt.p_m, rng);
    mutate(space, y, opt.p_m, rng);
    offspring.push_back(std::move(x));
    offspring.push_back(std::move(y));
  }
  offspring.resize(opt.generation);
  return dedup_and_refill(space, std::move(offspring), population, opt.generation, rng);
}

Genome sample_for_batch(const GeneSpace& space, const GaOptions& opt, const std::vector<Member>& population,
                        Rng& rng) {
  if (population.empty()) return random_genome(space, rng);
  const auto& a = population[rng.uniform_int(population.size())].genome;
  const auto& b = population[rng.uniform_int(population.size())].genome;
  Genome x = crossover(space, opt, a, b, rng).first;
  mutate(space, x, opt.p_m, rng);
  return x;
}

}  // namespace gnas::ga
