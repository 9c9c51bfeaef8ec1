// Permutations, samples and training batches (sharded over ranks) (batches.h).
#include "gnas/train/batches.h"

#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/data/augment.h"

namespace gnas::train {

std::vector<int64_t> permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.uniform_int(static_cast<std::uint64_t>(i + 1))]);
  return p;
}

std::vector<int64_t> sample_without_replacement(int64_t n, int64_t k, Rng& rng) {
  GNAS_CHECK(k <= n, "sample_without_replacement: ", k, " of ", n);
  auto p = permutation(n, rng);
  p.resize(static_cast<std::size_t>(k));
  return p;
}

std::pair<torch::Tensor, torch::Tensor> make_batch(const data::Split& split, const std::vector<int64_t>& idx,
                                                   bool augment, int cutout, Rng& rng) {
  return make_batch_shard(split, idx, 0, static_cast<int64_t>(idx.size()), augment, cutout, rng);
}

std::pair<torch::Tensor, torch::Tensor> make_batch_shard(const data::Split& split, const std::vector<int64_t>& idx,
                                                         int64_t begin, int64_t end, bool augment, int cutout,
                                                         Rng& rng) {
  const std::vector<int64_t> local(idx.begin() + begin, idx.begin() + end);
  auto index = data::upload(torch::tensor(local, torch::kInt64), split.images.device());
  auto x = data::normalize(split.images.index_select(0, index));
  if (augment) {
    const auto all = data::draw_augment(static_cast<int64_t>(idx.size()), 4, x.size(2), x.size(3), rng);
    data::AugmentDraw mine;
    for (int64_t i = begin; i < end; ++i) {
      mine.dy.push_back(all.dy[i]);
      mine.dx.push_back(all.dx[i]);
      mine.flip.push_back(all.flip[i]);
      mine.cy.push_back(all.cy[i]);
      mine.cx.push_back(all.cx[i]);
    }
    static const std::vector<double> black = data::normalized_black();  // padding: black pixels
    x = data::augment(x, mine, 4, cutout, black);
  }
  return {x, split.labels.index_select(0, index)};
}

}  // namespace gnas::train
