// gnas search: the GeneticNAS loop (paper Alg. 2, DESIGN §4-6), data-parallel over a Communicator,
// with checkpoints and resume.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <optional>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/hash.h"
#include "gnas/core/log.h"
#include "gnas/io/config_keys.h"
#include "gnas/core/stats.h"
#include "gnas/distributed/collectives.h"
#include "gnas/data/augment.h"
#include "gnas/fitness/score_table.h"
#include "gnas/fitness/training_free.h"
#include "gnas/ga/operators.h"
#include "gnas/ga/state.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/space/nb201.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/entry_points.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/epoch_loop.h"
#include "gnas/train/run_setup.h"
#include "gnas/train/step.h"

namespace gnas::train {
namespace {

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
  return static_cast<int64_t>(space::genome_hash(bytes));
}

/// Everything a search needs, built on every rank.
struct Search : CommandRun {
  using CommandRun::CommandRun;
  int64_t sync_checks = 0;
  std::optional<space::nb201::Table> table;  ///< --nb201.table: the ground truth
  double table_best_test = NAN, table_mean_test = NAN;  ///< its highest and mean test_acc (set with it)
  std::vector<space::Genome> rank_set;        ///< the ranking set (with a table and --nb201.rank_cells > 0)
  /// Training-free --search.fitness: the run's scores (GA cells), and the ranking set's own (so
  /// that a combined score's ranks among the GA's cells do not depend on the ranking set).
  std::unique_ptr<fitness::Proxy> proxy, rank_proxy;
  torch::Tensor proxy_images;                  ///< NASWOT's batch (CPU), as gnas score draws it

  bool random_search() const { return cfg.search.strategy == ga::Strategy::kRandom; }
  bool training_free() const { return cfg.search.training_free(); }
  bool warm() const { return cfg.search.proxy.warm_start > 0; }

  /// A Proxy of `kinds` on the scoring network of [proxy].
  std::unique_ptr<fitness::Proxy> make_proxy(const std::string& kinds) const {
    nn::NetworkOptions net(cfg.net, ds.num_classes);
    net.channels = cfg.search.proxy.channels;
    net.cells = cfg.search.proxy.cells;
    auto p = std::make_unique<fitness::Proxy>(fitness::parse_score_list(kinds, "search.fitness"), net, cfg.seed,
                                              proxy_images);
    if (!cfg.search.proxy.table.empty()) preload(*p);
    return p;
  }

  /// --proxy.table: the scores of a table of this run's setup, read instead of computed.
  void preload(fitness::Proxy& p) const {
    const std::string& path = cfg.search.proxy.table;
    GNAS_CHECK_AS(ConfigError, space->name() != "paper" || (cfg.net.compat == NetCompat::kPaper && cfg.net.share_slots),
                  "--proxy.table: gnas score scores the paper space's default network (--net.compat paper, shared "
                  "slots); this run scores another (--net.compat / --net.share_slots), so the table's scores are not "
                  "its own: leave --proxy.table out");
    const fitness::ScoreTable t = fitness::read_score_table(path);
    fitness::ScoreSetup mine;
    mine.space = space->name();
    mine.channels = cfg.search.proxy.channels;
    mine.cells = cfg.search.proxy.cells;
    mine.blocks = cfg.net.blocks;
    mine.batch = cfg.search.proxy.batch;
    mine.seed = cfg.seed;
    mine.data = ds.name;
    mine.train_images = ds.train.size();
    const std::string differs = t.setup.difference(mine);
    GNAS_CHECK_AS(ConfigError, differs.empty(), "--proxy.table ", path, " was scored with ", differs,
                  ", this run scores with the other: its scores would not be this run's (score a table with the "
                  "run's --proxy.*, --seed and --data.*, or leave --proxy.table out)");
    for (const auto& r : t.rows) {
      space::Genome g;
      try {
        g = space::load_genome(*space, r.arch);
      } catch (const std::exception& e) {
        throw ConfigError(detail::concat("--proxy.table ", path, ": the cell '", r.arch, "': ", e.what()));
      }
      fitness::CellScores s;
      s.params = r.params, s.naswot = r.naswot, s.synflow = r.synflow;
      if (p.complete(s)) p.preload(g, s);
    }
  }

