// SGD and the learning-rate schedule (optim.h).
#include "gnas/train/optim.h"

#include <torch/torch.h>

#include <cmath>

namespace gnas::train {

std::unique_ptr<torch::optim::SGD> make_sgd(const std::vector<torch::Tensor>& params, const TrainOptions& t) {
  return std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(t.lr).momentum(t.momentum).nesterov(t.nesterov).weight_decay(t.weight_decay));
}

double lr_at(const TrainOptions& t, int epoch) {
  if (t.schedule == Schedule::kCosine) return t.lr_min + 0.5 * (t.lr - t.lr_min) * (1.0 + std::cos(M_PI * epoch / t.epochs));
  double lr = t.lr;  // milestones at 50% and 75% of the epochs, e.g. epochs 155 and 233 of 310
  if (epoch >= 0.5 * t.epochs) lr *= 0.1;
  if (epoch >= 0.75 * t.epochs) lr *= 0.1;
  return lr;
}

void set_lr(torch::optim::SGD& sgd, double lr) {
  for (auto& group : sgd.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

void clear_grads(const std::vector<torch::Tensor>& params) {
  for (auto p : params) p.mutable_grad() = torch::Tensor();
}

}  // namespace gnas::train
