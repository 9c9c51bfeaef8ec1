// gnas search: the GeneticNAS loop (paper Alg. 2, DESIGN §4-6), data-parallel over a Communicator,
// with checkpoints and resume.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <functional>
#include <cstring>
#include <iomanip>
#include <set>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/core/signals.h"
#include "gnas/dist/collectives.h"
#include "gnas/ga/operators.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/io/run_dir.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/commands.h"
#include "gnas/train/common.h"
#include "gnas/core/progress.h"

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

/// Hash of a population's genomes and fitness values, for --debug.check_sync.
int64_t population_hash(const std::vector<ga::Member>& members) {
  std::vector<std::uint8_t> bytes = flatten(members);
  for (float f : fitness_of(members)) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&f);
    bytes.insert(bytes.end(), p, p + sizeof f);
  }
  return static_cast<int64_t>(search::genome_hash(bytes));
}

/// The GA state that rank 0 broadcasts after every replacement: population, fitness, next
/// generation and the GA generator, as bytes of a size every rank knows.
std::vector<uint8_t> pack_ga(const std::vector<ga::Member>& pop, const std::vector<ga::Genome>& gen, const Rng& rng) {
  std::vector<uint8_t> out = flatten(pop);
  const auto fit = fitness_of(pop);
  const auto* f = reinterpret_cast<const uint8_t*>(fit.data());
  out.insert(out.end(), f, f + fit.size() * sizeof(float));
  for (const auto& g : gen) out.insert(out.end(), g.begin(), g.end());
  const auto* r = reinterpret_cast<const uint8_t*>(rng.state().data());
  out.insert(out.end(), r, r + sizeof(Rng::State));
  return out;
}
void unpack_ga(const std::vector<uint8_t>& bytes, std::size_t length, std::vector<ga::Member>& pop,
               std::vector<ga::Genome>& gen, Rng& rng) {
  std::size_t at = 0;
  for (auto& m : pop) {
    m.genome.assign(bytes.begin() + at, bytes.begin() + at + length);
    at += length;
  }
  for (auto& m : pop) {
    std::memcpy(&m.fitness, bytes.data() + at, sizeof(float));
    at += sizeof(float);
  }
  for (auto& g : gen) {
    g.assign(bytes.begin() + at, bytes.begin() + at + length);
    at += length;
  }
  Rng::State s{};
  std::memcpy(s.data(), bytes.data() + at, sizeof s);
  rng.set_state(s);
}

/// Everything a search needs, built on every rank.
struct Setup {
  data::Dataset ds;
  search::SearchSpace space;
  nn::Network net{nullptr};
  std::unique_ptr<torch::optim::SGD> sgd;
  std::unique_ptr<io::RunDirLock> lock;  // rank 0 only: held for the whole run
  std::unique_ptr<io::Hdf5Log> log;      // rank 0 only
  RunState st;
  std::string resumed_from;
  int64_t n_params = 0;
};

}  // namespace