  /// Every rank: checks, data, supernet, and the checkpoint on --resume. Writes nothing.
  void set_up() {
    GNAS_CHECK_AS(ConfigError, cfg.train.batch >= comm.size(), "--train.batch ", cfg.train.batch,
                  " is smaller than the number of ranks (", comm.size(), ")");
    if (root) check_run_dir(cfg);
    choose_device();
    torch::manual_seed(cfg.seed);
    ds = data::load_dataset(cfg.data, /*need_test=*/false);
    GNAS_CHECK_AS(ConfigError, cfg.search.n_v <= ds.val.size(), "--search.n_v ", cfg.search.n_v,
                  " is larger than the validation split (", ds.val.size(), " images)");
    GNAS_CHECK_AS(ConfigError, cfg.train.batch <= ds.train.size(), "--train.batch ", cfg.train.batch,
                  " is larger than the training split (", ds.train.size(), " images)");
    if (training_free() || warm()) {
      // The images gnas score draws for this seed: a search's scores equal its score table's.
      GNAS_CHECK_AS(ConfigError, cfg.search.proxy.batch <= ds.train.size(), "--proxy.batch ", cfg.search.proxy.batch,
                    " is larger than the training split (", ds.train.size(), " images)");
      Rng image_rng(cfg.seed, 5);
      const auto index = sample_without_replacement(ds.train.size(), cfg.search.proxy.batch, image_rng);
      proxy_images = data::normalize(ds.train.images.index_select(0, torch::tensor(index, torch::kInt64)));
    }
    ds.to(device);
    space = space::make_space(cfg.net.space, cfg.net.blocks);
    if (!cfg.search.nb201.table.empty()) {  // before --out
      table = space::nb201::load_table(cfg.search.nb201.table);
      table_best_test = *std::max_element(table->test.begin(), table->test.end());
      table_mean_test = space::nb201::mean_test(*table);
    }
    build_network(nn::NetworkOptions(cfg.net, ds.num_classes));
    if (training_free()) proxy = make_proxy(cfg.search.fitness);
    net->set_bn_batch_stats_in_eval(cfg.search.bn_eval == ga::BnEval::kBatch);
    st.ga_rng = Rng(cfg.seed, 1);
    st.data_rng = Rng(cfg.seed, 2);
    const auto& ga_opt = cfg.search.ga;
    if (cfg.resume) {
      std::vector<std::string> structural = io::structural_keys();
      const auto& own = io::search_structural_keys();
      structural.insert(structural.end(), own.begin(), own.end());
      resume_from_checkpoint(cfg, structural, ds.name, root, net, *sgd, st, run);
    } else {
      st.generation = ga::random_generation(space->genes(), ga_opt.generation, st.ga_rng);
    }
    if (table && cfg.search.nb201.rank_cells > 0) {
      const auto& logged = st.log.rank_genomes;  // --resume: the run's own set, whatever --seed is now
      const auto len = std::size_t(space->length());
      if (cfg.resume && logged.size() == len * std::size_t(cfg.search.nb201.rank_cells)) {
        for (std::size_t i = 0; i < logged.size(); i += len)
          rank_set.emplace_back(logged.begin() + long(i), logged.begin() + long(i + len));
      } else {
        Rng rank_rng(cfg.seed, 3);
        for (int code : space::nb201::ranking_set(*table, cfg.search.nb201.rank_cells, rank_rng))
          rank_set.push_back(space::nb201::decode(code));
      }
    }
    if (training_free() && !rank_set.empty()) rank_proxy = make_proxy(cfg.search.fitness);
    GNAS_CHECK_AS(ConfigError,
                  st.generation.size() == std::size_t(ga_opt.generation) &&
                      (st.population.empty() || st.population.size() == std::size_t(ga_opt.population)),
                  "--resume: the checkpoint's population/generation sizes differ from --ga.population/--ga.generation");
  }

