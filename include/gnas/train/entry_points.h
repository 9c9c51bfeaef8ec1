#pragma once
/// Entry points of the torch-using subcommands. No torch types here, so the CLI layer
/// compiles without libtorch headers. Each returns the process exit code.
#include <string>

#include "gnas/train/options.h"
#include "gnas/train/run_end.h"

namespace gnas::distributed {
class Communicator;
}

namespace gnas::train {

/// Extra per-command values that are not part of the INI configuration.
struct CommandExtras {
  std::string genome;     ///< retrain: genome text, JSON file or search run directory
  int bench_steps = 20;   ///< bench: timed steps per measurement
  int bench_warmup = 3;   ///< bench: untimed steps first
  std::string bench_genome;  ///< bench: time the fixed network of this genome instead of the supernet
  bool bench_profile = false;  ///< bench --profile: the share of each phase of the step (waits for the device)
};

/// What `gnas evaluate` measures.
struct EvaluateRequest {
  std::string model;      ///< checkpoint file or retrain run directory
  std::string data;       ///< CIFAR directory; empty: the synthetic test split
  DeviceSpec device;
  int batch = 500;
  int threads = 0;
};

/// What `gnas score` scores, and where it writes (fitness/score_table.h).
struct ScoreRequest {
  std::string space = "nb201";
  std::string cells = "stratified:200";  ///< all | random:N | stratified:N (nb201, needs table) | FILE
  std::string table;                     ///< nb201: the benchmark's CSV, for stratified cells and tau/rho
  int64_t channels = 16, net_cells = 5;  ///< the scoring network's C and N (NAS-Bench-201's 16 and 5)
  int blocks = 5;                        ///< paper space: N_b
  int batch = 128;                       ///< NASWOT's batch of training images
  std::string scores = "naswot,synflow"; ///< which scores to compute (params always)
  std::string data;                      ///< CIFAR directory; empty: the synthetic set
  int train_limit = 0, val_size = 5000;  ///< CIFAR: the training split, as a search's --data.* make it
  std::uint64_t seed = 1;
  int threads = 1;
  std::string out;                       ///< the score table; appended to when it holds the same setup
  bool force = false;                    ///< replace an --out of another setup
  bool progress = true;
};

/// `gnas search`: GeneticNAS search (Alg. 2), writing the run directory config.out (rank 0).
/// Collective: every rank of `comm` calls it.
/// `begun`: set when rank 0 has begun the run's status (status.json), for the caller's
/// record_run_end.
int run_search(const RunConfig& config, distributed::Communicator& comm, BegunSegment& begun);
/// `gnas retrain`: trains the fixed network of `genome` from scratch, data-parallel over `comm`
/// (rank 0 writes). Collective.
int run_retrain(const RunConfig& config, const std::string& genome, distributed::Communicator& comm,
                BegunSegment& begun);
/// `gnas score`: training-free scores of cells, appended row by row to a score table; prints cells
/// per second and, with a NAS-Bench-201 table, each score's Kendall tau and Spearman rho.
int run_score(const ScoreRequest& request);
/// `gnas evaluate`: top-1/top-5 test accuracy of a retrained checkpoint.
int run_evaluate(const EvaluateRequest& request);
/// `gnas bench`: train/eval throughput of the supernet (or, with extras.bench_genome, of that
/// genome's fixed network), one JSON line. Under MPI it measures rank 0 alone, then all ranks
/// data-parallel, and reports the scaling efficiency.
int run_bench(const RunConfig& config, const CommandExtras& extras, distributed::Communicator& comm);


}  // namespace gnas::train
