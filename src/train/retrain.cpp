// gnas retrain / gnas evaluate: the final training stage of one genome, and its test accuracy.
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <iomanip>
#include <iostream>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/core/signals.h"
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

}  // namespace

int run_retrain(const RunConfig& cfg, const std::string& genome_arg) {
  search::SearchSpace space;
  space.n_blocks = cfg.net.blocks;
  const std::string ckpt_dir = cfg.out + "/checkpoints";
  // The genome: given, or (on --resume without --genome) the one the run directory recorded.
  const std::string genome_source =
      genome_arg.empty() && cfg.resume ? cfg.out + "/genome.json" : genome_arg;
  GNAS_CHECK_AS(ConfigError, !genome_source.empty(), "--genome is required (text, a genome JSON file or a search run "
                "directory)");
  const search::Genome genome = search::load_genome(space, genome_source);  // before touching --out
  if (cfg.resume) {
    io::check_resumable_run_dir(cfg.out);
    if (!genome_arg.empty()) {
      const search::Genome recorded = search::load_genome(space, cfg.out + "/genome.json");
      GNAS_CHECK_AS(ConfigError, recorded == genome, "--resume --genome: '", cfg.out, "' trains ",
                    search::to_text(space, recorded), ", not ", search::to_text(space, genome),
                    "; drop --genome to continue that run, or start a new run with --out");
    }
  } else {
    io::check_new_run_dir(cfg.out, cfg.force);
  }
  apply_threads(cfg.threads);
  const torch::Device device = select_device(cfg.device);
  torch::manual_seed(cfg.seed);

  DataOptions data_opt = cfg.data;
  data_opt.val_size = 0;  // the final training stage trains on every training image
  data::Dataset ds = data::load_dataset(data_opt);
  GNAS_CHECK_AS(ConfigError, cfg.train.batch <= ds.train.size(), "--train.batch ", cfg.train.batch,
                " is larger than the training split (", ds.train.size(), " images)");
  ds.to(device);
  nn::Network net(network_options(cfg.net, ds.num_classes, genome));
  net->to(device);
  net->set_bn_batch_stats_in_eval(false);  // the fixed network uses running statistics
  auto sgd = make_sgd(net->parameters(), cfg.train);
  int64_t n_params = 0;
  for (const auto& p : net->parameters()) n_params += p.numel();

  // Every check passed: take the run directory (one writer) and write.
  io::RunDirLock lock(cfg.out, cfg.force && !cfg.resume);
  RunState st;
  st.data_rng = Rng(cfg.seed, 2);
  std::unique_ptr<io::Hdf5Log> log;
  if (cfg.resume) {
    const std::string stored_ini = cfg.out + "/config.ini";
    std::string changes;
    if (io::path_exists(stored_ini)) changes = check_resume_config(io::read_file(stored_ini), cfg.config_text, kStructuralKeys);
    const std::string used = load_checkpoint(ckpt_dir, net, *sgd, st);
    net->to(device);
    auto& attrs = st.log.attrs;
    if (!io::path_exists(stored_ini)) changes = check_resume_config(attrs.config, cfg.config_text, kStructuralKeys);
    GNAS_CHECK_AS(ConfigError, attrs.dataset == ds.name, "--resume: the run was training on ", attrs.dataset,
                  " but --data gives ", ds.name);
    if (!changes.empty()) GNAS_LOG(WARN) << "--resume with changed options: " << changes;
    attrs.config = cfg.config_text;
    if (st.epoch < cfg.train.epochs) attrs.resume_history += resume_record(used, st.epoch, st.step, 1, changes);
    io::write_file_atomic(stored_ini, cfg.config_text);
    log = io::Hdf5Log::restore(cfg.out + "/log.h5", st.log);
    if (st.epoch >= cfg.train.epochs)
      GNAS_LOG(INFO) << cfg.out << " has completed its " << st.epoch << " epochs: nothing to do (raise "
                     << "--train.epochs to continue it)";
    else
      GNAS_LOG(INFO) << "resuming " << cfg.out << " from " << used << " at epoch " << st.epoch + 1 << ", step "
                     << st.step;
  } else {
    io::write_file_atomic(cfg.out + "/genome.json", search::to_json(space, genome, -1.0, cfg.net.compat));
    io::write_file_atomic(cfg.out + "/cells.dot", search::to_dot(space, genome, cfg.net.compat));
    io::write_file_atomic(cfg.out + "/config.ini", cfg.config_text);
    io::LogAttributes attrs{"retrain", cfg.config_text, GNAS_VERSION, cfg.seed, 1, ds.name, now_iso8601(), "", "",
                            compat_name(cfg.net.compat)};
    log = std::make_unique<io::Hdf5Log>(cfg.out + "/log.h5", attrs, space.length(), 0, 0, false);
    log->set_best(genome, std::nanf(""));
  }
  const int64_t n_train = ds.train.size();
  const int steps = static_cast<int>(n_train / cfg.train.batch);
  GNAS_LOG(INFO) << "gnas retrain: " << ds.name << " (" << n_train << " train / " << ds.test.size()
                 << " test images) on " << device << ", fixed network C=" << cfg.net.channels
                 << " N_cell=" << cfg.net.cells << " net.compat=" << compat_name(cfg.net.compat) << " ("
                 << n_params << " parameters), genome "
                 << search::to_text(space, genome);
  const bool show_progress = cfg.progress;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  int steps_this_process = 0;
  for (; st.epoch < cfg.train.epochs; ++st.epoch) {
    const int epoch = st.epoch;
    const auto t0 = Clock::now();
    const double lr = lr_at(cfg.train, epoch);
    set_lr(*sgd, lr);
    net->set_drop_path_keep(epoch >= cfg.net.drop_path_from ? cfg.net.drop_path_keep : 1.0);
    net->train();
    if (st.step == 0) st.data_rng_epoch_start = st.data_rng;
    Rng perm_rng = st.data_rng_epoch_start;
    const auto perm = permutation(n_train, perm_rng);
    if (st.step == 0) st.data_rng = perm_rng;
    auto loss_sum = torch::full({}, st.loss_sum, f64);
    auto correct = torch::full({}, st.correct, i64);
    Progress progress(show_progress, epoch, cfg.train.epochs, steps, st.step);
    for (; st.step < steps; ++st.step) {
      if (stop_requested()) {
        st.loss_sum = loss_sum.item<double>();
        st.correct = correct.item<int64_t>();
        st.epoch_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
        progress.clear();
        GNAS_CHECK_AS(TrainingError, std::isfinite(st.loss_sum), "stopping on a signal with a non-finite loss: no "
                      "checkpoint written; the previous one is kept");
        st.log = log->content();
        save_checkpoint(ckpt_dir, net, *sgd, st);
        GNAS_LOG(WARN) << "signal " << stop_requested() << ": checkpoint written at epoch " << epoch + 1 << " step "
                       << st.step << "; exiting with code " << kExitRequeue << " (resume with: gnas retrain --out "
                       << cfg.out << " --resume)";
        return kExitRequeue;
      }
      if (++steps_this_process == cfg.debug.stop_after_steps) std::raise(SIGTERM);  // seen at the next step
      const std::vector<int64_t> idx(perm.begin() + int64_t(st.step) * cfg.train.batch,
                                     perm.begin() + int64_t(st.step + 1) * cfg.train.batch);
      auto [x, y] = make_batch(ds.train, idx, cfg.data.augment, cfg.data.cutout, st.data_rng);
      sgd->zero_grad();
      auto logits = net->forward(x);
      auto loss = torch::cross_entropy_loss(logits, y);
      loss.backward();
      sgd->step();
      loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(idx.size());
      correct += logits.detach().argmax(1).eq(y).sum();
      if (progress.due(st.step)) {
        const double seen = double(st.step + 1) * cfg.train.batch;
        progress.draw(st.step, loss_sum.item<double>() / seen, 100.0 * correct.item<int64_t>() / seen, cfg.train.batch);
      }
    }
    progress.clear();
    const double seen = double(steps) * cfg.train.batch;
    const double train_loss = loss_sum.item<double>() / seen, train_acc = 100.0 * correct.item<int64_t>() / seen;
    GNAS_CHECK_AS(TrainingError, std::isfinite(train_loss), "epoch ", epoch + 1, ": the training loss is not finite (",
                  train_loss, "); lower --train.lr. The last good checkpoint and models are kept in ", cfg.out);
    const double test_acc = evaluate_accuracy(net, ds.test.images, ds.test.labels, cfg.data.eval_batch);
    const double seconds = st.epoch_seconds + std::chrono::duration<double>(Clock::now() - t0).count();
    save_model(cfg.out + "/model_last.pt", net, ds.name);
    if (test_acc > st.best_metric) {
      st.best_metric = test_acc;
      save_model(cfg.out + "/model_best_test.pt", net, ds.name);  // chosen on the test set: optimistic
    }
    io::EpochRecord rec;
    rec.lr = lr;
    rec.train_loss = train_loss;
    rec.train_acc = train_acc;
    rec.time_s = seconds;
    rec.best_fitness = std::nan("");
    rec.best_full_val_acc = std::nan("");
    rec.test_acc = test_acc;
    log->append_epoch(rec);
    log->flush();
    st.clear_epoch_progress();
    RunState next = st;  // the checkpoint describes the start of the next epoch
    next.epoch = epoch + 1;
    next.log = log->content();
    save_checkpoint(ckpt_dir, net, *sgd, next);
    std::ostringstream line;
    line << std::fixed << "epoch " << epoch + 1 << "/" << cfg.train.epochs << "  lr " << std::setprecision(4) << lr
         << "  loss " << train_loss << "  train_acc " << std::setprecision(1) << train_acc << "%  test_acc "
         << test_acc << "%  " << seconds << "s  (" << std::setprecision(0) << seen / seconds << " img/s)";
    GNAS_LOG(INFO) << line.str();
  }
  const auto& epochs = log->content().epochs;
  if (!epochs.empty())
    GNAS_LOG(INFO) << std::fixed << std::setprecision(2) << "final test accuracy " << epochs.back().test_acc
                   << "% (epoch " << epochs.size() << ", model_last.pt). The best epoch's " << st.best_metric
                   << "% (model_best_test.pt) was chosen on the test set and is optimistic.";
  GNAS_LOG(INFO) << "wrote " << cfg.out << "/{model_last.pt, model_best_test.pt, log.h5, checkpoints/}";
  return kExitOk;
}

int run_evaluate(const cli::EvaluateArgs& a) {
  apply_threads(a.threads);
  const torch::Device device = select_device(a.device);
  LoadedModel model = load_model(a.model, device);
  nn::Network& net = model.net;
  DataOptions d;
  d.dir = a.data;
  d.val_size = 0;  // evaluate reads only the test split
  data::Dataset ds = data::load_dataset(d);
  GNAS_CHECK_AS(ConfigError, ds.name == model.dataset, "--model '", a.model, "' was trained on ", model.dataset,
                " but ", a.data.empty() ? std::string("no --data (the synthetic set)") : "--data '" + a.data + "'",
                " is ", ds.name, "; give the data it was trained on");
  ds.to(device);
  net->set_bn_batch_stats_in_eval(false);
  double top5 = 0;
  const double top1 = evaluate_accuracy(net, ds.test.images, ds.test.labels, a.batch, &top5);
  std::cout << std::fixed << std::setprecision(2) << "test top-1 " << top1 << "%  top-5 " << top5 << "%  ("
            << ds.test.size() << " images of " << ds.name << ")\n";
  return kExitOk;
}

}  // namespace gnas::train
