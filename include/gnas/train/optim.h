#pragma once
/// SGD and the learning-rate schedule (DESIGN §5).
#include <memory>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <vector>

#include "gnas/train/options.h"

namespace gnas::train {

/// SGD with Nesterov momentum and weight decay (DESIGN §5). Parameters whose gradient is
/// undefined at step() are skipped entirely: no momentum and no weight decay reach them.
std::unique_ptr<torch::optim::SGD> make_sgd(const std::vector<torch::Tensor>& params, const TrainOptions& t);
/// Learning rate of 0-based `epoch`: kStep divides by 10 at 50% and 75% of the epochs; kCosine anneals
/// from lr towards lr_min.
double lr_at(const TrainOptions& t, int epoch);
void set_lr(torch::optim::SGD& sgd, double lr);
/// Makes the gradients of `params` undefined again (not zero), so the next step skips the
/// parameters a later genome does not use.
void clear_grads(const std::vector<torch::Tensor>& params);

}  // namespace gnas::train
