// The epoch loop of search and retrain (see epoch_loop.h).
#include "gnas/train/epoch_loop.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <iomanip>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/core/signals.h"
#include "gnas/io/files.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/host_reads.h"
#include "gnas/train/run_setup.h"
#include "gnas/train/step.h"

namespace gnas::train {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// "  eta 1h05m" (or "12m30s", "58s") at the mean epoch time of this process (a resumed run counts
/// its own epochs).
std::string eta_text(const std::vector<double>& epoch_times, int left) {
  if (left <= 0 || epoch_times.empty()) return "";
  double mean = 0;
  for (double t : epoch_times) mean += t / double(epoch_times.size());
  return "  eta " + format_duration(mean * left);
}

/// The steps that time the up-front estimate: this process's steps 2-4 (step 1 warms up).
constexpr int kEstimateFrom = 1, kEstimateTo = 4;

/// Rank 0, once: the estimated time per epoch and for the epochs left, from `per_step` seconds
/// per training step. Evaluation (forward only, no gradients) is taken at a third of a training
/// image's time. On a CPU device a total above 24 h is a warning.
void log_estimate(const EpochLoop& loop, double per_step, int steps, int epochs_left, bool cpu) {
  const double train = per_step * steps;
  const double eval = double(loop.eval_images_per_epoch) * per_step / double(loop.cfg.train.batch) / 3.0;
  const double total = (train + eval) * epochs_left;
  GNAS_LOG(INFO) << "estimate from steps " << kEstimateFrom + 1 << "-" << kEstimateTo << ": about "
                 << format_duration(train + eval) << " per epoch (training " << format_duration(train)
                 << ", evaluation about " << format_duration(eval) << "), about " << format_duration(total)
                 << " for the " << epochs_left << " epoch(s) left";
  if (cpu && total > 24 * 3600.0)
    GNAS_LOG(WARN) << "this run needs about " << format_duration(total) << " (" << std::fixed << std::setprecision(1)
                   << total / 86400 << " days) on the CPU: run it on a GPU (the CUDA build, scripts/build --cuda), or "
                      "choose a smaller configuration (e.g. configs/quick_cpu.ini)";
}

}  // namespace

void collective_setup(distributed::Communicator& comm, const std::function<void()>& every_rank,
                      const std::function<void()>& root_writes) {
  std::exception_ptr setup_error;
  try {
    every_rank();
  } catch (...) {
    setup_error = std::current_exception();
  }
  distributed::agree_on_failure(comm, setup_error);
  // Rank 0 takes the run directory (lock, --force clean-up) and writes; a failure there (another
  // writer holds the lock) is agreed on too, so no rank waits for rank 0 in a collective.
  std::exception_ptr write_error;
  try {
    if (comm.rank() == 0) root_writes();
  } catch (...) {
    write_error = std::current_exception();
  }
  distributed::agree_on_failure(comm, write_error);
}

void replicate_from_root(distributed::Communicator& comm, nn::Supernet& net) {
  if (comm.size() == 1) return;
  torch::NoGradGuard no_grad;
  auto send = [&](torch::Tensor t) {  // channels-last weights go through a contiguous copy
    if (t.is_contiguous()) return comm.broadcast_(t, 0);
    auto flat = t.contiguous();
    comm.broadcast_(flat, 0);
    t.copy_(flat);
  };
  for (auto p : net->parameters()) send(p);
  for (auto b : net->buffers()) send(b);
}

