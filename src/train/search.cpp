// gnas search: the GeneticNAS loop (paper Alg. 2, DESIGN §4-5), with checkpoints and resume.
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <set>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/core/signals.h"
#include "gnas/ga/operators.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/commands.h"
#include "gnas/train/common.h"
#include "gnas/train/progress.h"

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

}  // namespace

int run_search(const RunConfig& cfg) {
  if (cfg.resume) {
    GNAS_CHECK_AS(ConfigError, io::path_exists(cfg.out + "/checkpoints"), "--resume: '", cfg.out,
                  "' has no checkpoints/ to resume from");
  } else {
    io::prepare_run_dir(cfg.out, cfg.force);
  }
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

  RunState st;
  st.ga_rng = Rng(cfg.seed, 1);
  st.data_rng = Rng(cfg.seed, 2);
  const std::string ckpt_dir = cfg.out + "/checkpoints";
  std::unique_ptr<io::Hdf5Log> log;
  if (cfg.resume) {
    const std::string used = load_checkpoint(ckpt_dir, net, *sgd, st);
    net->to(device);
    log = std::make_unique<io::Hdf5Log>(cfg.out + "/log.h5", st.epoch,
                                        long(st.epoch) * cfg.search.generations_per_epoch);
    GNAS_LOG(INFO) << "resuming " << cfg.out << " from " << used << " at epoch " << st.epoch + 1 << ", step "
                   << st.step;
  } else {
    st.generation = ga::random_generation(space, ga_opt.generation, st.ga_rng);
    io::LogAttributes attrs{"search", cfg.config_text, GNAS_VERSION, cfg.seed, 1, ds.name, now_iso8601()};
    log = std::make_unique<io::Hdf5Log>(cfg.out + "/log.h5", attrs, space.length(), ga_opt.generation,
                                        ga_opt.population, true);
  }
  GNAS_CHECK_AS(ConfigError, st.generation.size() == std::size_t(ga_opt.generation) &&
                                 (st.population.empty() || st.population.size() == std::size_t(ga_opt.population)),
                "--resume: the checkpoint's population/generation sizes differ from --ga.population/--ga.generation");
  install_stop_handlers();

  const int64_t n_train = ds.train.size();
  const int steps = static_cast<int>(n_train / cfg.train.batch);  // the last partial batch is dropped
  GNAS_LOG(INFO) << "gnas search: " << ds.name << " (" << n_train << " train / " << ds.val.size() << " val images, "
                 << ds.num_classes << " classes) on " << device << ", supernet C=" << cfg.net.channels
                 << " N_cell=" << cfg.net.cells << " (" << n_params << " parameters), " << cfg.train.epochs
                 << " epochs x " << steps << " steps of " << cfg.train.batch << " -> " << cfg.out;
  const bool tty = cfg.progress && stdout_is_tty();
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  int steps_this_process = 0;

  for (; st.epoch < cfg.train.epochs; ++st.epoch) {
    const int epoch = st.epoch;
    const auto t0 = Clock::now();
    const double lr = lr_at(cfg.train, epoch);
    set_lr(*sgd, lr);
    net->train();
    if (st.step == 0) st.data_rng_epoch_start = st.data_rng;
    Rng perm_rng = st.data_rng_epoch_start;
    const auto perm = permutation(n_train, perm_rng);
    if (st.step == 0) st.data_rng = perm_rng;  // a resumed epoch keeps the data RNG where it stopped
    auto loss_sum = torch::full({}, st.loss_sum, f64);
    auto correct = torch::full({}, st.correct, i64);
    Progress progress(tty, epoch, cfg.train.epochs, steps);
    for (; st.step < steps; ++st.step) {
      if (stop_requested()) {
        st.loss_sum = loss_sum.item<double>();
        st.correct = correct.item<int64_t>();
        st.epoch_seconds += seconds_since(t0);
        GNAS_CHECK_AS(TrainingError, std::isfinite(st.loss_sum), "stopping on signal ", stop_requested(),
                      " with a non-finite loss: no checkpoint written; the previous one is kept");
        save_checkpoint(ckpt_dir, net, *sgd, st);
        progress.clear();
        GNAS_LOG(WARN) << "signal " << stop_requested() << ": checkpoint written at epoch " << epoch + 1 << " step "
                       << st.step << "; exiting with code " << kExitRequeue
                       << " (resume with: gnas search --out " << cfg.out << " --resume)";
        return kExitRequeue;
      }
      if (++steps_this_process == cfg.debug_stop_after_steps) std::raise(SIGTERM);  // handled at the next step
      net->set_genome(ga::sample_for_batch(space, ga_opt, st.population, st.ga_rng));
      const std::vector<int64_t> idx(perm.begin() + int64_t(st.step) * cfg.train.batch,
                                     perm.begin() + int64_t(st.step + 1) * cfg.train.batch);
      auto [x, y] = make_batch(ds.train, idx, cfg.data.augment, cfg.data.cutout, st.data_rng);
      auto logits = net->forward(x);
      auto loss = torch::cross_entropy_loss(logits, y);
      loss.backward();
      sgd->step();
      clear_grads(net->active_parameters());
      loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(idx.size());
      correct += logits.detach().argmax(1).eq(y).sum();
      if (progress.due(st.step)) {
        const double seen = double(st.step + 1) * cfg.train.batch;
        progress.draw(st.step, loss_sum.item<double>() / seen, 100.0 * correct.item<int64_t>() / seen);
      }
    }
    progress.clear();
    const double seen = double(steps) * cfg.train.batch;
    const double train_loss = loss_sum.item<double>() / seen;
    const double train_acc = 100.0 * correct.item<int64_t>() / seen;
    GNAS_CHECK_AS(TrainingError, std::isfinite(train_loss), "epoch ", epoch + 1,
                  ": the training loss is not finite (", train_loss, "); lower --train.lr. The log, the best genome "
                  "and the checkpoint of the last good epoch are kept in ", cfg.out);

    // End of epoch: evaluate-and-replace rounds (DESIGN §4).
    std::set<ga::Genome> before;
    for (const auto& m : st.population) before.insert(m.genome);
    for (int round = 0; round < cfg.search.generations_per_epoch; ++round) {
      const auto subset = sample_without_replacement(ds.val.size(), cfg.search.n_v, st.data_rng);
      auto index = torch::tensor(subset, torch::kInt64).to(device);
      auto images = ds.val.images.index_select(0, index), labels = ds.val.labels.index_select(0, index);
      std::vector<ga::Member> scored;
      for (auto& g : st.generation) {
        net->set_genome(g);
        scored.push_back({g, static_cast<float>(evaluate_accuracy(net, images, labels, cfg.data.eval_batch))});
      }
      st.population = ga::replace(st.population, scored, ga_opt.population).population;
      log->append_generation(flatten(scored), fitness_of(scored), epoch, flatten(st.population),
                             fitness_of(st.population));
      st.generation = ga::next_generation(space, ga_opt, st.population, st.ga_rng);
    }
    int n_new = 0;
    for (const auto& m : st.population) n_new += before.count(m.genome) == 0;
    const ga::Member& best = st.population.front();
    net->set_genome(best.genome);
    const double full_val = evaluate_accuracy(net, ds.val.images, ds.val.labels, cfg.data.eval_batch);

    io::EpochRecord rec;
    rec.lr = lr;
    rec.train_loss = train_loss;
    rec.train_acc = train_acc;
    rec.time_s = st.epoch_seconds + seconds_since(t0);
    rec.best_fitness = best.fitness;
    rec.best_full_val_acc = full_val;
    rec.test_acc = std::nan("");
    rec.n_new = n_new;
    log->append_epoch(rec);
    log->set_best(best.genome, best.fitness);
    log->flush();
    io::write_file_atomic(cfg.out + "/best_genome.json", search::to_json(space, best.genome, best.fitness));
    io::write_file_atomic(cfg.out + "/cells.dot", search::to_dot(space, best.genome));
    // The checkpoint describes the start of the next epoch.
    RunState next = st;
    next.epoch = epoch + 1;
    next.step = 0;
    next.loss_sum = 0;
    next.correct = 0;
    next.epoch_seconds = 0;
    save_checkpoint(ckpt_dir, net, *sgd, next);

    std::ostringstream line;
    line << std::fixed << "epoch " << epoch + 1 << "/" << cfg.train.epochs << "  lr " << std::setprecision(4) << lr
         << "  loss " << train_loss << "  train_acc " << std::setprecision(1) << train_acc << "%  best_fitness "
         << best.fitness << "%  best_val " << full_val << "%  n_new " << n_new << "  " << rec.time_s << "s";
    GNAS_LOG(INFO) << line.str();
    st.step = 0;
    st.loss_sum = 0;
    st.correct = 0;
    st.epoch_seconds = 0;
  }
  if (!st.population.empty()) {
    GNAS_LOG(INFO) << "best genome (fitness " << st.population.front().fitness
                   << "%): " << search::to_text(space, st.population.front().genome);
  }
  GNAS_LOG(INFO) << "wrote " << cfg.out << "/{config.ini, log.h5, best_genome.json, cells.dot, checkpoints/}";
  return kExitOk;
}

}  // namespace gnas::train