  /// --proxy.warm_start M, a new run, every rank: M random cells scored by the proxy (the run's own
  /// training-free fitness, or --proxy.score for the hybrid); the best N_g replace the random first
  /// generation. Collective (the cells are split among the ranks).
  void warm_start(Progress* progress) {
    if (!warm() || cfg.resume) return;
    const int m = cfg.search.proxy.warm_start;
    const std::vector<space::Genome> pool = warm_pool();
    std::unique_ptr<fitness::Proxy> own;
    fitness::Proxy& p = training_free() ? *proxy : *(own = make_proxy(cfg.search.proxy.score));
    const auto t0 = std::chrono::steady_clock::now();
    if (root)
      GNAS_LOG(INFO) << "warm start: scoring " << m << " random cells with " << (training_free() ? cfg.search.fitness : cfg.search.proxy.score)
                     << " (C=" << cfg.search.proxy.channels << " N=" << cfg.search.proxy.cells << "); the best "
                     << cfg.search.ga.generation << " are the first generation";
    auto last = t0;
    p.score(pool, comm, [&](std::size_t done, std::size_t total) {
      const auto now = std::chrono::steady_clock::now();
      if (root && progress == nullptr && std::chrono::duration<double>(now - last).count() >= 30) {
        last = now;
        GNAS_LOG(INFO) << "warm start: " << done << "/" << total << " cells scored on this rank";
      }
    });
    const std::vector<float> f = p.fitness(pool);
    std::vector<std::size_t> order(pool.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return f[a] > f[b]; });
    st.generation.clear();
    for (int i = 0; i < cfg.search.ga.generation; ++i) st.generation.push_back(pool[order[std::size_t(i)]]);
    if (root)
      GNAS_LOG(INFO) << std::fixed << std::setprecision(1) << "warm start: " << m << " cells scored in "
                     << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                     << " s; the first generation's scores " << f[order[std::size_t(cfg.search.ga.generation) - 1]]
                     << " to " << f[order[0]];
  }

  std::vector<space::Genome> warm_pool() const {
    Rng pool_rng(cfg.seed, 6);
    return ga::random_generation(space->genes(), cfg.search.proxy.warm_start, pool_rng);
  }

  /// --resume with a training-free fitness, every rank: the cells the run had scored (its warm
  /// pool and every generation in the log) are scored again, so that a combined score ranks
  /// among the same cells as in an uninterrupted run. Collective.
  void restore_cache() {
    if (!training_free() || !cfg.resume) return;
    std::vector<space::Genome> cells = warm() ? warm_pool() : std::vector<space::Genome>{};
    std::vector<std::uint8_t> flat = root ? st.log.generation_genomes : std::vector<std::uint8_t>{};
    if (comm.size() > 1) {  // rank 0's log is the run's
      auto n = torch::tensor({int64_t(flat.size())}, torch::kInt64);
      comm.broadcast_(n, 0);
      flat.resize(std::size_t(n.item<int64_t>()));
      distributed::broadcast_bytes(comm, flat, 0);
    }
    const auto len = std::size_t(space->length());
    for (std::size_t i = 0; i + len <= flat.size(); i += len) cells.emplace_back(flat.begin() + long(i), flat.begin() + long(i + len));
    if (root) GNAS_LOG(INFO) << "resume: scoring the run's " << cells.size() << " earlier cells again (" << cfg.search.fitness << ")";
    proxy->score(cells, comm);
  }

  /// --debug.check_sync: every rank compares its value with rank 0's; any mismatch stops all ranks.
  void check_same(int64_t mine, const std::string& what) {
    auto t = torch::tensor({mine}, torch::kInt64);
    comm.broadcast_(t, 0);
    auto mismatch = torch::tensor({int64_t(t.item<int64_t>() != mine)}, torch::kInt64);
    comm.allreduce_sum_(mismatch);
    GNAS_CHECK_AS(CommError, mismatch.item<int64_t>() == 0, "--debug.check_sync: ", mismatch.item<int64_t>(),
                  " rank(s) disagree with rank 0 on ", what);
    ++sync_checks;
  }

