#pragma once
/// A run's whole configuration: the [train] and [log] sections, the device, and every layer's own
/// section (nn, ga, data, distributed), assembled by src/cli/ from INI files and command-line flags
/// (`--train.lr` <-> `[train] lr`) through RunConfig::visit_options, the one list of its options. Defaults are sized for a short CPU run on the embedded
/// synthetic data; configs/*.ini hold the paper's values.
#include <cstdint>
#include <string>
#include <thread>

#include "gnas/core/option_spec.h"
#include "gnas/data/options.h"
#include "gnas/distributed/options.h"
#include "gnas/ga/options.h"
#include "gnas/nn/options.h"

namespace gnas::train {

/// Learning-rate schedule: /10 at 50% and 75% of the epochs (the paper), or cosine annealing.
enum class Schedule { kStep, kCosine };
inline const Choices<Schedule> kSchedules = {{"step", Schedule::kStep}, {"cosine", Schedule::kCosine}};

/// Compute precision of the training step (autocast); parameters and the optimizer stay float32.
enum class Precision { kFp32, kBf16, kFp16 };
inline const Choices<Precision> kPrecisions = {
    {"fp32", Precision::kFp32}, {"bf16", Precision::kBf16}, {"fp16", Precision::kFp16}};
inline const char* precision_name(Precision p) { return choice_name(kPrecisions, p); }
/// "fp32" | "bf16" | "fp16" into `p`; false for anything else.
inline bool parse_precision(const std::string& s, Precision& p) {
  for (const auto& [name, value] : kPrecisions)
    if (s == name) return p = value, true;
  return false;
}

struct TrainOptions {
  int epochs = 3;               ///< paper search: 310, retrain: 630
  int batch = 64;               ///< global batch (paper: 128)
  double lr = 0.1;
  double lr_min = 0;            ///< kCosine: the learning rate the annealing ends at
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 1e-4;
  Schedule schedule = Schedule::kStep;
  Precision precision = Precision::kFp32;  ///< autocast dtype of forward/backward (fp16: with loss scaling)
  bool channels_last = false;              ///< NHWC memory format for activations and conv weights
  double grad_clip = 0;                    ///< max L2 norm of the gradients (0 = no clipping)

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("train.epochs", o.epochs, "epochs. Paper: 310 search, 630 retrain", above(0));
    v.option("train.batch", o.batch, "global batch size. Paper: 128", above(0));
    v.option("train.lr", o.lr, "initial learning rate. Paper: 0.1", in_open_closed(0, 1e6));
    v.option("train.lr_min", o.lr_min,
             "cosine schedule: the learning rate it anneals to (<= --train.lr). NAS-Bench-201's search protocol: "
             "0.001",
             at_least(0));
    v.option("train.momentum", o.momentum, "SGD momentum. Paper: 0.9", in_closed_open(0, 1));
    v.option("train.nesterov", o.nesterov, "Nesterov momentum (needs --train.momentum > 0). Paper: true");
    v.option("train.weight_decay", o.weight_decay, "weight decay. Paper: 1e-4", in_closed_open(0, 1));
    v.choice("train.schedule", o.schedule, "step (lr/10 at 50% and 75% of the epochs; paper) | cosine", kSchedules);
    v.choice("train.precision", o.precision,
             "compute precision of training and evaluation: fp32 | bf16 (autocast; the CPU too) | fp16 (autocast "
             "with loss scaling; CUDA only). Parameters stay float32",
             kPrecisions);
    v.option("train.channels_last", o.channels_last,
             "channels-last (NHWC) memory format for convolutions (faster with tensor cores)");
    v.option("train.grad_clip", o.grad_clip,
             "clip the gradients' joint L2 norm to this (0 = off). NAS-Bench-201's search protocol: 5",
             in_closed(0, 1e6, " (0 = off)"));
  }
  void validate() const {
    check_bounds(*this);
    check_option(lr_min <= lr, "train.lr_min", "in [0, --train.lr]", lr_min);
    check_option(!nesterov || momentum > 0, "train.momentum", "> 0 when --train.nesterov is true", momentum);
  }
};

/// Where tensors live: "auto" | "cpu" | "cuda" | "cuda:N" at the CLI.
struct DeviceSpec {
  enum class Kind { kAuto, kCpu, kCuda } kind = Kind::kAuto;
  int index = -1;  ///< kCuda: -1 = the rank's node-local GPU, else this GPU
};
/// "auto" | "cpu" | "cuda" | "cuda:N"; a ConfigError naming --device otherwise.
inline DeviceSpec parse_device(const std::string& text) {
  DeviceSpec d;
  if (text == "auto") return d;
  if (text == "cpu") {
    d.kind = DeviceSpec::Kind::kCpu;
    return d;
  }
  d.kind = DeviceSpec::Kind::kCuda;
  if (text == "cuda") return d;
  const std::string digits = text.rfind("cuda:", 0) == 0 ? text.substr(5) : "";
  GNAS_CHECK_AS(ConfigError,
                !digits.empty() && digits.size() <= 3 && digits.find_first_not_of("0123456789") == std::string::npos,
                "--device must be auto, cpu, cuda or cuda:N, got ", text);
  d.index = std::stoi(digits);
  return d;
}
/// The text parse_device reads back.
inline std::string device_text(const DeviceSpec& d) {
  if (d.kind == DeviceSpec::Kind::kAuto) return "auto";
  if (d.kind == DeviceSpec::Kind::kCpu) return "cpu";
  return d.index < 0 ? "cuda" : "cuda:" + std::to_string(d.index);
}

