// gnas retrain: the final training stage of one genome, data-parallel over the ranks of a
// Communicator, with the test accuracy after every epoch.
#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/config_keys.h"
#include "gnas/io/files.h"
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

/// Everything a retrain needs, built on every rank.
struct Retrain : CommandRun {
  using CommandRun::CommandRun;
  space::Genome genome;
  std::string genome_arg;  ///< --genome as given (its source run is recorded)

  /// Every rank: the genome (given, or on --resume the one the run recorded), checks, data, the
  /// fixed network, and the checkpoint on --resume. Writes nothing.
  void set_up(const std::string& genome_given) {
    genome_arg = genome_given;
    space = space::make_space(cfg.net.space, cfg.net.blocks);
    const std::string source = genome_arg.empty() && cfg.resume ? cfg.out + "/genome.json" : genome_arg;
    GNAS_CHECK_AS(ConfigError, !source.empty(), "--genome is required (text, a genome JSON file or a search run "
                  "directory)");
    genome = space::load_genome(*space, source);  // before touching --out
    if (cfg.resume && !genome_arg.empty()) {
      const space::Genome recorded = space::load_genome(*space, cfg.out + "/genome.json");
      GNAS_CHECK_AS(ConfigError, recorded == genome, "--resume --genome: '", cfg.out, "' trains ",
                    space->to_text(recorded), ", not ", space->to_text(genome),
                    "; drop --genome to continue that run, or start a new run with --out");
    }
    GNAS_CHECK_AS(ConfigError, cfg.train.batch >= comm.size(), "--train.batch ", cfg.train.batch,
                  " is smaller than the number of ranks (", comm.size(), ")");
    if (root) check_run_dir(cfg);
    choose_device();
    torch::manual_seed(cfg.seed);
    data::DataOptions data_opt = cfg.data;
    data_opt.val_size = 0;  // the final training stage trains on every training image
    ds = data::load_dataset(data_opt);
    GNAS_CHECK_AS(ConfigError, cfg.train.batch <= ds.train.size(), "--train.batch ", cfg.train.batch,
                  " is larger than the training split (", ds.train.size(), " images)");
    ds.to(device);
    build_network(nn::NetworkOptions(cfg.net, ds.num_classes, genome));
    net->set_bn_batch_stats_in_eval(false);  // the fixed network uses running statistics
    st.data_rng = Rng(cfg.seed, 2);
    if (cfg.resume) resume_from_checkpoint(cfg, io::structural_keys(), ds.name, root, net, *sgd, st, run);
  }

  /// Rank 0, once every rank is set up: the genome, the config and the log.
  void write_run() {
    if (!cfg.resume) {
      // The lock (taken by open_log) comes first: a --force run clears the old outputs under it.
      io::LogAttributes attrs = run_attributes(cfg, "retrain", ds.name, comm.size());
      const io::GenomeSource from = io::genome_source(genome_arg);
      attrs.source_run = from.run_dir, attrs.source_run_id = from.run_id, attrs.source_epoch = from.epoch;
      open_log(cfg, attrs, *space, LogShape{}, comm.size(), device, st, run);
      if (!from.run_dir.empty())
        GNAS_LOG(INFO) << "the genome of " << from.run_dir
                       << (from.epoch > 0 ? detail::concat(" (chosen after epoch ", from.epoch, ")") : std::string());
      io::write_file_atomic(cfg.out + "/genome.json", space->to_json(genome, -1.0, cfg.net.compat));
      io::write_file_atomic(cfg.out + "/cells.dot", space->to_dot(genome, cfg.net.compat));
      run.log->set_best(genome, std::nanf(""));
    } else {
      open_log(cfg, {}, *space, LogShape{}, comm.size(), device, st, run);  // --resume: the checkpoint's log
    }
  }

