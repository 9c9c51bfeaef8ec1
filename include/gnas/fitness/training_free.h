#pragma once
/// Training-free fitness: scores of a cell's fixed network (the retrain network) at
/// initialisation, computed without any training.
///   NASWOT (Mellor et al., ICML 2021): log|det K| over one batch of unaugmented images, where
///     K[i][j] sums, over the input of every ReLU, the units at which images i and j have the same
///     sign code (x > 0), i.e. c_i.c_j + (1 - c_i).(1 - c_j). BN uses batch statistics.
///   synflow (Tanaka et al. 2020; as a NAS proxy, Abdelfattah et al., ICLR 2021): every weight
///     replaced by |theta|, BN off (identity), float64, an all-ones input; with R the sum of the
///     outputs, sum |theta * dR/dtheta| over conv and linear weights. Reported as its natural log
///     (the raw values reach 1e60).
///   params: the number of parameters of the fixed network.
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <torch/types.h>
#include <vector>

#include <map>

#include "gnas/fitness/score_table.h"
#include "gnas/nn/supernet.h"
#include "gnas/space/genome.h"

namespace gnas::distributed {
class Communicator;
}

namespace gnas::fitness {

/// NASWOT's kernel [B, B] (float64, integer-valued) over `images` (normalized, [B, 3, H, W]). The
/// network runs one forward pass in training mode (batch statistics), without gradients. An input
/// that reaches several ReLUs counts once per ReLU, as a hook on every ReLU module would count it.
torch::Tensor naswot_kernel(nn::SupernetImpl& net, const torch::Tensor& images);

/// log|det K| of a square float64 matrix by LU with partial pivoting; -inf when a pivot is exactly
/// zero (a singular K, e.g. two images with the same codes everywhere). Never NaN.
double log_abs_det(const torch::Tensor& k);

/// NASWOT's score: log|det naswot_kernel(net, images)|.
double naswot(nn::SupernetImpl& net, const torch::Tensor& images);

/// synflow's score, as a natural log (-inf when the sum is 0). Changes `net` for good: float64,
/// |theta| for every parameter, BN bypassed, gradients left in place. Score a network you built for it.
double log_synflow(nn::SupernetImpl& net);
/// The same for any module whose `forward` maps an all-ones float64 input of `input_shape` to its
/// outputs (the unit tests score a bias-free linear chain, whose synflow has a closed form).
double log_synflow(torch::nn::Module& net, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                   const std::vector<int64_t>& input_shape);

/// The number of parameters (elements) of `net`.
int64_t count_parameters(const nn::SupernetImpl& net);

/// What to compute for a cell.
struct ScoreSet {
  bool naswot = true, synflow = true;
};
struct CellScores {
  double params = 0;   ///< parameter count (always computed: it costs nothing)
  double naswot = std::numeric_limits<double>::quiet_NaN();   ///< NaN: not computed
  double synflow = std::numeric_limits<double>::quiet_NaN();  ///< log; NaN: not computed
};

/// The seed of a cell's network initialisation: a hash of (seed, genome), so that a cell's scores
/// do not depend on which other cells were scored, or in which order.
std::uint64_t cell_seed(std::uint64_t seed, const space::Genome& g);

/// Builds the fixed network of `g` (options.fixed is set to it; dropout and drop-path off) with
/// torch's generator seeded by cell_seed(seed, g), and scores it. images: normalized, on the CPU.
/// Deterministic for a given (options, genome, seed, images). Reseeds torch's default generator.
CellScores score_cell(const nn::NetworkOptions& options, const space::Genome& g, std::uint64_t seed,
                      const torch::Tensor& images, ScoreSet which = {});

/// A run's training-free fitness: cells scored on demand and cached by genome, identically on every
/// rank. A single score is the fitness itself (larger is better, -inf last); several are combined
/// as the sum over scores of log(rank / n), ranks among every cell this Proxy has been asked to
/// score (preloaded scores of other cells do not count).
class Proxy {
 public:
  /// net: the scoring network's options (space, C, N, classes); images: NASWOT's batch, normalized.
  Proxy(std::vector<ScoreKind> kinds, nn::NetworkOptions net, std::uint64_t seed, torch::Tensor images);
  Proxy(const Proxy&) = delete;  // asked_ points into cache_
  Proxy& operator=(const Proxy&) = delete;
  /// Scores the cells not cached yet, each rank a share (then exchanged): collective on `comm`.
  /// `progress(done, total)` is called on each rank after each of its own cells.
  void score(const std::vector<space::Genome>& cells, distributed::Communicator& comm,
             const std::function<void(std::size_t, std::size_t)>& progress = nullptr);
  /// The fitness of cached cells (score() them first).
  std::vector<float> fitness(const std::vector<space::Genome>& cells) const;
  /// Caches scores computed elsewhere (a score table of the same setup).
  void preload(const space::Genome& g, const CellScores& s) { cache_.emplace(g, s); }
  /// True when `s` holds every score this Proxy's fitness needs.
  bool complete(const CellScores& s) const {
    return (!which_.naswot || !std::isnan(s.naswot)) && (!which_.synflow || !std::isnan(s.synflow));
  }
  /// One cached cell's scores.
  const CellScores& scores(const space::Genome& g) const;
  /// The cells scored so far (asked for through score(); preloaded cells count once asked for).
  std::size_t cached() const { return asked_.size(); }
  const std::vector<ScoreKind>& kinds() const { return kinds_; }

 private:
  std::vector<ScoreKind> kinds_;
  nn::NetworkOptions net_;
  std::uint64_t seed_;
  torch::Tensor images_;
  ScoreSet which_;
  std::map<space::Genome, CellScores> cache_;
  std::map<space::Genome, const CellScores*> asked_;  ///< the cells score() was given: the ranks' population
};

}  // namespace gnas::fitness