  /// Alg. 1: the genome of this batch (a uniform one under random search).
  void choose_genome(const ga::GeneSpace& genes, int epoch, int step) {
    // The hybrid's first epoch: the supernet trains only on the proxy's chosen first generation.
    const ga::Genome genome =
        warm() && st.population.empty() ? st.generation[std::size_t(st.ga_rng.uniform_int(st.generation.size()))]
        : random_search()               ? ga::random_genome(genes, st.ga_rng)
                                        : ga::sample_for_batch(genes, cfg.search.ga, st.population, st.ga_rng);
    if (cfg.debug.check_sync)
      check_same(static_cast<int64_t>(space::genome_hash(genome)),
                 detail::concat("the genome of epoch ", epoch + 1, " step ", step));
    net->set_genome(genome);
  }

  /// End of epoch (DESIGN §4): evaluate-and-replace rounds. The generation is split among ranks,
  /// every rank scores its members on the same N_v images, the fitness list is summed (each entry
  /// is non-zero on one rank only, so the sum is exact), rank 0 replaces and breeds, broadcasts.
  /// Then the best member on the whole validation split, and rank 0's genome files.
  EpochEnd ga_rounds(const ga::GeneSpace& genes, int epoch, Progress& progress) {
    ga::GaOptions ga_opt = cfg.search.ga;  // --ga.selection auto: roulette for accuracies, rank for scores
    ga_opt.selection = ga_opt.resolved_selection(!training_free());
    const auto autocast = eval_autocast(cfg.train.precision, device);
    int n_new = 0;  // members inserted into the population, summed over this epoch's generations
    for (int round = 0; round < cfg.search.generations_per_epoch; ++round) {
      progress.stage(training_free()
                         ? detail::concat("scoring generation ", round + 1, "/", cfg.search.generations_per_epoch, " (",
                                          ga_opt.generation, " genomes, ", cfg.search.fitness, ")")
                         : detail::concat("evaluating generation ", round + 1, "/", cfg.search.generations_per_epoch,
                                          " (", ga_opt.generation, " genomes on ", cfg.search.n_v, " validation images)"));
      std::vector<float> fitness, rescored;
      if (training_free()) {
        // No supernet: the proxy scores the cells it has not seen; a combined score's ranks move as
        // cells are added, so the population's values are brought up to date before the replacement.
        proxy->score(st.generation, comm);
        fitness = proxy->fitness(st.generation);
        if (proxy->kinds().size() > 1 && !st.population.empty()) {
          std::vector<space::Genome> incumbents;
          for (const auto& m : st.population) incumbents.push_back(m.genome);
          const auto now = proxy->fitness(incumbents);
          for (std::size_t i = 0; i < now.size(); ++i) st.population[i].fitness = now[i];
        }
      } else {
        const auto subset = sample_without_replacement(ds.val.size(), cfg.search.n_v, st.data_rng);
        auto index = torch::tensor(subset, torch::kInt64).to(device);
        auto images = ds.val.images.index_select(0, index), labels = ds.val.labels.index_select(0, index);
        fitness = evaluate_generation(net, st.generation, images, labels, cfg.data.eval_batch, comm);
      // --search.rescore population: the incumbents are scored again on the same images by the same
      // supernet, so that they compete with the new generation on equal terms.
      if (cfg.search.rescore == ga::Rescore::kPopulation && !st.population.empty()) {
        std::vector<space::Genome> incumbents;
        for (const auto& m : st.population) incumbents.push_back(m.genome);
        rescored = evaluate_generation(net, incumbents, images, labels, cfg.data.eval_batch, comm);
        for (std::size_t i = 0; i < rescored.size(); ++i) st.population[i].fitness = rescored[i];
      }
      }
      std::vector<ga::Member> scored;
      for (int i = 0; i < ga_opt.generation; ++i) scored.push_back({st.generation[i], fitness[i]});
      const auto replaced = ga::replace(st.population, scored, ga_opt.population);
      st.population = replaced.population;
      n_new += replaced.n_new;
      if (root) {
        run.log->append_generation(flatten(scored), fitness_of(scored), epoch, replaced.n_new, flatten(st.population),
                                   fitness_of(st.population), rescored);
        st.generation = random_search() ? ga::dedup_and_refill(genes, {}, st.population, ga_opt.generation, st.ga_rng)
                                        : ga::next_generation(genes, ga_opt, st.population, st.ga_rng);
      }
      if (comm.size() > 1) {
        // The GA state in the checkpoint's encoding, of the size every rank knows: a rank of another
        // N_p, N_g or space is refused by the decoder, never read past the end.
        const ga::GaStateShape shape{st.population.size(), st.generation.size(), std::size_t(space->length())};
        std::vector<uint8_t> bytes =
            root ? ga::encode_state(st.population, st.generation, st.ga_rng, shape.length)
                 : std::vector<uint8_t>(ga::encoded_size(shape));
        distributed::broadcast_bytes(comm, bytes, 0);
        ga::GaState from_root;
        try {
          from_root = ga::decode_state(bytes, shape, "the GA state from rank 0");
        } catch (const IoError& e) {
          throw CommError(detail::concat(e.what(), " (rank ", comm.rank(), "): the ranks disagree on the run's shape"));
        }
        st.population = std::move(from_root.population);
        st.generation = std::move(from_root.generation);
        st.ga_rng.set_state(from_root.rng);
        // Each rank's own replacement must equal rank 0's, or the replicas would drift.
        if (cfg.debug.check_sync)
          check_same(population_hash(replaced.population),
                     detail::concat("the population after the replacement of epoch ", epoch + 1));
      }
    }
    const ga::Member best = st.population.front();
    double full_val = std::nan(""), full_val_loss = std::nan("");
    if (!training_free()) {
      progress.stage("scoring the best genome on the whole validation split");
      net->set_genome(best.genome);
      double loss_sum = 0;
      const int64_t hits = count_correct(net, ds.val.images, ds.val.labels, cfg.data.eval_batch, comm.rank(),
                                         comm.size(), nullptr, &loss_sum);
      auto full = torch::tensor({double(hits), loss_sum}, torch::kFloat64);  // counts below 2^53: exact
      comm.allreduce_sum_(full);
      const double n_val = double(std::max<int64_t>(1, ds.val.size()));
      full_val = 100.0 * full[0].item<double>() / n_val;
      full_val_loss = full[1].item<double>() / n_val;
    }
    if (root) write_genomes(best, full_val);
    EpochEnd end;
    std::ostringstream truth;  // the ground truth, for the epoch line
    if (table && root) {
      auto& r = end.record;
      r.gt_best_test = table->test_of(best.genome);
      r.gt_best_valid = table->valid_of(best.genome);
      double test = 0, valid = 0;
      for (const auto& m : st.population) test += table->test_of(m.genome), valid += table->valid_of(m.genome);
      r.gt_mean_test = test / double(st.population.size());
      r.gt_mean_valid = valid / double(st.population.size());
      const auto& chosen = run.log->content().best_genome;
      r.gt_chosen_test = table->test_of(chosen);
      r.gt_chosen_valid = table->valid_of(chosen);
      const auto standing = space::nb201::standing_of(*table, chosen);
      r.gt_chosen_rank = standing.rank;
      r.gt_chosen_below_pct = standing.below_pct;
      r.gt_table_best_test = table_best_test;
      r.gt_table_mean_test = table_mean_test;
      truth << std::fixed << std::setprecision(1) << "  table: best " << r.gt_best_test << "%, population mean "
            << r.gt_mean_test << "%, chosen " << r.gt_chosen_test << "% (above " << r.gt_chosen_below_pct
            << "% of cells)";
    }
    const bool last = epoch + 1 == cfg.train.epochs;
    const int every = cfg.search.nb201.rank_every;
    if (!rank_set.empty() && (last || (every > 0 && (epoch + 1) % every == 0))) {
      std::vector<float> scores;
      if (training_free()) {
        progress.stage(detail::concat("scoring the ranking set (", rank_set.size(), " cells, ", cfg.search.fitness, ")"));
        rank_proxy->score(rank_set, comm);  // once: the scores do not change
        scores = rank_proxy->fitness(rank_set);
      } else {
        progress.stage(detail::concat("scoring the ranking set (", rank_set.size(), " cells on ", ds.val.size(),
                                      " validation images)"));
        // At CPU scale this pass costs more than an epoch's training: a line every tenth of it, or
        // every --log.progress_seconds, with what is left (rank 0's share; the others score alike).
        const auto t0 = std::chrono::steady_clock::now();
        auto last_line = t0;
        scores = evaluate_generation(net, rank_set, ds.val.images, ds.val.labels, cfg.data.eval_batch, comm,
                                     [&](int64_t done, int64_t share) {
                                       const auto now = std::chrono::steady_clock::now();
                                       const double since = std::chrono::duration<double>(now - last_line).count();
                                       const int64_t tenth = std::max<int64_t>(1, share / 10);
                                       if (done == share || (done % tenth != 0 && since < log_settings().progress_seconds))
                                         return;
                                       last_line = now;
                                       const double spent = std::chrono::duration<double>(now - t0).count();
                                       progress.stage(detail::concat(
                                           "scoring the ranking set: ", done, "/", share, " cells",
                                           comm.size() > 1 ? " (this rank's share)" : "", ", ",
                                           format_duration(spent / double(done) * double(share - done)), " left"));
                                     });
      }
      if (root) {
        std::vector<double> x(scores.begin(), scores.end()), y;
        std::vector<std::int32_t> index;
        std::vector<float> test, valid, params;
        for (const auto& g : rank_set) {
          y.push_back(table->test_of(g));
          test.push_back(table->test_of(g));
          valid.push_back(table->valid_of(g));
          params.push_back(table->params_m[std::size_t(space::nb201::encode(g))]);
          index.push_back(table->index[std::size_t(space::nb201::encode(g))]);
        }
        if (run.log->content().rank_index.empty()) {
          std::vector<std::uint8_t> genomes;
          for (const auto& g : rank_set) genomes.insert(genomes.end(), g.begin(), g.end());
          run.log->set_ranking_set(genomes, index, test, valid, params);
        }
        const double tau = kendall_tau(x, y), rho = spearman_rho(x, y);
        run.log->append_ranking(epoch, scores, tau, rho);
        const std::vector<double> p(params.begin(), params.end());
        truth << std::fixed << std::setprecision(3) << "  ranking of " << rank_set.size() << " cells: tau " << tau
              << ", rho " << rho << " (params: tau " << kendall_tau(p, y) << ")";
      }
    }
    end.record.best_fitness = best.fitness;
    end.record.best_full_val_acc = full_val;
    end.record.best_full_val_loss = full_val_loss;
    end.record.test_acc = std::nan("");
    end.record.n_new = n_new;
    std::ostringstream summary;
    if (training_free())
      summary << std::fixed << std::setprecision(2) << "best_fitness " << best.fitness << " (" << cfg.search.fitness
              << ")  n_new " << n_new << "  cells scored " << proxy->cached() << truth.str();
    else
      summary << std::fixed << std::setprecision(1) << "best_fitness " << best.fitness << "%  best_val " << full_val
              << "%  n_new " << n_new << truth.str();
    end.summary = summary.str();
    return end;
  }

