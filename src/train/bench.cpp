// gnas bench: supernet throughput with per-step genome switching, as in a real search.
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "gnas/core/log.h"
#include "gnas/ga/operators.h"
#include "gnas/train/commands.h"
#include "gnas/train/common.h"

namespace gnas::train {

int run_bench(const RunConfig& cfg, int steps, int warmup) {
  apply_threads(cfg.threads);
  const torch::Device device = select_device(cfg.device);
  torch::manual_seed(cfg.seed);
  const int64_t batch = cfg.train.batch;
  // Synthetic CIFAR-shaped images: throughput does not depend on pixel values.
  data::Split split;
  const int64_t pool = std::max<int64_t>(batch, cfg.data.eval_batch) * 2;
  split.images = torch::randint(0, 256, {pool, 3, 32, 32}, torch::kUInt8).to(device);
  split.labels = torch::randint(0, 10, {pool}, torch::kInt64).to(device);

  search::SearchSpace space;
  space.n_blocks = cfg.net.blocks;
  nn::NetworkOptions o;
  o.channels = cfg.net.channels;
  o.cells = cfg.net.cells;
  o.n_blocks = cfg.net.blocks;
  o.dropout = cfg.net.dropout;
  nn::Network net(o);
  net->to(device);
  net->set_bn_batch_stats_in_eval(cfg.search.bn_eval == "batch");
  auto sgd = make_sgd(net->parameters(), cfg.train);
  Rng ga_rng(cfg.seed, 1), data_rng(cfg.seed, 2);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };

  auto train_steps = [&](int n) {
    net->train();
    for (int s = 0; s < n; ++s) {
      net->set_genome(ga::random_genome(space, ga_rng));
      const auto idx = sample_without_replacement(pool, batch, data_rng);
      auto [x, y] = make_batch(split, idx, cfg.data.augment, cfg.data.cutout, data_rng);
      auto loss = torch::cross_entropy_loss(net->forward(x), y);
      loss.backward();
      sgd->step();
      clear_grads(net->active_parameters());
    }
    sync();
  };
  const int64_t eval_n = cfg.data.eval_batch;
  auto eval_steps = [&](int n) {
    for (int s = 0; s < n; ++s) {
      net->set_genome(ga::random_genome(space, ga_rng));
      evaluate_accuracy(net, split.images.slice(0, 0, eval_n), split.labels.slice(0, 0, eval_n), eval_n);
    }
    sync();
  };
  using Clock = std::chrono::steady_clock;
  auto timed = [&](auto&& f) {
    f(warmup);
    const auto t0 = Clock::now();
    f(steps);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  GNAS_LOG(INFO) << "gnas bench: C=" << cfg.net.channels << " N_cell=" << cfg.net.cells << " batch " << batch
                 << " on " << device << ", " << warmup << " warm-up + " << steps << " timed steps each";
  const double train_s = timed(train_steps);
  const double eval_s = timed(eval_steps);
  const double train_ips = steps * batch / train_s;
  const double eval_ips = steps * eval_n / eval_s;
  // A CIFAR search epoch: 45k training images, then per generation N_g x N_v fitness images,
  // plus the full 5k validation split for the best member.
  const double epoch_train = 45000, epoch_eval = cfg.search.generations_per_epoch * cfg.search.ga.generation *
                                                     double(cfg.search.n_v) + 5000;
  const double projected = epoch_train / train_ips + epoch_eval / eval_ips;
  std::cout << "{\"bench\": \"supernet\", \"device\": \"" << device << "\", \"threads\": " << torch::get_num_threads()
            << ", \"channels\": " << cfg.net.channels << ", \"cells\": " << cfg.net.cells << ", \"batch\": " << batch
            << ", \"eval_batch\": " << eval_n << ", \"steps\": " << steps << ", \"train_img_per_s\": " << train_ips
            << ", \"eval_img_per_s\": " << eval_ips << ", \"projected_search_epoch_s\": " << projected
            << ", \"projected_epoch_train_images\": " << epoch_train << ", \"projected_epoch_eval_images\": "
            << epoch_eval << "}" << std::endl;
  return 0;
}

}  // namespace gnas::train
