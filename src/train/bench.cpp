// gnas bench: supernet throughput with per-step genome switching, as in a real search; under MPI,
// rank 0 alone and then all ranks data-parallel, for the scaling efficiency.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "gnas/core/clock.h"
#include "gnas/core/log.h"
#include "gnas/distributed/collectives.h"
#include "gnas/ga/operators.h"
#include "gnas/train/entry_points.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/run_setup.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/host_reads.h"
#include "gnas/train/step.h"

namespace gnas::train {
namespace {

struct Figures {
  double train_ips = 0, eval_ips = 0;
  double host_reads_per_step = 0;  ///< device-to-host reads per timed training step (0 = sync-free)
  StepProfile profile;             ///< --bench.profile: seconds per phase of the timed steps
  double profiled_seconds = 0;
  std::string channel;             ///< what carried the gradients
};


/// Times `steps` training steps (global batch `batch` split over `comm`) and `steps` evaluation
/// passes of `eval_n` images per rank. With `profile`, every phase boundary waits for the device
/// and the phases' seconds are added up; a GA round (a generation of N_g genomes scored on N_v
/// images) is timed once too.
Figures measure(const RunConfig& cfg, int steps, int warmup, bool profile, const std::optional<space::Genome>& fixed,
                distributed::Communicator& comm, const torch::Device& device) {
  torch::manual_seed(cfg.seed);
  const int64_t batch = cfg.train.batch;
  const int64_t eval_n = cfg.data.eval_batch;
  data::Split split;  // CIFAR-shaped random images: throughput does not depend on pixel values
  const int64_t pool = std::max<int64_t>({batch, eval_n, int64_t(cfg.search.n_v)}) * 2;
  split.images = torch::randint(0, 256, {pool, 3, 32, 32}, torch::kUInt8).to(device);
  split.labels = torch::randint(0, 10, {pool}, torch::kInt64).to(device);
  const auto space = space::make_space(cfg.net.space, cfg.net.blocks);
  Rng ga_rng(cfg.seed, 1);
  nn::Supernet net = nn::make_network(nn::NetworkOptions(cfg.net, 10, fixed));
  net->to(device);
  if (cfg.train.channels_last) to_channels_last(net);
  if (fixed) net->set_drop_path_keep(cfg.net.drop_path_keep);
  // The supernet switches to a new random genome every step, as a search does.
  auto next_genome = [&] { return fixed ? *fixed : ga::random_genome(space->genes(), ga_rng); };
  net->set_bn_batch_stats_in_eval(cfg.search.bn_eval == ga::BnEval::kBatch);
  auto sgd = make_sgd(net->parameters(), cfg.train);
  // The run's own set-up, the shared-GPU fallback included (bench copied it and left that out).
  auto backend = resolve_run_backend(cfg, comm, device);
  const auto channel = open_gradient_channel(cfg, comm, device, backend);
  Rng data_rng(cfg.seed, 2);
  const auto [b0, b1] = distributed::shard_range(batch, comm.rank(), comm.size());
  TrainStep step(cfg.train, *sgd, *channel, device, double(b1 - b0) / batch);
  const auto param_dtype = net->parameters().front().scalar_type();
  Figures fig;
  fig.channel = channel->name();
  auto wait = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
    comm.barrier();
  };
  double t_mark = 0;
  auto phase = [&](StepProfile::Phase p) {  // profiling: closes phase p
    if (!profile) return;
    if (device.is_cuda()) torch::cuda::synchronize();
    const double t = steady_seconds();
    fig.profile.seconds[p] += t - t_mark;
    t_mark = t;
  };
  auto train_steps = [&](int n, bool timed) {
    net->train();
    step.profile = timed && profile ? &fig.profile : nullptr;
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    for (int i = 0; i < n; ++i) {
      t_mark = steady_seconds();
      net->set_genome(next_genome());
      const auto params = net->active_parameters();
      if (timed) phase(StepProfile::kGenome);
      const auto idx = sample_without_replacement(pool, batch, data_rng);
      auto [x, y] = make_batch_shard(split, idx, b0, b1, cfg.data.augment, cfg.data.cutout, data_rng);
      if (timed) phase(StepProfile::kData);
      loss_sum += step.run(net, step.input(x, param_dtype), y, params).loss;  // as the epoch loop sums it
    }
    step.profile = nullptr;
    wait();
  };
  auto eval_steps = [&](int n, bool) {
    const auto autocast = eval_autocast(cfg.train.precision, device);
    for (int i = 0; i < n; ++i) {
      net->set_genome(next_genome());
      count_correct(net, split.images.slice(0, 0, eval_n), split.labels.slice(0, 0, eval_n), eval_n, 0, 1);
    }
    wait();
  };
  using Clock = std::chrono::steady_clock;
  auto timed = [&](auto&& f) {
    f(warmup, false);
    const auto t0 = Clock::now();
    f(steps, true);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const int64_t reads_before = host_reads();
  const double train_s = timed(train_steps);
  // The warm-up's and the timed steps' reads: the step itself must make none (fp16: one each).
  fig.host_reads_per_step = double(host_reads() - reads_before) / double(steps + warmup);
  fig.train_ips = steps * batch / train_s;                            // global images per second
  fig.eval_ips = steps * eval_n * comm.size() / timed(eval_steps);    // every rank evaluates its own members
  if (profile) {
    fig.profiled_seconds = train_s;
    if (!fixed) {  // one GA round as a search runs it: N_g genomes on the same N_v images
      const auto generation = ga::random_generation(space->genes(), cfg.search.ga.generation, ga_rng);
      const auto autocast = eval_autocast(cfg.train.precision, device);
      wait();
      const double t0 = steady_seconds();
      evaluate_generation(net, generation, split.images.slice(0, 0, cfg.search.n_v),
                          split.labels.slice(0, 0, cfg.search.n_v), cfg.data.eval_batch, comm);
      wait();
      fig.profile.seconds[StepProfile::kGa] = steady_seconds() - t0;
    }
  }
  return fig;
}

}  // namespace

int run_bench(const RunConfig& cfg, const CommandExtras& extras, distributed::Communicator& comm) {
  const int world = comm.size(), steps = extras.bench_steps, warmup = extras.bench_warmup;
  const auto space = space::make_space(cfg.net.space, cfg.net.blocks);
  std::optional<space::Genome> fixed;
  if (!extras.bench_genome.empty()) fixed = space::load_genome(*space, extras.bench_genome);
  apply_threads(cfg.threads);
  const torch::Device device = select_device(cfg.device, comm.local_rank());
  check_precision(cfg.train.precision, device);
  GNAS_LOG(INFO) << "gnas bench: space " << space->name() << ", C=" << cfg.net.channels << " N_cell=" << cfg.net.cells << " global batch "
                 << cfg.train.batch << " on " << device << " x " << world << " rank(s), " << warmup << " warm-up + "
                 << steps << " timed steps each";
  // One rank alone first (the others wait), then all together.
  Figures single;
  const auto self = distributed::make_communicator(distributed::Backend::kSerial, false);
  if (comm.rank() == 0) single = measure(cfg, steps, warmup, extras.bench_profile, fixed, *self, device);
  comm.barrier();
  Figures all = single;
  if (world > 1) all = measure(cfg, steps, warmup, extras.bench_profile, fixed, comm, device);
  // A CIFAR search epoch: 45k training images, then per generation N_g x N_v fitness images,
  // plus the full 5k validation split for the best member.
  const double epoch_train = 45000, epoch_eval =
      cfg.search.generations_per_epoch * cfg.search.ga.generation * double(cfg.search.n_v) + 5000;
  const double projected = epoch_train / all.train_ips + epoch_eval / all.eval_ips;
  if (comm.rank() != 0) return 0;
  // nlohmann-json writes the line: strings (the device name) are escaped, numbers keep full precision.
  nlohmann::ordered_json json = {
      {"bench", fixed ? "fixed" : "supernet"}, {"space", space->name()}, {"device", device.str()}, {"ranks", world},
      {"threads_per_rank", torch::get_num_threads()}, {"channels", cfg.net.channels}, {"cells", cfg.net.cells},
      {"compat", compat_name(cfg.net.compat)}, {"share_slots", cfg.net.share_slots},
      {"gradients_over", all.channel}, {"precision", precision_name(cfg.train.precision)}, {"channels_last", cfg.train.channels_last},
      {"global_batch", cfg.train.batch}, {"eval_batch", cfg.data.eval_batch}, {"steps", steps},
      {"train_img_per_s", all.train_ips}, {"train_img_per_s_per_rank", all.train_ips / world},
      {"eval_img_per_s", all.eval_ips}, {"train_img_per_s_1rank", single.train_ips},
      {"eval_img_per_s_1rank", single.eval_ips},
      {"train_scaling_efficiency", all.train_ips / (world * single.train_ips)},
      {"eval_scaling_efficiency", all.eval_ips / (world * single.eval_ips)},
      {"host_reads_per_step", all.host_reads_per_step}};
  if (extras.bench_profile) {
    // Shares of the timed training steps' wall time, and one GA round's seconds beside them.
    nlohmann::ordered_json shares, seconds;
    double accounted = 0;
    for (int p = 0; p < StepProfile::kGa; ++p) {
      shares[StepProfile::kNames[p]] = all.profile.seconds[p] / all.profiled_seconds;
      accounted += all.profile.seconds[p];
    }
    shares["other"] = std::max(0.0, 1.0 - accounted / all.profiled_seconds);
    for (int p = 0; p < StepProfile::kPhases; ++p) seconds[StepProfile::kNames[p]] = all.profile.seconds[p];
    json["profile_share_of_train_step"] = shares;
    json["profile_seconds"] = seconds;
    json["profile_ga_round_images"] = cfg.search.ga.generation * cfg.search.n_v;
  }
  if (!fixed) {
    json["projected_search_epoch_s"] = projected;
    json["projected_epoch_train_images"] = epoch_train;
    json["projected_epoch_eval_images"] = epoch_eval;
  }
  std::cout << json.dump() << std::endl;
  return 0;
}

}  // namespace gnas::train