/// Testing and debugging switches (command line only, never written to config.ini).
struct DebugOptions {
  int stop_after_steps = 0;      ///< raise SIGTERM after this many steps of this process (0 = never)
  bool check_sync = false;       ///< verify at every step that all ranks train the same genome
  int fail_rank = -1;            ///< this rank throws after fail_after_steps steps (-1 = none)
  int fail_after_steps = 1;
  bool table_on_synthetic = false;  ///< allow --nb201.table without --data (tests: the mechanics, not the figures)
};

/// [log]: what a run reports, and how often.
struct LogOptions {
  bool all_ranks = false;        ///< INFO lines from every rank, not only rank 0
  double progress_seconds = 30;  ///< off a terminal, a progress line at least this often
  int every_steps = 0;           ///< a /step row every this many training steps; 0: every tenth of an epoch

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("log.all_ranks", o.all_ranks, "INFO lines from every rank (default: rank 0 only)");
    v.option("log.progress_seconds", o.progress_seconds,
             "off a terminal (job files, pipes), a progress line at least this often, besides every tenth of an "
             "epoch",
             in_open_closed(0, 1e6, " seconds"));
    v.option("log.every_steps", o.every_steps,
             "a row of training loss, accuracy, lr and img/s in the log's /step group every N steps (and at each "
             "epoch's last step); 0: every tenth of an epoch",
             in_closed(0, 1e9, " steps"));
  }
};

/// The most --threads this machine takes: its hardware threads.
inline int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1024;
}

struct RunConfig {
  std::uint64_t seed = 1;
  int threads = 0;               ///< torch intra-op threads (0 = train::default_threads())
  DeviceSpec device;
  nn::NetOptions net;
  TrainOptions train;
  ga::SearchOptions search;
  data::DataOptions data;
  LogOptions log;
  distributed::DistOptions dist;
  std::string out;               ///< run directory
  bool force = false;            ///< reuse an existing run directory
  bool resume = false;           ///< continue the run in `out` from its latest checkpoint
  DebugOptions debug;
  bool progress = true;          ///< step progress indicator on a terminal
  std::string config_text;       ///< the resolved configuration as INI text

  /// Every option of a run, in --help's order: the configuration's one list (config.ini's keys).
  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("seed", o.seed, "seed of every random stream (GA, data, torch)");
    v.option("threads", o.threads,
             "torch intra-op threads; 0: OMP_NUM_THREADS when set, else the CPUs this process may use (its "
             "affinity: what srun, a cpuset or taskset gives it), divided among the ranks mpirun started on this node",
             in_closed(0, max_threads(), " (this machine's hardware threads)"));
    v.text("device", o.device, "auto | cpu | cuda | cuda:N (under MPI, auto picks cuda:<node-local rank>)",
           parse_device, device_text);
    nn::NetOptions::visit_options(o.net, v);
    TrainOptions::visit_options(o.train, v);
    if (v.includes(OptionUse::kSearch)) ga::SearchOptions::visit_options(o.search, v);
    data::DataOptions::visit_options(o.data, v);
    LogOptions::visit_options(o.log, v);
    distributed::DistOptions::visit_options(o.dist, v);
  }
  /// Every bound of the list, each section's checks that relate two of its options, and the checks
  /// that relate options of two sections.
  void validate() const {
    check_bounds(*this);
    net.validate();
    train.validate();
    search.validate();
    GNAS_CHECK_AS(ConfigError, net.space != "nb201" || search.proxy.warm_start <= 15625, "--proxy.warm_start ",
                  search.proxy.warm_start, " is more than the 15625 cells of NAS-Bench-201's space");
    GNAS_CHECK_AS(ConfigError, net.space == "nb201" || !search.nb201.any_set(),
                  "--nb201.table, --nb201.rank_every and --nb201.rank_cells need --space nb201 (the space is ",
                  net.space, ")");
    // The table holds CIFAR-10 accuracies: on the synthetic set its look-ups and tau would be
    // printed as if they described the search's data.
    GNAS_CHECK_AS(ConfigError, search.nb201.table.empty() || !data.dir.empty() || debug.table_on_synthetic,
                  "--nb201.table: the table gives CIFAR-10 accuracies, but without --data the search runs on the "
                  "synthetic data set, whose cells it does not describe; give --data DIR (CIFAR-10's binary files)");
  }
};

}  // namespace gnas::train
