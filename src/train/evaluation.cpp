// Accuracy and loss of a network, and the fitness of a generation across ranks (evaluation.h).
#include "gnas/train/evaluation.h"

#include <torch/torch.h>

#include <algorithm>

#include "gnas/data/augment.h"
#include "gnas/distributed/collectives.h"
#include "gnas/train/host_reads.h"

namespace gnas::train {

int64_t count_correct(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                      int64_t first, int64_t stride, int64_t* correct5, double* loss_sum) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const int64_t n = labels.size(0);
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(labels.device()));
  auto top5 = correct.clone();
  auto loss = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(labels.device()));
  for (int64_t k = first; k * batch < n; k += stride) {
    const int64_t i = k * batch, e = std::min(n, i + batch);
    auto logits = net->forward(data::normalize(images_u8.slice(0, i, e)));
    auto y = labels.slice(0, i, e);
    correct += logits.argmax(1).eq(y).sum();
    if (correct5)
      top5 += std::get<1>(logits.topk(std::min<int64_t>(5, logits.size(1)), 1)).eq(y.unsqueeze(1)).any(1).sum();
    if (loss_sum)
      loss += torch::nn::functional::cross_entropy(
                  logits.to(torch::kFloat32), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                  .to(torch::kFloat64);
  }
  net->train(was_training);
  if (correct5) *correct5 = read_on_host<int64_t>(top5);
  if (loss_sum) *loss_sum = read_on_host<double>(loss);
  return read_on_host<int64_t>(correct);
}

double evaluate_accuracy(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels,
                         int64_t batch, double* top5) {
  const double n = static_cast<double>(std::max<int64_t>(1, labels.size(0)));
  int64_t correct5 = 0;
  const int64_t correct = count_correct(net, images_u8, labels, batch, 0, 1, top5 ? &correct5 : nullptr);
  if (top5) *top5 = 100.0 * correct5 / n;
  return 100.0 * correct / n;
}

std::vector<float> evaluate_generation(nn::Supernet& net, const std::vector<space::Genome>& generation,
                                       const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                                       distributed::Communicator& comm,
                                       const std::function<void(int64_t, int64_t)>& on_scored) {
  const int64_t n = static_cast<int64_t>(generation.size());
  const auto [begin, end] = distributed::shard_range(n, comm.rank(), comm.size());
  auto fitness = torch::zeros({n}, torch::kFloat32);
  for (int64_t i = begin; i < end; ++i) {
    net->set_genome(generation[i]);
    fitness[i] = static_cast<float>(evaluate_accuracy(net, images_u8, labels, batch));
    if (on_scored) on_scored(i - begin + 1, end - begin);
  }
  comm.allreduce_sum_(fitness);  // each entry is non-zero on one rank only: the sum is exact
  return std::vector<float>(fitness.data_ptr<float>(), fitness.data_ptr<float>() + n);
}

}  // namespace gnas::train
