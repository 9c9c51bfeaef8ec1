#pragma once
/// The resolved configuration of a run: plain structs, filled by src/cli/ from INI files and
/// command-line flags (`--train.lr` <-> `[train] lr`). Defaults are sized for a short CPU run on the
/// embedded synthetic data; configs/*.ini hold the paper's values.
#include <cstdint>
#include <string>

#include "gnas/core/compat.h"
#include "gnas/ga/operators.h"

namespace gnas {

struct NetOptions {
  int channels = 8;        ///< C: channels of stage 1 (paper search: 20, retrain: 48)
  int cells = 1;           ///< N_cell (paper search: 2, retrain: 4)
  int blocks = 5;          ///< N_b blocks per cell
  double dropout = 0.2;    ///< dropout before the classifier
  double drop_path_keep = 0.9;  ///< retrain only: per-sample drop-path keep probability
  int drop_path_from = 0;       ///< retrain only: first epoch (0-based) with drop-path on
  NetCompat compat = NetCompat::kPaper;  ///< paper | reference (docs/fidelity.md)
  bool share_slots = true;      ///< slots A and B of a block share weights per (input, op)
};

struct TrainOptions {
  int epochs = 3;               ///< paper search: 310, retrain: 630
  int batch = 64;               ///< global batch (paper: 128)
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 1e-4;
  std::string schedule = "step";  ///< "step": /10 at 50% and 75% of the epochs; "cosine"
};

struct SearchOptions {
  ga::GaOptions ga;
  int n_v = 200;                    ///< validation images per fitness evaluation (paper: 1000)
  int generations_per_epoch = 2;
  std::string bn_eval = "batch";    ///< BN statistics when scoring candidates: "batch" | "running"
  ga::Strategy strategy = ga::Strategy::kGa;  ///< --ga.strategy ga | random
};

struct DataOptions {
  std::string dir;               ///< CIFAR directory; empty = embedded synthetic data
  int val_size = 5000;           ///< CIFAR: last val_size training images form the validation split
  int train_limit = 0;           ///< CIFAR: use only the first N training images (0 = all)
  int synthetic_train = 3000;    ///< synthetic split sizes
  int synthetic_val = 500;
  int synthetic_test = 1000;
  std::uint64_t synthetic_seed = 1234;  ///< the synthetic set depends on this seed only
  bool augment = true;           ///< pad-4 crop, flip, cutout on training batches
  int cutout = 16;               ///< cutout hole side (0 = off)
  int eval_batch = 250;          ///< batch size for evaluation passes
};

struct DistOptions {
  std::string backend = "auto";  ///< "auto" (MPI under mpirun/srun) | "serial" | "mpi"
  bool log_all_ranks = false;    ///< INFO lines from every rank, not only rank 0
  double timeout = 0;            ///< seconds a collective may wait for the other ranks (0 = forever)
};

/// Testing and debugging switches (command line only, never written to config.ini).
struct DebugOptions {
  int stop_after_steps = 0;      ///< raise SIGTERM after this many steps of this process (0 = never)
  bool check_sync = false;       ///< verify every step that all ranks train the same genome
  int fail_rank = -1;            ///< this rank throws after fail_after_steps steps (-1 = none)
  int fail_after_steps = 1;
};

struct RunConfig {
  std::uint64_t seed = 1;
  int threads = 0;               ///< torch intra-op threads (0 = libtorch's default)
  std::string device = "auto";   ///< "auto" | "cpu" | "cuda" | "cuda:N"
  NetOptions net;
  TrainOptions train;
  SearchOptions search;
  DataOptions data;
  std::string out;               ///< run directory
  bool force = false;            ///< reuse an existing run directory
  bool resume = false;           ///< continue the run in `out` from its latest checkpoint
  DistOptions dist;
  DebugOptions debug;
  bool progress = true;          ///< step progress indicator on a terminal
  std::string config_text;       ///< the resolved configuration as INI text
};

}  // namespace gnas