  /// End of epoch: the test accuracy, split among the ranks; rank 0 saves the models.
  EpochEnd test(Progress& progress) {
    progress.stage("evaluating on the test split");
    const auto autocast = eval_autocast(cfg.train.precision, device);
    double loss_sum = 0;
    const int64_t hits = count_correct(net, ds.test.images, ds.test.labels, cfg.data.eval_batch, comm.rank(),
                                       comm.size(), nullptr, &loss_sum);
    auto total = torch::tensor({double(hits), loss_sum}, torch::kFloat64);  // counts below 2^53: exact
    comm.allreduce_sum_(total);
    const double n_test = double(std::max<int64_t>(1, ds.test.size()));
    const double test_acc = 100.0 * total[0].item<double>() / n_test;
    const double test_loss = total[1].item<double>() / n_test;
    if (root) {
      save_model(cfg.out + "/model_last.pt", net, ds.name, cfg.train.precision, cfg.data);
      if (test_acc > st.best_metric)  // optimistic
        save_model(cfg.out + "/model_best_test.pt", net, ds.name, cfg.train.precision, cfg.data);
    }
    st.best_metric = std::max(st.best_metric, test_acc);
    EpochEnd end;
    end.record.best_fitness = std::nan("");
    end.record.best_full_val_acc = std::nan("");
    end.record.test_acc = test_acc;
    end.record.test_loss = test_loss;
    std::ostringstream summary;
    summary << std::fixed << std::setprecision(1) << "test_acc " << test_acc << "%";
    end.summary = summary.str();
    return end;
  }

  /// Rank 0: the headline figure (the final epoch's) and what was written.
  void report() const {
    const auto& epochs = run.log->content().epochs;
    if (!epochs.empty())
      GNAS_LOG(INFO) << std::fixed << std::setprecision(2) << "final test accuracy " << epochs.back().test_acc
                     << "% (epoch " << epochs.size() << ", model_last.pt). The best epoch's " << st.best_metric
                     << "% (model_best_test.pt) was chosen on the test set and is optimistic.";
    GNAS_LOG(INFO) << "wrote " << cfg.out << "/{model_last.pt, model_best_test.pt, log.h5, checkpoints/}";
  }
};

}  // namespace

int run_retrain(const RunConfig& cfg, const std::string& genome_arg, distributed::Communicator& comm,
                BegunSegment& begun) {
  apply_threads(cfg.threads);
  Retrain r(cfg, comm, begun);
  collective_setup(comm, [&] { r.set_up(genome_arg); }, [&] { r.write_run(); });
  r.open_channel();
  replicate_from_root(comm, r.net);  // identical replicas
  if (r.root) log_start(cfg, r.st, r.run);
  GNAS_LOG(INFO) << "gnas retrain: " << r.ds.name << " (" << r.ds.train.size() << " train / " << r.ds.test.size()
                 << " test images) on " << r.device
                 << (comm.size() > 1 ? " x " + std::to_string(comm.size()) + " ranks (gradients over " +
                                           r.channel->name() + ")" : "")
                 << ", " << precision_name(cfg.train.precision) << (cfg.train.channels_last ? " channels-last" : "")
                 << ", " << threads_text(cfg.threads)
                 << ", fixed network of the " << r.space->name() << " space C="
                 << cfg.net.channels << " N_cell=" << cfg.net.cells
                 << (r.space->name() == "paper" ? std::string(" net.compat=") + compat_name(cfg.net.compat) : "")
                 << " (" << r.n_params << " parameters), genome " << r.space->to_text(r.genome)
                 << (r.space->benchmark_string(r.genome).empty() ? "" : " = " + r.space->benchmark_string(r.genome));
  EpochLoop loop{cfg, comm, r.net, *r.sgd, r.ds.train, r.st, r.run.log.get(), "retrain", cfg.out + "/checkpoints"};
  loop.channel = r.channel.get();
  loop.eval_images_per_epoch = r.ds.test.size();
  loop.on_epoch_start = [&](int epoch) {
    r.net->set_drop_path_keep(epoch >= cfg.net.drop_path_from ? cfg.net.drop_path_keep : 1.0);
  };
  loop.parameters = [&] { return r.net->parameters(); };
  loop.on_epoch_end = [&](int, Progress& progress) { return r.test(progress); };
  const int code = run_epochs(loop);
  if (code == kExitOk && r.root) r.report();
  return code;
}

}  // namespace gnas::train
