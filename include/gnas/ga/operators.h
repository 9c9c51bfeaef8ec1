#pragma once
/// Genetic operators of DESIGN §4 and the paper's Alg. 1. Plain C++, no torch.
/// Every random choice draws from the caller's gnas::Rng, so a seed fixes the whole search.
#include <cstdint>
#include <utility>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/ga/options.h"
#include "gnas/space/genome.h"
#include "gnas/space/space.h"

namespace gnas::ga {

using space::Genome;
using space::SearchSpace;

using space::GeneSpace;  // the gene space of any search space (search/space.h)

/// A genome with its fitness (top-1 accuracy in %, on N_v validation images).
struct Member {
  Genome genome;
  float fitness = 0.f;
};

/// Uniformly random valid genome.
Genome random_genome(const GeneSpace& space, Rng& rng);

/// Per-gene swap mask: block crossover draws one bit per block (all 4 genes share it),
/// uniform crossover one bit per gene. 1 = the offspring take the other parent's gene.
std::vector<std::uint8_t> crossover_mask(const GeneSpace& space, CrossoverKind kind, Rng& rng);
/// Offspring (a', b') of parents (a, b) under a mask: a'[i] = mask[i] ? b[i] : a[i], and b' vice versa.
std::pair<Genome, Genome> apply_crossover(const Genome& a, const Genome& b, const std::vector<std::uint8_t>& mask);
/// With probability p_c crosses (a, b) over with a fresh mask; otherwise returns copies.
std::pair<Genome, Genome> crossover(const GeneSpace& space, const GaOptions& opt, const Genome& a,
                                    const Genome& b, Rng& rng);

/// Each gene independently, with probability p_m, moves by +1 or -1 (equal chance), wrapping
/// around inside its range. Returns the number of genes drawn for mutation.
int mutate(const GeneSpace& space, Genome& g, double p_m, Rng& rng);

/// Fitness-proportional (roulette) index: p_i = f_i / sum f; uniform if sum f == 0.
std::size_t roulette(const std::vector<float>& fitness, Rng& rng);

/// A parent's index under `selection`: roulette (kAuto counts as roulette) over the fitness, or
/// rank: roulette over the members' mean ranks (1 = the lowest fitness; -inf ranks lowest).
std::size_t select_parent(const std::vector<float>& fitness, Selection selection, Rng& rng);

/// Steady-state replacement without duplicates: the best N_p of P u G, unique by genome.
/// Ties keep the incumbent (P before G, then original order). n_new counts members not in old P.
struct Replacement {
  std::vector<Member> population;
  int n_new = 0;
};
Replacement replace(const std::vector<Member>& population, const std::vector<Member>& generation, int n_p);

/// Drops duplicates among `offspring` and genomes already in `population`, keeps the first
/// occurrence, then refills with unique random genomes up to n_g. Throws if the space is too small.
std::vector<Genome> dedup_and_refill(const GeneSpace& space, std::vector<Genome> offspring,
                                     const std::vector<Member>& population, int n_g, Rng& rng);

/// First generation: n_g unique random genomes.
std::vector<Genome> random_generation(const GeneSpace& space, int n_g, Rng& rng);

/// Next generation from P: N_g/2 pairs drawn by opt.selection (roulette for kAuto), crossover, mutation of every offspring,
/// then dedup-and-refill (DESIGN §4, step 3).
std::vector<Genome> next_generation(const GeneSpace& space, const GaOptions& opt,
                                    const std::vector<Member>& population, Rng& rng);

/// Alg. 1: the genome trained on one batch. Two members of P drawn uniformly with replacement,
/// crossed over, the first offspring mutated. A random genome while P is empty.
Genome sample_for_batch(const GeneSpace& space, const GaOptions& opt, const std::vector<Member>& population,
                        Rng& rng);

}  // namespace gnas::ga
