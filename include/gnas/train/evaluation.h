#pragma once
#include <functional>
/// Accuracy and loss of a network on images, and the fitness of a generation split across ranks.
#include <cstdint>
#include <torch/types.h>
#include <vector>

#include "gnas/distributed/communicator.h"
#include "gnas/nn/supernet.h"
#include "gnas/space/genome.h"

namespace gnas::train {

/// Top-1 accuracy in % of the network's current genome on images/labels, in batches of `batch`,
/// without gradients, in eval mode. top5 (optional) receives the top-5 accuracy in %.
double evaluate_accuracy(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels,
                         int64_t batch, double* top5 = nullptr);

/// Number of correct top-1 predictions over the chunks k * batch (k = first, first + stride, ...)
/// of images/labels: with first = rank and stride = size, ranks split an evaluation exactly as one
/// process would batch it (batch-statistics BN sees the same batches). correct5 (optional) receives
/// the number of top-5 hits, loss_sum (optional) the summed cross-entropy. Eval mode, no gradients.
int64_t count_correct(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                      int64_t first, int64_t stride, int64_t* correct5 = nullptr, double* loss_sum = nullptr);

/// Fitness (top-1 % on images/labels) of every genome of `generation`. The genomes are split among
/// the ranks of `comm` as evenly as possible (any count over any number of ranks); each scores its
/// share and the list is summed over ranks, so every rank returns the same list, equal to a one-rank
/// evaluation. Collective. `on_scored(done, share)`, when given, is called on each rank after each
/// genome of its share (progress lines for long passes: the ranking set).
std::vector<float> evaluate_generation(nn::Supernet& net, const std::vector<space::Genome>& generation,
                                       const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                                       distributed::Communicator& comm,
                                       const std::function<void(int64_t, int64_t)>& on_scored = {});

}  // namespace gnas::train
