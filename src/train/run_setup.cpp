// Run-directory steps shared by search and retrain (see run_setup.h).
#include "gnas/train/run_setup.h"

#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/files.h"
#include "gnas/io/run_status.h"
#include "gnas/space/space.h"
#include "gnas/train/entry_points.h"
#include "gnas/train/run_end.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/step.h"

namespace gnas::train {

distributed::BackendChoice resolve_run_backend(const RunConfig& cfg, distributed::Communicator& comm,
                                               const torch::Device& device) {
  distributed::BackendContext context;
  context.launched_under_mpi = comm.backend_name() == "mpi";
  context.device_is_cuda = device.is_cuda();
  context.built_with_mpi = distributed::built_with_mpi();
  context.built_with_nccl = distributed::built_with_nccl();
  return distributed::resolve_backend(cfg.dist.backend, context);
}

std::unique_ptr<distributed::DataChannel> open_gradient_channel(const RunConfig& cfg, distributed::Communicator& comm,
                                                                const torch::Device& device,
                                                                distributed::BackendChoice& backend) {
  if (backend.gradients == distributed::Backend::kNccl && distributed::ranks_share_a_gpu(comm, device)) {
    // NCCL cannot have two ranks on one GPU: auto falls back to MPI (staged through host memory),
    // an explicit nccl is refused. Every rank took part in the check, so every rank decides alike.
    GNAS_CHECK_AS(ConfigError, cfg.dist.backend != distributed::Backend::kNccl, "--dist.backend nccl: ranks share "
                  "a GPU, which NCCL cannot do; give each rank its own GPU (srun --gpus-per-task=1 or one rank per "
                  "GPU under mpirun), or use --dist.backend mpi");
    backend.gradients = distributed::Backend::kMpi;
    if (comm.rank() == 0) GNAS_LOG(INFO) << "ranks share GPUs: the gradients go over MPI, staged through host memory";
  }
  return distributed::make_data_channel(backend.gradients, comm, device, cfg.dist.timeout);
}

void CommandRun::choose_device() {
  device = select_device(cfg.device, comm.local_rank());
  check_precision(cfg.train.precision, device);
  backend = resolve_run_backend(cfg, comm, device);
}

void CommandRun::open_channel() { channel = open_gradient_channel(cfg, comm, device, backend); }

void CommandRun::build_network(nn::NetworkOptions options) {
  net = nn::make_network(options);
  net->to(device);
  if (cfg.train.channels_last) to_channels_last(net);
  sgd = make_sgd(net->parameters(), cfg.train);
  for (const auto& p : net->parameters()) n_params += p.numel();
}

void check_run_dir(const RunConfig& cfg) {
  if (cfg.resume)
    io::check_resumable_run_dir(cfg.out);
  else
    io::check_new_run_dir(cfg.out, cfg.force);
}

namespace {
/// A checkpoint copied in from another run would resume that run under this one's name (its log,
/// its seed, under this config.ini): refused when the checkpoint and status.json name two runs.
void check_checkpoint_is_this_runs(const std::string& dir, const std::string& checkpoint,
                                   const io::LogAttributes& attrs) {
  if (attrs.run_id.empty()) return;  // a checkpoint written before runs had an id
  std::optional<io::RunStatus> status;
  try {
    status = io::read_run_status(dir);
  } catch (const IoError&) {  // a damaged status is replaced when the run starts
    return;
  }
  if (!status || status->run_id.empty() || status->run_id == attrs.run_id) return;
  const std::string started = status->segments.empty() ? "" : status->segments.front().started_at;
  throw ConfigError(detail::concat(
      "--resume: ", checkpoint, " belongs to another run (run ", attrs.run_id, ", seed ", attrs.seed, ", started ",
      attrs.started_at, ") than ", dir, " (run ", status->run_id, started.empty() ? "" : ", started " + started,
      ", in status.json); a checkpoint resumes only the run that wrote it: to continue a run elsewhere, copy its "
      "whole directory"));
}
}  // namespace

void resume_from_checkpoint(const RunConfig& cfg, const std::vector<std::string>& structural,
                            const std::string& dataset, bool root, nn::Supernet& net, torch::optim::SGD& sgd,
                            RunState& st, RunOpening& run) {
  const std::string stored_ini = cfg.out + "/config.ini";
  const bool have_ini = io::path_exists(stored_ini);
  // Checked against config.ini before the checkpoint is read, so a refused change costs nothing.
  if (root && have_ini) run.changes = check_resume_config(io::read_file(stored_ini), cfg.config_text, structural);
  const auto device = net->parameters().front().device();
  run.resumed_from = load_checkpoint(cfg.out + "/checkpoints", net, sgd, st);
  net->to(device);
  if (cfg.train.channels_last) to_channels_last(net);  // loading replaced the tensors, layout included
  if (!root) return;
  const auto& attrs = st.log.attrs;
  check_checkpoint_is_this_runs(cfg.out, run.resumed_from, attrs);
  if (!have_ini) run.changes = check_resume_config(attrs.config, cfg.config_text, structural);
  GNAS_CHECK_AS(ConfigError, attrs.dataset == dataset, "--resume: the run used ", attrs.dataset, " but --data gives ",
                dataset, "; resume with the run's own data");
}

namespace {
/// The run's disk reserve (RunOpening::reserve): enough for HDF5 to close the log (its metadata
/// cache, a few chunks) and for status.json and the log's status attributes.
constexpr const char* kDiskReserveName = ".gnas.reserve";
constexpr std::size_t kDiskReserveBytes = std::size_t(1) << 20;

/// The space, its op table and its gene layout, for the log's readers.
void describe_genome(io::LogAttributes& attrs, const space::Space& space) {
  attrs.space = space.name();
  attrs.op_names = space.op_names();
  attrs.genome_layout = space.layout_text();
  attrs.genome_layout_json = space.layout_json();
}
}  // namespace

io::LogAttributes run_attributes(const RunConfig& cfg, const std::string& command, const std::string& dataset,
                                 int world) {
  io::LogAttributes a;
  a.command = command;
  a.config = cfg.config_text;
  a.version = GNAS_VERSION;
  a.seed = cfg.seed;
  a.world_size = world;
  a.dataset = dataset;
  a.started_at = now_iso8601();
  a.net_compat = compat_name(cfg.net.compat);
  a.run_id = io::new_run_id();
  return a;
}

void open_log(const RunConfig& cfg, const io::LogAttributes& attrs, const space::Space& space, const LogShape& shape,
              int world, const torch::Device& device, RunState& st, RunOpening& run) {
  const int genome_length = space.length();
  // One writer per run directory, from here to the end of the process.
  run.lock = std::make_unique<io::RunDirLock>(cfg.out, cfg.force && !cfg.resume);
  io::write_file_atomic(cfg.out + "/config.ini", cfg.config_text);
  const std::string now = now_iso8601();
  std::optional<io::RunStatus> previous;
  if (cfg.resume) {
    try {
      previous = io::read_run_status(cfg.out);
    } catch (const IoError& e) {  // the status is a record, not the run: start a new one
      GNAS_LOG(WARN) << e.what() << "; starting a new status file";
    }
  }
  io::RunStatus status =
      io::begin_run(previous, cfg.resume ? st.log.attrs.command : attrs.command,
                    io::this_process_segment(device.str(), world, st.epoch, now), cfg.train.epochs);
  status.run_id = cfg.resume ? st.log.attrs.run_id : attrs.run_id;
  io::write_run_status(cfg.out, status);
  const auto& mine = status.segments.back();
  if (run.begun) *run.begun = begun_segment(cfg.out, mine);
  if (!cfg.resume) {
    io::LogAttributes first = attrs;
    first.status = status_attributes(status);
    describe_genome(first, space);
    run.log = std::make_unique<io::Hdf5Log>(cfg.out + "/log.h5", first, genome_length, shape.n_g, shape.n_p,
                                            shape.with_ga, shape.n_rank);
    run.reserve = std::make_unique<io::DiskReserve>(cfg.out + "/" + kDiskReserveName, kDiskReserveBytes);
    return;
  }
  auto& stored = st.log.attrs;
  stored.status = status_attributes(status);
  describe_genome(stored, space);
  if (!run.changes.empty()) GNAS_LOG(WARN) << "--resume with changed options: " << run.changes;
  stored.config = cfg.config_text;
  stored.seed = cfg.seed;  // an accepted change of the seed is the run's seed from now on
  stored.world_size = world;
  if (st.epoch < cfg.train.epochs)
    stored.resume_history += resume_record(run.resumed_from, st.epoch, st.step, world, run.changes);
  run.log = io::Hdf5Log::restore(cfg.out + "/log.h5", st.log);
  run.reserve = std::make_unique<io::DiskReserve>(cfg.out + "/" + kDiskReserveName, kDiskReserveBytes);
}

void heartbeat_run_status(const std::string& dir, int epochs_done) {
  try {
    auto s = io::read_run_status(dir);
    if (!s) return;
    s->epochs_done = epochs_done;
    s->updated_at = now_iso8601();
    if (!s->segments.empty()) s->segments.back().epochs_at_end = epochs_done;
    io::write_run_status(dir, *s);
  } catch (const std::exception& e) {
    GNAS_LOG(WARN) << "cannot update the run's status: " << e.what();
  }
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
