#pragma once
/// A run's whole configuration: the [train] section, the device, and every layer's own section
/// (nn, ga, data, distributed), assembled by src/cli/ from INI files and command-line flags
/// (`--train.lr` <-> `[train] lr`). Defaults are sized for a short CPU run on the embedded
/// synthetic data; configs/*.ini hold the paper's values.
#include <cstdint>
#include <string>

#include "gnas/core/option_check.h"
#include "gnas/data/options.h"
#include "gnas/distributed/options.h"
#include "gnas/ga/options.h"
#include "gnas/nn/options.h"

namespace gnas::train {

/// Learning-rate schedule: /10 at 50% and 75% of the epochs (the paper), or cosine annealing.
enum class Schedule { kStep, kCosine };

/// Compute precision of the training step (autocast); parameters and the optimizer stay float32.
enum class Precision { kFp32, kBf16, kFp16 };
inline const char* precision_name(Precision p) {
  return p == Precision::kBf16 ? "bf16" : p == Precision::kFp16 ? "fp16" : "fp32";
}
/// "fp32" | "bf16" | "fp16" into `p`; false for anything else.
inline bool parse_precision(const std::string& s, Precision& p) {
  if (s == "fp32") p = Precision::kFp32;
  else if (s == "bf16") p = Precision::kBf16;
  else if (s == "fp16") p = Precision::kFp16;
  else return false;
  return true;
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
  void validate() const {
    check_option(epochs > 0, "train.epochs", "> 0", epochs);
    check_option(batch > 0, "train.batch", "> 0", batch);
    check_option(lr > 0 && lr <= 1e6, "train.lr", "in (0, 1e6]", lr);
    check_option(lr_min >= 0 && lr_min <= lr, "train.lr_min", "in [0, --train.lr]", lr_min);
    check_option(momentum >= 0 && momentum < 1, "train.momentum", "in [0, 1)", momentum);
    check_option(!nesterov || momentum > 0, "train.momentum", "> 0 when --train.nesterov is true", momentum);
    check_option(weight_decay >= 0 && weight_decay < 1, "train.weight_decay", "in [0, 1)", weight_decay);
    check_option(grad_clip >= 0 && grad_clip <= 1e6, "train.grad_clip", "in [0, 1e6] (0 = off)", grad_clip);
  }
};

/// Where tensors live: "auto" | "cpu" | "cuda" | "cuda:N" at the CLI.
struct DeviceSpec {
  enum class Kind { kAuto, kCpu, kCuda } kind = Kind::kAuto;
  int index = -1;  ///< kCuda: -1 = the rank's node-local GPU, else this GPU
};

/// Testing and debugging switches (command line only, never written to config.ini).
struct DebugOptions {
  int stop_after_steps = 0;      ///< raise SIGTERM after this many steps of this process (0 = never)
  bool check_sync = false;       ///< verify every step that all ranks train the same genome
  int fail_rank = -1;            ///< this rank throws after fail_after_steps steps (-1 = none)
  int fail_after_steps = 1;
};

/// [log]: what the run log records beyond the epoch rows.
struct LogOptions {
  int every_steps = 0;  ///< a /step row every this many training steps; 0: every tenth of an epoch
  void validate() const {
    check_option(every_steps >= 0 && every_steps <= 1000000000, "log.every_steps", "in [0, 1e9] steps", every_steps);
  }
};

struct RunConfig {
  std::uint64_t seed = 1;
  int threads = 0;               ///< torch intra-op threads (0 = libtorch's default)
  DeviceSpec device;
  nn::NetOptions net;
  TrainOptions train;
  ga::SearchOptions search;
  data::DataOptions data;
  std::string out;               ///< run directory
  bool force = false;            ///< reuse an existing run directory
  bool resume = false;           ///< continue the run in `out` from its latest checkpoint
  distributed::DistOptions dist;
  DebugOptions debug;
  LogOptions log;
  bool progress = true;          ///< step progress indicator on a terminal
  std::string config_text;       ///< the resolved configuration as INI text
};

}  // namespace gnas::train