  /// Rank 0: the genome handed to retrain is the population's best at the epoch with the highest
  /// full-validation accuracy (an earlier epoch keeps it on a tie), as the authors keep the best by
  /// held-out accuracy; the last epoch's best is last_genome.json.
  void write_genomes(const ga::Member& best, double full_val) {
    double best_val_so_far = -1;
    for (const auto& e : run.log->content().epochs) best_val_so_far = std::max(best_val_so_far, e.best_full_val_acc);
    const auto compat = cfg.net.compat;
    // The files say which run and epoch chose them: a retrain records it (gnas runs, the report).
    const int epoch = int(run.log->content().epochs.size()) + 1;
    const std::string json = io::with_genome_provenance(space->to_json(best.genome, best.fitness, compat),
                                                        run.log->content().attrs.run_id, epoch);
    // Training-free: no validation accuracy; the GA's best by its fitness (elitist) is the choice.
    if (training_free() || full_val > best_val_so_far) {
      run.log->set_best(best.genome, best.fitness);
      io::write_file_atomic(cfg.out + "/best_genome.json", json);
      io::write_file_atomic(cfg.out + "/cells.dot", space->to_dot(best.genome, compat));
    }
    io::write_file_atomic(cfg.out + "/last_genome.json", json);
  }

  /// Rank 0: the best genome, what was written, and the command that retrains it.
  void report() const {
    const auto& c = run.log->content();
    if (!c.best_genome.empty()) {
      std::size_t e = 0;
      for (std::size_t i = 1; i < c.epochs.size(); ++i)
        if (c.epochs[i].best_full_val_acc > c.epochs[e].best_full_val_acc) e = i;
      std::ostringstream line;
      if (training_free())
        line << std::fixed << std::setprecision(2) << "best genome (" << cfg.search.fitness << " " << c.best_fitness
             << ", " << proxy->cached() << " cells scored): " << space->to_text(c.best_genome);
      else
        line << std::fixed << std::setprecision(1) << "best genome (epoch " << e + 1 << ", fitness " << c.best_fitness
             << "%, full validation " << (c.epochs.empty() ? std::nan("") : c.epochs[e].best_full_val_acc)
             << "%): " << space->to_text(c.best_genome);
      if (!space->benchmark_string(c.best_genome).empty()) line << " = " << space->benchmark_string(c.best_genome);
      GNAS_LOG(INFO) << line.str();
      if (table) {
        const auto code = std::size_t(space::nb201::encode(c.best_genome));
        const auto& opt = *table;
        GNAS_LOG(INFO) << std::fixed << std::setprecision(2) << "NAS-Bench-201 table: the found cell (index "
                       << opt.index[code] << ") has test_acc " << opt.test[code] << "%, valid_acc " << opt.valid[code]
                       << "%; the optimum (index " << opt.index[std::size_t(opt.best_code)] << ") "
                       << opt.test[std::size_t(opt.best_code)] << "% / " << opt.valid[std::size_t(opt.best_code)] << "%";
        if (!c.epochs.empty())  // the last epoch's record holds where that cell stands
          GNAS_LOG(INFO) << std::fixed << std::setprecision(1) << "the found cell ranks "
                         << int64_t(c.epochs.back().gt_chosen_rank) << " of " << opt.test.size()
                         << " by test_acc: above " << c.epochs.back().gt_chosen_below_pct
                         << "% of the table's cells (the table's mean cell: " << std::setprecision(2)
                         << table_mean_test << "%)";
      }
      if (!c.rank_tau.empty())
        GNAS_LOG(INFO) << std::fixed << std::setprecision(3) << cfg.search.fitness << " ranking of " << c.n_rank
                       << " cells against the table's test_acc (after epoch " << c.rank_epoch.back() + 1
                       << "): Kendall tau " << c.rank_tau.back() << ", Spearman rho " << c.rank_rho.back();
    }
    GNAS_LOG(INFO) << "wrote " << cfg.out
                   << "/{config.ini, log.h5, best_genome.json (best validation epoch), last_genome.json (last epoch), "
                      "cells.dot, checkpoints/}";
    // The paper's retrain recipe for CIFAR; the built-in (CPU-sized) defaults for the synthetic set.
    const bool nb201 = space->name() == "nb201";
    const std::string recipe = cfg.data.dir.empty() ? ""
                               : " --data " + cfg.data.dir + " --config configs/retrain_" +
                                     (nb201 ? "nb201" : ds.name == "cifar100" ? "cifar100" : "cifar10") + ".ini";
    // The network the genomes were scored in, when it is not the default: retrain must build the same.
    const std::string net_flags =
        nb201 ? std::string(" --space nb201")
              : std::string(cfg.net.compat == NetCompat::kReference ? " --net.compat reference" : "") +
                    (cfg.net.share_slots ? "" : " --net.share_slots false");
    GNAS_LOG(INFO) << "retrain the best genome with: " << io::running_executable() << " retrain --genome " << cfg.out << " --out " << cfg.out
                   << "-retrain" << recipe << net_flags;
  }
};

}  // namespace

