#pragma once
/// Permutations, samples and training batches: identical on every rank and device.
#include <cstdint>
#include <torch/types.h>
#include <utility>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/data/dataset.h"

namespace gnas::train {

/// Fisher-Yates permutation of [0, n) from `rng` (identical on every device).
std::vector<int64_t> permutation(int64_t n, Rng& rng);
/// `k` distinct indices of [0, n), drawn from `rng`.
std::vector<int64_t> sample_without_replacement(int64_t n, int64_t k, Rng& rng);

/// A training batch: gathers `idx` from the split, normalizes and (optionally) augments on the
/// split's device. Returns {images float [B,3,32,32], labels int64 [B]}.
std::pair<torch::Tensor, torch::Tensor> make_batch(const data::Split& split, const std::vector<int64_t>& idx,
                                                   bool augment, int cutout, Rng& rng);
/// This rank's shard [begin, end) of a global batch `idx`. The augmentation of the whole global
/// batch is drawn (so every rank's `rng` stays in step) and the shard's part is applied: a sample
/// is augmented identically whatever the number of ranks.
std::pair<torch::Tensor, torch::Tensor> make_batch_shard(const data::Split& split, const std::vector<int64_t>& idx,
                                                         int64_t begin, int64_t end, bool augment, int cutout,
                                                         Rng& rng);

}  // namespace gnas::train
