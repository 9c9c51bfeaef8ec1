// Run-directory steps shared by search and retrain (see run_setup.h).
#include "gnas/train/run_setup.h"

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/files.h"
#include "gnas/train/common.h"

namespace gnas::train {

void CommandRun::build_network(nn::NetworkOptions options) {
  net = nn::Network(std::move(options));
  net->to(device);
  sgd = make_sgd(net->parameters(), cfg.train);
  for (const auto& p : net->parameters()) n_params += p.numel();
}

void check_run_dir(const RunConfig& cfg) {
  if (cfg.resume)
    io::check_resumable_run_dir(cfg.out);
  else
    io::check_new_run_dir(cfg.out, cfg.force);
}

void resume_from_checkpoint(const RunConfig& cfg, const std::vector<std::string>& structural,
                            const std::string& dataset, bool root, nn::Network& net, torch::optim::SGD& sgd,
                            RunState& st, RunOpening& run) {
  const std::string stored_ini = cfg.out + "/config.ini";
  const bool have_ini = io::path_exists(stored_ini);
  // Checked against config.ini before the checkpoint is read, so a refused change costs nothing.
  if (root && have_ini) run.changes = check_resume_config(io::read_file(stored_ini), cfg.config_text, structural);
  const auto device = net->parameters().front().device();
  run.resumed_from = load_checkpoint(cfg.out + "/checkpoints", net, sgd, st);
  net->to(device);
  if (!root) return;
  const auto& attrs = st.log.attrs;
  if (!have_ini) run.changes = check_resume_config(attrs.config, cfg.config_text, structural);
  GNAS_CHECK_AS(ConfigError, attrs.dataset == dataset, "--resume: the run used ", attrs.dataset, " but --data gives ",
                dataset, "; resume with the run's own data");
}

void open_log(const RunConfig& cfg, const io::LogAttributes& attrs, int genome_length, int n_g, int n_p,
              bool with_ga, int world, RunState& st, RunOpening& run) {
  // One writer per run directory, from here to the end of the process.
  run.lock = std::make_unique<io::RunDirLock>(cfg.out, cfg.force && !cfg.resume);
  io::write_file_atomic(cfg.out + "/config.ini", cfg.config_text);
  if (!cfg.resume) {
    run.log = std::make_unique<io::Hdf5Log>(cfg.out + "/log.h5", attrs, genome_length, n_g, n_p, with_ga);
    return;
  }
  auto& stored = st.log.attrs;
  if (!run.changes.empty()) GNAS_LOG(WARN) << "--resume with changed options: " << run.changes;
  stored.config = cfg.config_text;
  stored.world_size = world;
  if (st.epoch < cfg.train.epochs)
    stored.resume_history += resume_record(run.resumed_from, st.epoch, st.step, world, run.changes);
  run.log = io::Hdf5Log::restore(cfg.out + "/log.h5", st.log);
}

void log_start(const RunConfig& cfg, const RunState& st, const RunOpening& run) {
  if (run.resumed_from.empty()) return;
  if (st.epoch >= cfg.train.epochs)
    GNAS_LOG(INFO) << cfg.out << " has completed its " << st.epoch << " epochs: nothing to do (raise --train.epochs "
                   << "to continue it)";
  else
    GNAS_LOG(INFO) << "resuming " << cfg.out << " from " << run.resumed_from << " at epoch " << st.epoch + 1
                   << ", step " << st.step;
}

}  // namespace gnas::train