int run_search(const RunConfig& cfg, distributed::Communicator& comm, BegunSegment& begun) {
  apply_threads(cfg.threads);
  Search s(cfg, comm, begun);
  collective_setup(comm, [&] { s.set_up(); }, [&] {
    io::LogAttributes attrs = run_attributes(cfg, "search", s.ds.name, comm.size());
    attrs.strategy = s.random_search() ? "random" : "ga";
    attrs.fitness = cfg.search.fitness;
    LogShape shape;
    shape.n_g = cfg.search.ga.generation;
    shape.n_p = cfg.search.ga.population;
    shape.with_ga = true;
    shape.n_rank = int(s.rank_set.size());
    open_log(cfg, attrs, *s.space, shape, comm.size(), s.device, s.st,
             s.run);
  });
  s.open_channel();
  replicate_from_root(comm, s.net);  // identical replicas
  if (!cfg.search.proxy.table.empty() && comm.size() > 1)  // every rank preloaded the same scores
    distributed::check_same_on_all_ranks(comm, fnv1a64(io::read_file(cfg.search.proxy.table, std::uint64_t(1) << 30)),
                                         "--proxy.table's contents (a file that changed while the ranks read it?)");
  s.warm_start(nullptr);
  s.restore_cache();
  const ga::GeneSpace& genes = s.space->genes();  // built once: the GA operators run on it every step
  if (s.root) log_start(cfg, s.st, s.run);
  GNAS_LOG(INFO) << "gnas search: " << s.ds.name << " (" << s.ds.train.size() << " train / " << s.ds.val.size()
                 << " val images, " << s.ds.num_classes << " classes) on " << s.device
                 << (comm.size() > 1 ? " x " + std::to_string(comm.size()) + " ranks (gradients over " +
                                           s.channel->name() + ")" : "")
                 << ", " << precision_name(cfg.train.precision) << (cfg.train.channels_last ? " channels-last" : "")
                 << ", " << threads_text(cfg.threads)
                 << ", " << s.space->name() << " supernet C=" << cfg.net.channels << " N_cell=" << cfg.net.cells
                 << (s.space->name() == "paper" ? std::string(" net.compat=") + compat_name(cfg.net.compat) : "")
                 << (cfg.search.rescore == ga::Rescore::kPopulation ? ", rescore population" : "")
                 << (s.training_free() ? ", fitness " + cfg.search.fitness + " (training-free, C=" +
                                             std::to_string(cfg.search.proxy.channels) + " N=" +
                                             std::to_string(cfg.search.proxy.cells) + "; the supernet is not trained)"
                                       : std::string())
                 << (s.warm() ? ", warm start: best " + std::to_string(cfg.search.ga.generation) + " of " +
                                    std::to_string(cfg.search.proxy.warm_start) + " by " +
                                    (s.training_free() ? cfg.search.fitness : cfg.search.proxy.score)
                              : std::string())
                 << " (" << s.n_params << " parameters), " << cfg.train.epochs << " epochs x "
                 << (s.training_free()
                         ? std::to_string(cfg.search.generations_per_epoch) + " GA rounds of " +
                               std::to_string(cfg.search.ga.generation) + " cells"
                         : std::to_string(s.ds.train.size() / cfg.train.batch) + " steps of " +
                               std::to_string(cfg.train.batch))
                 << " -> " << cfg.out;
  EpochLoop loop{cfg, comm, s.net, *s.sgd, s.ds.train, s.st, s.run.log.get(), "search", cfg.out + "/checkpoints"};
  loop.channel = s.channel.get();
  loop.train_steps = !s.training_free();
  const int rescored = cfg.search.rescore == ga::Rescore::kPopulation ? cfg.search.ga.population : 0;
  const int64_t rankings = s.rank_set.empty() ? 0 : cfg.search.nb201.rank_every > 0 ? cfg.train.epochs / cfg.search.nb201.rank_every + 1 : 1;
  loop.eval_images_per_epoch =
      int64_t(cfg.search.generations_per_epoch) * (cfg.search.ga.generation + rescored) * cfg.search.n_v +
      s.ds.val.size() + rankings * int64_t(s.rank_set.size()) * s.ds.val.size() / cfg.train.epochs;
  loop.before_step = [&](int epoch, int step) { s.choose_genome(genes, epoch, step); };
  loop.parameters = [&] { return s.net->active_parameters(); };
  loop.on_epoch_end = [&](int epoch, Progress& progress) { return s.ga_rounds(genes, epoch, progress); };
  const int code = run_epochs(loop);
  if (code != kExitOk) return code;
  if (cfg.debug.check_sync)
    GNAS_LOG(INFO) << "--debug.check_sync: " << s.sync_checks << " checks, all " << comm.size() << " rank(s) agreed";
  if (s.root) s.report();
  return kExitOk;
}

}  // namespace gnas::train
