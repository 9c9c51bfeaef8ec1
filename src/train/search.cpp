// gnas search: the GeneticNAS loop (paper Alg. 2, DESIGN §4-5).
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <set>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/ga/operators.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/train/commands.h"
#include "gnas/train/common.h"

namespace gnas::train {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<std::uint8_t> flatten(const std::vector<ga::Member>& members) {
  std::vector<std::uint8_t> out;
  for (const auto& m : members) out.insert(out.end(), m.genome.begin(), m.genome.end());
  return out;
}
std::vector<float> fitness_of(const std::vector<ga::Member>& members) {
  std::vector<float> out;
  for (const auto& m : members) out.push_back(m.fitness);
  return out;
}

/// Draws a progress line on a terminal, at most a few times a second.
class Progress {
 public:
  Progress(bool enabled, int epoch, int epochs, int steps) : enabled_(enabled), epoch_(epoch), epochs_(epochs), steps_(steps) {}
  bool due(int step) {
    if (!enabled_) return false;
    const auto now = Clock::now();
    if (step + 1 < steps_ && std::chrono::duration<double>(now - last_).count() < 0.25) return false;
    last_ = now;
    return true;
  }
  void draw(int step, double loss, double acc) const {
    std::printf("\r  epoch %d/%d  step %d/%d  loss %.4f  acc %5.1f%%  ", epoch_ + 1, epochs_, step + 1, steps_, loss, acc);
    std::fflush(stdout);
  }
  void clear() const {
    if (enabled_) {
      std::printf("\r%*s\r", 72, "");
      std::fflush(stdout);
    }
  }

 private:
  bool enabled_;
  int epoch_, epochs_, steps_;
  Clock::time_point last_{};
};

}  // namespace