int run_epochs(EpochLoop& loop) {
  GNAS_CHECK(loop.parameters && loop.on_epoch_end, "run_epochs: the parameters and on_epoch_end hooks are required");
  const RunConfig& cfg = loop.cfg;
  auto& comm = loop.comm;
  auto& net = loop.net;
  auto& st = loop.st;
  const int rank = comm.rank(), world = comm.size();
  const bool root = rank == 0;
  const int64_t batch = cfg.train.batch;
  const int64_t n_train = loop.train.size();
  const int steps = loop.train_steps ? static_cast<int>(n_train / batch) : 0;  // the last partial batch is dropped
  const auto [shard_begin, shard_end] = distributed::shard_range(batch, rank, world);
  const double local_fraction = double(shard_end - shard_begin) / double(batch);
  const auto device = loop.train.images.device();
  const auto param_dtype = net->parameters().front().scalar_type();  // float32 (float64 in tests)
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  std::unique_ptr<distributed::DataChannel> own_channel;
  if (!loop.channel) own_channel = distributed::make_data_channel(distributed::Backend::kMpi, comm, device);
  TrainStep step(cfg.train, loop.sgd, loop.channel ? *loop.channel : *own_channel, device, local_fraction);
  step.set_scaler_state(st.scaler_state);
  // Drop-path and dropout masks are drawn for the whole global batch on every rank and each rank
  // keeps its shard's rows: a sample gets the same mask whatever the number of ranks.
  net->set_batch_shard(batch, shard_begin);
  int steps_this_process = 0;
  std::vector<double> epoch_times;  // this process's epoch durations, for the ETA
  // The stop flags ride over the control channel on the host each step (a signal, a diverged
  // loss seen at a progress read): every rank stops after the same step. No device value is read.
  float flags[2] = {0.f, 0.f};  // [stop signal, diverged], summed over ranks
  auto control = torch::from_blob(flags, {2}, torch::kFloat32);
  bool diverged = false;
  double estimate_start = 0;  // seconds since t_run, at the end of this process's step kEstimateFrom
  const auto t_run = Clock::now();
  // Rank 0's /step rows: every --log.every_steps steps (0: every tenth of an epoch) and at the
  // epoch's last step. Each reads the loss and accuracy on the host, as a progress line does.
  const int row_every = cfg.log.every_steps > 0 ? cfg.log.every_steps : std::max(1, steps / 10);
  auto t_row = Clock::now();
  int steps_since_row = 0;

  const int first_epoch = st.epoch;
  for (; st.epoch < cfg.train.epochs; ++st.epoch) {
    if (!loop.train_steps && st.epoch > first_epoch) {
      // No steps to stop after: a signal is honoured here, where the last epoch's checkpoint is
      // complete (rank 0 wrote it before this agreement).
      flags[0] = stop_requested() ? 1.f : 0.f;
      if (world > 1) comm.allreduce_sum_(control);
      if (flags[0] > 0) {
        if (root)
          GNAS_LOG(WARN) << "signal " << (stop_requested() ? stop_requested() : SIGTERM) << ": stopping after epoch "
                         << st.epoch << " (its checkpoint is written); exiting with code " << kExitRequeue
                         << " (resume with: " << io::running_executable() << " " << loop.command << " --out "
                         << cfg.out << " --resume)";
        return kExitRequeue;
      }
    }
    const int epoch = st.epoch;
    const auto t0 = Clock::now();
    t_row = t0;  // a row's img/s counts training only, not the previous epoch's end
    steps_since_row = 0;
    const double lr = lr_at(cfg.train, epoch);
    set_lr(loop.sgd, lr);
    net->train();
    loop.on_epoch_start(epoch);
    if (st.step == 0) st.data_rng_epoch_start = st.data_rng;
    Rng perm_rng = st.data_rng_epoch_start;
    const auto perm = permutation(n_train, perm_rng);  // the same on every rank: shards never overlap
    if (st.step == 0) st.data_rng = perm_rng;          // a resumed epoch keeps the data RNG where it stopped
    // This rank's samples only; a resumed partial epoch's totals count once, on rank 0.
    const double carried_loss = root ? st.loss_sum : 0.0;
    const int64_t carried_correct = root ? st.correct : 0;
    const int start_step = st.step;
    const int64_t skipped_before = step.skipped_steps();
    auto loss_sum = torch::full({}, carried_loss, f64);
    auto correct = torch::full({}, carried_correct, i64);
    Progress progress(root && cfg.progress, epoch, cfg.train.epochs, steps, st.step);
    reset_peak_memory(device);
    for (; st.step < steps; ++st.step) {
      ++steps_this_process;
      if (steps_this_process == cfg.debug.stop_after_steps) std::raise(SIGTERM);
      if (rank == cfg.debug.fail_rank && steps_this_process > cfg.debug.fail_after_steps)
        throw Error(detail::concat("--debug.fail_rank: injected failure on rank ", rank, " at epoch ", epoch + 1,
                                   " step ", st.step));
      loop.before_step(epoch, st.step);
      const std::vector<int64_t> idx(perm.begin() + int64_t(st.step) * batch, perm.begin() + int64_t(st.step + 1) * batch);
      auto [x, y] = make_batch_shard(loop.train, idx, shard_begin, shard_end, cfg.data.augment, cfg.data.cutout,
                                     st.data_rng);
      const auto out = step.run(net, step.input(x, param_dtype), y, loop.parameters());
      loss_sum += out.loss * static_cast<double>(shard_end - shard_begin);
      correct += out.correct;
      if (root && (steps_this_process == kEstimateFrom || steps_this_process == kEstimateTo)) {
        (void)read_on_host<double>(loss_sum);  // once per process: waits for the device, for the clock
        if (steps_this_process == kEstimateFrom)
          estimate_start = seconds_since(t_run);
        else
          log_estimate(loop, (seconds_since(t_run) - estimate_start) / (kEstimateTo - kEstimateFrom), steps,
                       cfg.train.epochs - epoch, device.is_cpu());
      }
      ++steps_since_row;
      const bool row_due = root && loop.log && ((st.step + 1) % row_every == 0 || st.step + 1 == steps);
      const bool show = progress.due(st.step);  // once a step: due() restarts its clock when it says yes
      if (show || row_due) {  // this process's own steps (the carried totals are every rank's)
        const double seen = double(st.step + 1 - start_step) * double(shard_end - shard_begin);
        const double loss_now = (read_on_host<double>(loss_sum) - carried_loss) / seen;
        const double acc_now = 100.0 * double(read_on_host<int64_t>(correct) - carried_correct) / seen;
        diverged = diverged || !std::isfinite(loss_now);
        if (show) progress.draw(st.step, loss_now, acc_now, double(batch));
        if (row_due) {
          io::StepRecord row;
          row.global_step = epoch * steps + st.step + 1;
          row.epoch = epoch + 1;
          row.loss = loss_now, row.acc = acc_now, row.lr = lr;
          row.img_s = double(steps_since_row) * double(batch) / std::max(1e-9, seconds_since(t_row));
          loop.log->append_step(row);
          loop.log->flush();  // a live reader (report --watch, tensorboard) sees it now
          t_row = Clock::now();
          steps_since_row = 0;
        }
      }
      flags[0] = stop_requested() ? 1.f : 0.f;
      flags[1] = diverged ? 1.f : 0.f;
      if (world > 1) comm.allreduce_sum_(control);  // host memory: the control channel, no device read
      if (flags[1] > 0) {
        progress.clear();
        throw TrainingError(detail::concat("epoch ", epoch + 1, " step ", st.step + 1, ": the training loss is not "
                                           "finite; lower --train.lr. What earlier epochs wrote (log, genomes, models, "
                                           "checkpoint) is kept in ", cfg.out));
      }
      if (flags[0] > 0) {
        // Every rank saw the same sum: all stop after this same step, with every generator
        // (GA, data, torch) exactly where an uninterrupted run would continue from.
        ++st.step;
        auto totals = torch::stack({loss_sum, correct.to(torch::kFloat64)});
        comm.allreduce_sum_(totals);
        st.loss_sum = read_on_host<double>(totals[0]);
        st.correct = static_cast<int64_t>(read_on_host<double>(totals[1]));
        st.epoch_seconds += seconds_since(t0);
        st.scaler_state = step.scaler_state();
        progress.clear();
        GNAS_CHECK_AS(TrainingError, std::isfinite(st.loss_sum), "stopping on a signal with a non-finite loss: no "
                      "checkpoint written; the previous one is kept");
        if (root && !loop.ckpt_dir.empty()) {
          if (loop.log) st.log = loop.log->content();
          save_checkpoint(loop.ckpt_dir, net, loop.sgd, st);
        }
        comm.barrier();  // the checkpoint is complete before any rank exits
        if (root)
          GNAS_LOG(WARN) << "signal " << (stop_requested() ? stop_requested() : SIGTERM)
                         << ": checkpoint written at epoch " << epoch + 1 << " step " << st.step
                         << "; exiting with code " << kExitRequeue << " (resume with: " << io::running_executable() << " " << loop.command
                         << " --out " << cfg.out << " --resume)";
        return kExitRequeue;
      }
    }
    progress.clear();
    auto totals = torch::stack({loss_sum, correct.to(torch::kFloat64)});
    comm.allreduce_sum_(totals);
    const double seen = double(steps) * double(batch);
    const double train_loss = steps ? read_on_host<double>(totals[0]) / seen : std::nan("");
    const double train_acc = steps ? 100.0 * read_on_host<double>(totals[1]) / seen : std::nan("");
    GNAS_CHECK_AS(TrainingError, !loop.train_steps || std::isfinite(train_loss), "epoch ", epoch + 1,
                  ": the training loss is not finite (", train_loss, "); lower --train.lr. What earlier epochs wrote "
                  "(log, genomes, models, checkpoint) is kept in ", cfg.out);
    // fp16: the scaler skips a step whose gradients overflowed; an epoch of mostly skipped steps is
    // a divergence that the skipped steps' zeroed losses would hide. (Identical on every rank.)
    const int64_t skipped = step.skipped_steps() - skipped_before;
    GNAS_CHECK_AS(TrainingError, skipped * 2 <= steps - start_step, "epoch ", epoch + 1, ": ", skipped, " of ",
                  steps - start_step, " fp16 steps overflowed even after the loss scale backed off; use "
                  "--train.precision bf16 (or fp32), or lower --train.lr. What earlier epochs wrote is kept in ", cfg.out);
    const double train_seconds = st.epoch_seconds + seconds_since(t0);
    // BatchNorm running statistics are each rank's own (training uses batch statistics, so they never
    // change a step): rank 0's go to every rank before anything evaluates or saves the network, so
    // evaluation splits, checkpoints and model files all hold one network (as DDP broadcasts
    // buffers). Rank 0's own buffers are untouched, so a resumed run stays bit-identical.
    if (world > 1) {
      torch::NoGradGuard no_grad;
      for (auto b : net->buffers()) comm.broadcast_(b, 0);
    }

    EpochEnd end = loop.on_epoch_end(epoch, progress);
    io::EpochRecord& rec = end.record;
    rec.lr = loop.train_steps ? lr : std::nan("");
    rec.train_loss = train_loss;
    rec.train_acc = train_acc;
    rec.time_s = st.epoch_seconds + seconds_since(t0);
    rec.train_time_s = train_seconds;
    rec.eval_time_s = rec.time_s - train_seconds;
    rec.peak_mem_mib = peak_memory_mib(device);
    st.clear_epoch_progress();
    if (!root) continue;
    if (loop.log) {
      loop.log->append_epoch(rec);
      loop.log->flush();
    }
    if (!loop.ckpt_dir.empty()) {
      RunState next = st;  // the checkpoint describes the start of the next epoch
      next.epoch = epoch + 1;
      next.scaler_state = step.scaler_state();
      if (loop.log) next.log = loop.log->content();
      save_checkpoint(loop.ckpt_dir, net, loop.sgd, next);
    }
    if (loop.log) heartbeat_run_status(cfg.out, epoch + 1);  // after the checkpoint: epochs done are resumable
    epoch_times.push_back(rec.time_s);
    std::ostringstream line;
    if (loop.train_steps)
      line << std::fixed << "epoch " << epoch + 1 << "/" << cfg.train.epochs << "  lr " << std::setprecision(4) << lr
           << "  loss " << train_loss << "  train_acc " << std::setprecision(1) << train_acc << "%  " << end.summary
           << "  " << rec.time_s << "s  (" << std::setprecision(0) << seen / train_seconds << " img/s)"
           << eta_text(epoch_times, cfg.train.epochs - epoch - 1);
    else
      line << std::fixed << std::setprecision(1) << "epoch " << epoch + 1 << "/" << cfg.train.epochs << "  "
           << end.summary << "  " << rec.time_s << "s" << eta_text(epoch_times, cfg.train.epochs - epoch - 1);
    GNAS_LOG(INFO) << line.str();
  }
  return kExitOk;
}

}  // namespace gnas::train