int run_search(const RunConfig& cfg, dist::Communicator& comm) {
  const int rank = comm.rank(), world = comm.size();
  const bool root = rank == 0;
  const auto& ga_opt = cfg.search.ga;
  const bool random_search = cfg.search.strategy == ga::Strategy::kRandom;
  apply_threads(cfg.threads > 0 ? cfg.threads : (world > 1 ? 1 : 0));
  const std::string ckpt_dir = cfg.out + "/checkpoints";

  // ---- set-up on every rank; a failure anywhere (options, data, output directory) is reported
  // once, by the lowest failing rank, and every rank exits: nobody waits in a collective.
  Setup s;
  torch::Device device(torch::kCPU);
  std::exception_ptr setup_error;
  std::function<void()> write_run;  // rank 0's writes, once every rank's set-up has succeeded
  try {
    GNAS_CHECK_AS(ConfigError, cfg.train.batch >= world, "--train.batch ", cfg.train.batch,
                  " is smaller than the number of ranks (", world, ")");
    // Checks first: nothing is created or written until every check (options, data, directory) passed.
    if (root) {
      if (cfg.resume)
        io::check_resumable_run_dir(cfg.out);
      else
        io::check_new_run_dir(cfg.out, cfg.force);
    }
    device = select_device(cfg.device, comm.local_rank());
    torch::manual_seed(cfg.seed);
    s.ds = data::load_dataset(cfg.data, /*need_test=*/false);
    GNAS_CHECK_AS(ConfigError, cfg.search.n_v <= s.ds.val.size(), "--ga.n_v ", cfg.search.n_v,
                  " is larger than the validation split (", s.ds.val.size(), " images)");
    GNAS_CHECK_AS(ConfigError, cfg.train.batch <= s.ds.train.size(), "--train.batch ", cfg.train.batch,
                  " is larger than the training split (", s.ds.train.size(), " images)");
    s.ds.to(device);
    s.space.n_blocks = cfg.net.blocks;
    s.net = nn::Network(network_options(cfg.net, s.ds.num_classes));
    s.net->to(device);
    s.net->set_bn_batch_stats_in_eval(cfg.search.bn_eval == "batch");
    s.sgd = make_sgd(s.net->parameters(), cfg.train);
    for (const auto& p : s.net->parameters()) s.n_params += p.numel();
    s.st.ga_rng = Rng(cfg.seed, 1);
    s.st.data_rng = Rng(cfg.seed, 2);
    std::string changes;  // rank 0, --resume: accepted option changes
    if (cfg.resume) {
      std::vector<std::string> structural = kStructuralKeys;
      structural.insert(structural.end(), {"ga.population", "ga.generation", "ga.strategy"});
      const std::string stored_ini = cfg.out + "/config.ini";
      const bool have_ini = io::path_exists(stored_ini);
      if (root && have_ini) changes = check_resume_config(io::read_file(stored_ini), cfg.config_text, structural);
      s.resumed_from = load_checkpoint(ckpt_dir, s.net, *s.sgd, s.st);
      s.net->to(device);
      if (root) {
        const auto& attrs = s.st.log.attrs;
        if (!have_ini) changes = check_resume_config(attrs.config, cfg.config_text, structural);
        GNAS_CHECK_AS(ConfigError, attrs.dataset == s.ds.name, "--resume: the run was searching ", attrs.dataset,
                      " but --data gives ", s.ds.name);
      }
    } else {
      s.st.generation = ga::random_generation(s.space, ga_opt.generation, s.st.ga_rng);
    }
    GNAS_CHECK_AS(ConfigError,
                  s.st.generation.size() == std::size_t(ga_opt.generation) &&
                      (s.st.population.empty() || s.st.population.size() == std::size_t(ga_opt.population)),
                  "--resume: the checkpoint's population/generation sizes differ from --ga.population/--ga.generation");
    // Every rank has passed its checks (agreed below) before rank 0 writes anything.
    write_run = [&, changes] {
      // One writer per run directory, from here to the end of the process.
      s.lock = std::make_unique<io::RunDirLock>(cfg.out, cfg.force && !cfg.resume);
      io::write_file_atomic(cfg.out + "/config.ini", cfg.config_text);
      if (cfg.resume) {
        auto& attrs = s.st.log.attrs;
        if (!changes.empty()) GNAS_LOG(WARN) << "--resume with changed options: " << changes;
        attrs.config = cfg.config_text;
        attrs.world_size = world;
        if (s.st.epoch < cfg.train.epochs)
          attrs.resume_history += resume_record(s.resumed_from, s.st.epoch, s.st.step, world, changes);
        s.log = io::Hdf5Log::restore(cfg.out + "/log.h5", s.st.log);
      } else {
        io::LogAttributes attrs{"search", cfg.config_text, GNAS_VERSION, cfg.seed, world, s.ds.name, now_iso8601(), "",
                                random_search ? "random" : "ga", compat_name(cfg.net.compat)};
        s.log = std::make_unique<io::Hdf5Log>(cfg.out + "/log.h5", attrs, s.space.length(), ga_opt.generation,
                                              ga_opt.population, true);
      }
    };
  } catch (...) {
    setup_error = std::current_exception();
  }
  dist::agree_on_failure(comm, setup_error);
  // Rank 0 takes the run directory (lock, --force clean-up) and writes; a failure there (another
  // writer holds the lock) is agreed on too, so no rank waits for rank 0 in a collective.
  std::exception_ptr write_error;
  try {
    if (root) write_run();
  } catch (...) {
    write_error = std::current_exception();
  }
  dist::agree_on_failure(comm, write_error);

  auto& net = s.net;
  auto& st = s.st;
  const auto& ds = s.ds;
  const auto& space = s.space;
  const ga::GeneSpace genes(space);  // built once: the GA operators run on it every step
  // Identical replicas: rank 0's parameters and buffers go to everyone (a no-op on one rank).
  if (world > 1) {
    torch::NoGradGuard ng;
    for (auto p : net->parameters()) comm.broadcast_(p, 0);
    for (auto b : net->buffers()) comm.broadcast_(b, 0);
  }
  dist::GradSync grad_sync(comm);

  const int64_t n_train = ds.train.size();
  const int steps = static_cast<int>(n_train / cfg.train.batch);  // the last partial batch is dropped
  const auto [shard_begin, shard_end] = dist::shard_range(cfg.train.batch, rank, world);
  const double local_fraction = double(shard_end - shard_begin) / cfg.train.batch;
  if (!s.resumed_from.empty() && st.epoch >= cfg.train.epochs)
    GNAS_LOG(INFO) << cfg.out << " has completed its " << st.epoch << " epochs: nothing to do (raise --train.epochs "
                   << "to continue it)";
  else if (!s.resumed_from.empty())
    GNAS_LOG(INFO) << "resuming " << cfg.out << " from " << s.resumed_from << " at epoch " << st.epoch + 1
                   << ", step " << st.step;
  GNAS_LOG(INFO) << "gnas search: " << ds.name << " (" << n_train << " train / " << ds.val.size() << " val images, "
                 << ds.num_classes << " classes) on " << device << (world > 1 ? " x " + std::to_string(world) + " ranks" : "")
                 << ", supernet C=" << cfg.net.channels << " N_cell=" << cfg.net.cells << " (" << s.n_params
                 << " parameters), " << cfg.train.epochs << " epochs x " << steps << " steps of " << cfg.train.batch
                 << " -> " << cfg.out;
  const bool show_progress = root && cfg.progress;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  int steps_this_process = 0;
  int64_t sync_checks = 0;
  std::vector<double> epoch_times;  // rank 0: this process's epoch durations, for the ETA

  // --debug.check_sync: every rank compares its value with rank 0's; any mismatch stops all ranks.
  auto check_same = [&](int64_t mine, const std::string& what) {
    auto t = torch::tensor({mine}, torch::kInt64);
    comm.broadcast_(t, 0);
    auto mismatch = torch::tensor({int64_t(t.item<int64_t>() != mine)}, torch::kInt64);
    comm.allreduce_sum_(mismatch);
    GNAS_CHECK_AS(CommError, mismatch.item<int64_t>() == 0, "--debug.check_sync: ", mismatch.item<int64_t>(),
                  " rank(s) disagree with rank 0 on ", what);
    ++sync_checks;
  };

  for (; st.epoch < cfg.train.epochs; ++st.epoch) {
    const int epoch = st.epoch;
    const auto t0 = Clock::now();
    const double lr = lr_at(cfg.train, epoch);
    set_lr(*s.sgd, lr);
    net->train();
    if (st.step == 0) st.data_rng_epoch_start = st.data_rng;
    Rng perm_rng = st.data_rng_epoch_start;
    const auto perm = permutation(n_train, perm_rng);  // the same on every rank: shards never overlap
    if (st.step == 0) st.data_rng = perm_rng;          // a resumed epoch keeps the data RNG where it stopped
    // This rank's samples only; a resumed partial epoch's totals count once, on rank 0.
    auto loss_sum = torch::full({}, root ? st.loss_sum : 0.0, f64);
    auto correct = torch::full({}, root ? st.correct : int64_t{0}, i64);
    Progress progress(show_progress, epoch, cfg.train.epochs, steps, st.step);
    for (; st.step < steps; ++st.step) {
      ++steps_this_process;
      if (steps_this_process == cfg.debug.stop_after_steps) std::raise(SIGTERM);
      if (rank == cfg.debug.fail_rank && steps_this_process > cfg.debug.fail_after_steps)
        throw Error(detail::concat("--debug.fail_rank: injected failure on rank ", rank, " at epoch ", epoch + 1,
                                   " step ", st.step));
      const ga::Genome genome = random_search ? ga::random_genome(genes, st.ga_rng)
                                              : ga::sample_for_batch(genes, ga_opt, st.population, st.ga_rng);
      if (cfg.debug.check_sync)
        check_same(static_cast<int64_t>(search::genome_hash(genome)),
                   detail::concat("the genome of epoch ", epoch + 1, " step ", st.step));
      net->set_genome(genome);
      const std::vector<int64_t> idx(perm.begin() + int64_t(st.step) * cfg.train.batch,
                                     perm.begin() + int64_t(st.step + 1) * cfg.train.batch);
      auto [x, y] = make_batch_shard(ds.train, idx, shard_begin, shard_end, cfg.data.augment, cfg.data.cutout,
                                     st.data_rng);
      auto logits = net->forward(x);
      auto loss = torch::cross_entropy_loss(logits, y);
      loss.backward();
      const auto active = net->active_parameters();
      float stop = stop_requested() ? 1.f : 0.f;  // summed over ranks with the gradients
      grad_sync.average(active, local_fraction, stop);
      s.sgd->step();
      clear_grads(active);
      loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(shard_end - shard_begin);
      correct += logits.detach().argmax(1).eq(y).sum();
      if (progress.due(st.step)) {
        const double seen = double(st.step + 1) * double(shard_end - shard_begin);
        progress.draw(st.step, loss_sum.item<double>() / seen, 100.0 * correct.item<int64_t>() / seen, cfg.train.batch);
      }
      if (stop > 0) {
        // Every rank saw the same sum: all stop after this same step, with every generator
        // (GA, data, torch) exactly where an uninterrupted run would continue from.
        ++st.step;
        auto totals = torch::stack({loss_sum, correct.to(torch::kFloat64)});
        comm.allreduce_sum_(totals);
        st.loss_sum = totals[0].item<double>();
        st.correct = static_cast<int64_t>(totals[1].item<double>());
        st.epoch_seconds += seconds_since(t0);
        progress.clear();
        GNAS_CHECK_AS(TrainingError, std::isfinite(st.loss_sum), "stopping on a signal with a non-finite loss: no "
                      "checkpoint written; the previous one is kept");
        if (root) {
          st.log = s.log->content();
          save_checkpoint(ckpt_dir, net, *s.sgd, st);
        }
        comm.barrier();  // the checkpoint is complete before any rank exits
        if (root)
          GNAS_LOG(WARN) << "signal " << (stop_requested() ? stop_requested() : SIGTERM)
                         << ": checkpoint written at epoch " << epoch + 1 << " step " << st.step
                         << "; exiting with code " << kExitRequeue << " (resume with: gnas search --out " << cfg.out
                         << " --resume)";
        return kExitRequeue;
      }
    }
    progress.clear();
    auto totals = torch::stack({loss_sum, correct.to(torch::kFloat64)});
    comm.allreduce_sum_(totals);
    const double seen = double(steps) * cfg.train.batch;
    const double train_loss = totals[0].item<double>() / seen;
    const double train_acc = 100.0 * totals[1].item<double>() / seen;
    GNAS_CHECK_AS(TrainingError, std::isfinite(train_loss), "epoch ", epoch + 1,
                  ": the training loss is not finite (", train_loss, "); lower --train.lr. What earlier epochs wrote "
                  "(log, best genome, checkpoint) is kept in ", cfg.out);

    // End of epoch: evaluate-and-replace rounds (DESIGN §4). The generation is split among ranks,
    // every rank scores its members on the same N_v images, the fitness list is summed (each entry
    // is non-zero on one rank only, so the sum is exact), rank 0 replaces and breeds, broadcasts.
    int n_new = 0;  // members inserted into the population, summed over this epoch's generations
    for (int round = 0; round < cfg.search.generations_per_epoch; ++round) {
      progress.stage(detail::concat("evaluating generation ", round + 1, "/", cfg.search.generations_per_epoch, " (",
                                    ga_opt.generation, " genomes on ", cfg.search.n_v, " validation images)"));
      const auto subset = sample_without_replacement(ds.val.size(), cfg.search.n_v, st.data_rng);
      auto index = torch::tensor(subset, torch::kInt64).to(device);
      auto images = ds.val.images.index_select(0, index), labels = ds.val.labels.index_select(0, index);
      const auto fitness = evaluate_generation(net, st.generation, images, labels, cfg.data.eval_batch, comm);
      std::vector<ga::Member> scored;
      for (int i = 0; i < ga_opt.generation; ++i) scored.push_back({st.generation[i], fitness[i]});
      const auto replaced = ga::replace(st.population, scored, ga_opt.population);
      const auto& local_population = replaced.population;
      st.population = local_population;
      n_new += replaced.n_new;
      if (root) {
        s.log->append_generation(flatten(scored), fitness_of(scored), epoch, replaced.n_new, flatten(st.population),
                                 fitness_of(st.population));
        st.generation = random_search ? ga::dedup_and_refill(genes, {}, st.population, ga_opt.generation, st.ga_rng)
                                      : ga::next_generation(genes, ga_opt, st.population, st.ga_rng);
      }
      if (world > 1) {
        std::vector<uint8_t> bytes = pack_ga(st.population, st.generation, st.ga_rng);
        dist::broadcast_bytes(comm, bytes, 0);
        unpack_ga(bytes, std::size_t(space.length()), st.population, st.generation, st.ga_rng);
        // Each rank's own replacement must equal rank 0's, or the replicas would drift.
        if (cfg.debug.check_sync)
          check_same(population_hash(local_population),
                     detail::concat("the population after the replacement of epoch ", epoch + 1));
      }
    }
    progress.stage("scoring the best genome on the whole validation split");
    const ga::Member best = st.population.front();
    net->set_genome(best.genome);
    auto full = torch::tensor({count_correct(net, ds.val.images, ds.val.labels, cfg.data.eval_batch, rank, world)},
                              torch::kInt64);
    comm.allreduce_sum_(full);
    const double full_val = 100.0 * full.item<int64_t>() / std::max<int64_t>(1, ds.val.size());

    const double epoch_time = st.epoch_seconds + seconds_since(t0);
    st.clear_epoch_progress();
    if (root) {
      io::EpochRecord rec;
      rec.lr = lr;
      rec.train_loss = train_loss;
      rec.train_acc = train_acc;
      rec.time_s = epoch_time;
      rec.best_fitness = best.fitness;
      rec.best_full_val_acc = full_val;
      rec.test_acc = std::nan("");
      rec.n_new = n_new;
      // The genome handed to retrain: the population's best at the epoch with the highest
      // full-validation accuracy (an earlier epoch keeps it on a tie), as the authors keep the best
      // by held-out accuracy; the last epoch's best is last_genome.json.
      double best_val_so_far = -1;
      for (const auto& e : s.log->content().epochs) best_val_so_far = std::max(best_val_so_far, e.best_full_val_acc);
      s.log->append_epoch(rec);
      const auto compat = cfg.net.compat;
      if (full_val > best_val_so_far) {
        s.log->set_best(best.genome, best.fitness);
        io::write_file_atomic(cfg.out + "/best_genome.json", search::to_json(space, best.genome, best.fitness, compat));
        io::write_file_atomic(cfg.out + "/cells.dot", search::to_dot(space, best.genome, compat));
      }
      s.log->flush();
      io::write_file_atomic(cfg.out + "/last_genome.json", search::to_json(space, best.genome, best.fitness, compat));
      RunState next = st;  // the checkpoint describes the start of the next epoch
      next.epoch = epoch + 1;
      next.log = s.log->content();
      save_checkpoint(ckpt_dir, net, *s.sgd, next);
      std::ostringstream line;
      line << std::fixed << "epoch " << epoch + 1 << "/" << cfg.train.epochs << "  lr " << std::setprecision(4) << lr
           << "  loss " << train_loss << "  train_acc " << std::setprecision(1) << train_acc << "%  best_fitness "
           << best.fitness << "%  best_val " << full_val << "%  n_new " << n_new << "  " << rec.time_s << "s";
      // Remaining time at this process's mean epoch time (a resumed run counts its own epochs).
      epoch_times.push_back(rec.time_s);
      const int left = cfg.train.epochs - epoch - 1;
      if (left > 0) {
        double mean = 0;
        for (double t : epoch_times) mean += t / double(epoch_times.size());
        const long eta = std::lround(mean * left);
        line << "  eta " << eta / 3600 << "h" << std::setw(2) << std::setfill('0') << (eta % 3600) / 60 << "m";
      }
      GNAS_LOG(INFO) << line.str();
    }
  }
  if (cfg.debug.check_sync)
    GNAS_LOG(INFO) << "--debug.check_sync: " << sync_checks << " checks, all " << world << " rank(s) agreed";
  if (root && !s.log->content().best_genome.empty()) {
    const auto& c = s.log->content();
    std::size_t best_epoch = 0;
    for (std::size_t e = 1; e < c.epochs.size(); ++e)
      if (c.epochs[e].best_full_val_acc > c.epochs[best_epoch].best_full_val_acc) best_epoch = e;
    std::ostringstream line;
    line << std::fixed << std::setprecision(1) << "best genome (epoch " << best_epoch + 1 << ", fitness "
         << c.best_fitness << "%, full validation " << c.epochs[best_epoch].best_full_val_acc
         << "%): " << search::to_text(space, c.best_genome);
    GNAS_LOG(INFO) << line.str();
  }
  if (root) {
    GNAS_LOG(INFO) << "wrote " << cfg.out
                   << "/{config.ini, log.h5, best_genome.json (best validation epoch), last_genome.json (last epoch), "
                      "cells.dot, checkpoints/}";
    // The paper's retrain recipe for CIFAR; the built-in (CPU-sized) defaults for the synthetic set.
    const std::string recipe = cfg.data.dir.empty() ? ""
                               : " --data " + cfg.data.dir + " --config configs/retrain_" +
                                     (s.ds.name == "cifar100" ? "cifar100" : "cifar10") + ".ini";
    GNAS_LOG(INFO) << "retrain the best genome with: gnas retrain --genome " << cfg.out << " --out " << cfg.out
                   << "-retrain" << recipe;
  }
  return kExitOk;
}

}  // namespace gnas::train