int run_search(const RunConfig& cfg) {
  io::prepare_run_dir(cfg.out, cfg.force);
  io::write_file_atomic(cfg.out + "/config.ini", cfg.config_text);
  apply_threads(cfg.threads);
  const torch::Device device = select_device(cfg.device);
  torch::manual_seed(cfg.seed);

  data::Dataset ds = data::load_dataset(cfg.data);
  const auto& ga_opt = cfg.search.ga;
  GNAS_CHECK_AS(ConfigError, cfg.search.n_v <= ds.val.size(), "--ga.n_v ", cfg.search.n_v,
                " is larger than the validation split (", ds.val.size(), " images)");
  GNAS_CHECK_AS(ConfigError, cfg.train.batch <= ds.train.size(), "--train.batch ", cfg.train.batch,
                " is larger than the training split (", ds.train.size(), " images)");
  ds.to(device);

  search::SearchSpace space;
  space.n_blocks = cfg.net.blocks;
  nn::NetworkOptions net_opt;
  net_opt.channels = cfg.net.channels;
  net_opt.cells = cfg.net.cells;
  net_opt.n_blocks = cfg.net.blocks;
  net_opt.num_classes = ds.num_classes;
  net_opt.dropout = cfg.net.dropout;
  nn::Network net(net_opt);
  net->to(device);
  net->set_bn_batch_stats_in_eval(cfg.search.bn_eval == "batch");
  auto sgd = make_sgd(net->parameters(), cfg.train);
  int64_t n_params = 0;
  for (const auto& p : net->parameters()) n_params += p.numel();

  Rng ga_rng(cfg.seed, 1), data_rng(cfg.seed, 2);
  io::LogAttributes attrs{"search", cfg.config_text, GNAS_VERSION, cfg.seed, 1, ds.name, now_iso8601()};
  io::Hdf5Log log(cfg.out + "/log.h5", attrs, space.length(), ga_opt.generation, ga_opt.population, true);

  const int64_t n_train = ds.train.size();
  const int steps = static_cast<int>(n_train / cfg.train.batch);  // the last partial batch is dropped
  GNAS_LOG(INFO) << "gnas search: " << ds.name << " (" << n_train << " train / " << ds.val.size() << " val images, "
                 << ds.num_classes << " classes) on " << device << ", supernet C=" << cfg.net.channels
                 << " N_cell=" << cfg.net.cells << " (" << n_params << " parameters), " << cfg.train.epochs
                 << " epochs x " << steps << " steps of " << cfg.train.batch << " -> " << cfg.out;

  std::vector<ga::Member> population;
  std::vector<ga::Genome> generation = ga::random_generation(space, ga_opt.generation, ga_rng);
  ga::Member best;
  const bool tty = cfg.progress && stdout_is_tty();

  for (int epoch = 0; epoch < cfg.train.epochs; ++epoch) {
    const auto t0 = Clock::now();
    const double lr = lr_at(cfg.train, epoch);
    set_lr(*sgd, lr);
    net->train();
    const auto perm = permutation(n_train, data_rng);
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    Progress progress(tty, epoch, cfg.train.epochs, steps);
    for (int step = 0; step < steps; ++step) {
      net->set_genome(ga::sample_for_batch(space, ga_opt, population, ga_rng));
      const std::vector<int64_t> idx(perm.begin() + int64_t(step) * cfg.train.batch,
                                     perm.begin() + int64_t(step + 1) * cfg.train.batch);
      auto [x, y] = make_batch(ds.train, idx, cfg.data.augment, cfg.data.cutout, data_rng);
      auto logits = net->forward(x);
      auto loss = torch::cross_entropy_loss(logits, y);
      loss.backward();
      sgd->step();
      clear_grads(net->active_parameters());
      loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(idx.size());
      correct += logits.detach().argmax(1).eq(y).sum();
      if (progress.due(step)) {
        const double seen = double(step + 1) * cfg.train.batch;
        progress.draw(step, loss_sum.item<double>() / seen, 100.0 * correct.item<int64_t>() / seen);
      }
    }
    progress.clear();
    const double seen = double(steps) * cfg.train.batch;
    const double train_loss = loss_sum.item<double>() / seen;
    const double train_acc = 100.0 * correct.item<int64_t>() / seen;
    GNAS_CHECK_AS(TrainingError, std::isfinite(train_loss), "epoch ", epoch + 1,
                  ": the training loss is not finite (", train_loss, "); lower --train.lr. The log and the best genome "
                  "so far are kept in ", cfg.out);

    // End of epoch: evaluate-and-replace rounds (DESIGN §4).
    std::set<ga::Genome> before;
    for (const auto& m : population) before.insert(m.genome);
    for (int round = 0; round < cfg.search.generations_per_epoch; ++round) {
      const auto subset = sample_without_replacement(ds.val.size(), cfg.search.n_v, data_rng);
      auto index = torch::tensor(subset, torch::kInt64).to(device);
      auto images = ds.val.images.index_select(0, index), labels = ds.val.labels.index_select(0, index);
      std::vector<ga::Member> scored;
      for (auto& g : generation) {
        net->set_genome(g);
        scored.push_back({g, static_cast<float>(evaluate_accuracy(net, images, labels, cfg.data.eval_batch))});
      }
      population = ga::replace(population, scored, ga_opt.population).population;
      log.append_generation(flatten(scored), fitness_of(scored), epoch, flatten(population), fitness_of(population));
      generation = ga::next_generation(space, ga_opt, population, ga_rng);
    }
    int n_new = 0;
    for (const auto& m : population) n_new += before.count(m.genome) == 0;
    best = population.front();
    net->set_genome(best.genome);
    const double full_val = evaluate_accuracy(net, ds.val.images, ds.val.labels, cfg.data.eval_batch);

    io::EpochRecord rec;
    rec.lr = lr;
    rec.train_loss = train_loss;
    rec.train_acc = train_acc;
    rec.time_s = seconds_since(t0);
    rec.best_fitness = best.fitness;
    rec.best_full_val_acc = full_val;
    rec.test_acc = std::nan("");
    rec.n_new = n_new;
    log.append_epoch(rec);
    log.set_best(best.genome, best.fitness);
    log.flush();
    io::write_file_atomic(cfg.out + "/best_genome.json", search::to_json(space, best.genome, best.fitness));
    io::write_file_atomic(cfg.out + "/cells.dot", search::to_dot(space, best.genome));

    std::ostringstream line;
    line << std::fixed << "epoch " << epoch + 1 << "/" << cfg.train.epochs << "  lr " << std::setprecision(4) << lr
         << "  loss " << train_loss << "  train_acc " << std::setprecision(1) << train_acc << "%  best_fitness "
         << best.fitness << "%  best_val " << full_val << "%  n_new " << n_new << "  " << rec.time_s << "s";
    GNAS_LOG(INFO) << line.str();
  }
  GNAS_LOG(INFO) << "best genome (fitness " << best.fitness << "%): " << search::to_text(space, best.genome);
  GNAS_LOG(INFO) << "wrote " << cfg.out << "/{config.ini, log.h5, best_genome.json, cells.dot}";
  return kExitOk;
}

}  // namespace gnas::train
