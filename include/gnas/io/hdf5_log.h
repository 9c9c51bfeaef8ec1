#pragma once
/// The run log `log.h5` (DESIGN §7, format_version 2), written by rank 0 only.
/// Datasets are chunked and extendible along their first axis. The file is opened in SWMR mode
/// and flushed after each epoch, so readers (h5py with swmr=True, h5dump) can follow a running job.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gnas::io {

/// 2: UTF-8 variable-length text attributes, dimension scales, the op table, the config as a valid
/// INI (keys before any section under [run]), the run's status, segments and machine. 1: without those.
constexpr int kLogFormatVersion = 2;

/// The run's status as the log records it (status.json holds the same; see run_status.h). Written
/// when the log is created and rewritten by Hdf5Log::write_status when the run ends.
struct RunStatusAttributes {
  std::string status;           ///< running | finished | stopped | failed; "": not written
  std::string reason;
  int epochs_done = 0, epochs_planned = 0;
  std::string segments;         ///< JSON array, one object per process that worked on the run
  std::string host, device, git_commit, slurm_job_id;  ///< of the latest segment
  std::string updated_at;
};

struct LogAttributes {
  std::string command;     ///< "search" | "retrain"
  std::string config;      ///< resolved configuration, INI text
  std::string version;     ///< gnas version
  std::uint64_t seed = 0;
  int world_size = 1;
  std::string dataset;     ///< e.g. "synthetic10", "cifar10"
  std::string started_at;  ///< ISO-8601 UTC
  std::string resume_history;  ///< one line per resume (when, from where, changed options); "" = none
  std::string strategy;        ///< search: "ga" | "random"; "" (retrain): not written
  std::string fitness;         ///< search: --search.fitness ("supernet", "naswot", ...); "": not written
  std::string net_compat;      ///< "paper" | "reference" (the network the genomes ran in); "": not written
  /// Made when the run is created (new_run_id) and kept by every resume; status.json and the run's
  /// checkpoints carry it too, so that a checkpoint resumes only its own run. "": a run made before.
  std::string run_id;
  /// retrain: the search run its genome came from (io::GenomeSource); "" and 0 when not known.
  std::string source_run, source_run_id;
  int source_epoch = 0;
  // format_version 2. Not stored in checkpoints: open_log fills them for each process.
  std::vector<std::string> op_names;  ///< op code -> name (the genome's op genes)
  std::string genome_layout;          ///< what each gene position means
  std::string genome_layout_json;     ///< the same for programs (space::Space::layout_json)
  std::string space;                  ///< the search space: "paper" | "nb201"
  RunStatusAttributes status;
};

/// `config` with the keys before its first section moved under [run], so that any INI reader
/// (Python's configparser) accepts it; comments and sections are kept.
std::string sectioned_ini(const std::string& config);

/// One row of /epoch/*. Values that do not apply to a command are NaN (n_new: -1).
struct EpochRecord {
  double lr = 0, train_loss = 0, train_acc = 0, time_s = 0;
  double best_fitness = 0, best_full_val_acc = 0, test_acc = 0;
  /// search with --nb201.table: the table's accuracies of the population's best, the population's
  /// mean and the chosen cell (/best/genome); NaN otherwise.
  double gt_best_test = NAN, gt_best_valid = NAN, gt_mean_test = NAN, gt_mean_valid = NAN;
  double gt_chosen_test = NAN, gt_chosen_valid = NAN;
  double gt_chosen_rank = NAN, gt_chosen_below_pct = NAN;  ///< where that cell stands among the table's cells
  double gt_table_best_test = NAN, gt_table_mean_test = NAN;  ///< the table's optimum and mean (the figures' lines)
  int n_new = -1;  ///< search: members inserted into the population, summed over the epoch's generations
  /// The evaluation's mean cross-entropy: search, the best member on the whole validation split;
  /// retrain, the test split. NaN in the other command.
  double best_full_val_loss = NAN, test_loss = NAN;
  /// time_s split: the training steps, and the end of the epoch (GA rounds, validation, ranking or
  /// test evaluation, and the files written).
  double train_time_s = NAN, eval_time_s = NAN;
  double peak_mem_mib = NAN;  ///< CUDA: the largest memory allocated on rank 0's GPU during the epoch; NaN on a CPU
};

/// One row of /step/*: rank 0's training figures every --log.every_steps steps (its own shard's
/// loss and accuracy since the start of the epoch, or of the resume in a resumed epoch; the learning
/// rate; the images per second of the whole job since the previous row).
struct StepRecord {
  int global_step = 0;  ///< 1-based over the whole run: epoch * steps per epoch + step
  int epoch = 0;        ///< 1-based
  double loss = 0, acc = 0, lr = 0, img_s = 0;
};

/// Everything a log holds, mirrored in memory by Hdf5Log and stored in every checkpoint, so that a
/// resume can rebuild a log that was deleted or damaged. Genomes and fitness values are flat, row
/// after row (generation rows: n_g genomes of genome_length genes each).
struct LogContent {
  LogAttributes attrs;
  int genome_length = 0, n_g = 0, n_p = 0;
  bool with_ga = false;
  std::vector<EpochRecord> epochs;
  std::vector<StepRecord> steps;
  std::vector<std::uint8_t> generation_genomes;
  std::vector<float> generation_fitness;
  std::vector<int> generation_epoch;  ///< one per generation row
  std::vector<int> generation_n_new;  ///< one per generation row: members inserted (-1: not recorded)
  std::vector<std::uint8_t> population_genomes;
  std::vector<float> population_fitness;
  std::vector<std::uint8_t> best_genome;  ///< empty until set_best
  float best_fitness = 0;
  /// --rescore population: the incoming population re-scored, one row per generation row (NaN: not re-scored).
  std::vector<float> population_rescored;
  /// The ranking set (--nb201.table): n_rank cells, written once; then one row per scoring.
  int n_rank = 0;
  std::vector<std::uint8_t> rank_genomes;
  std::vector<std::int32_t> rank_index;
  std::vector<float> rank_table_test, rank_table_valid;
  std::vector<float> rank_table_params;  ///< params_m of each ranking cell (the floor's ranking); may be empty
  std::vector<std::int32_t> rank_epoch;
  std::vector<float> rank_score;  ///< n_rank per row
  std::vector<double> rank_tau, rank_rho;
};

/// "" when `a` and `b` hold the same content (every field a checkpoint stores: the attributes but
/// the format_version 2 ones, every record column, every row; NaN equals NaN), else the first field
/// that differs and both values, e.g. "generation_epoch[1]: 2 against 3".
std::string first_difference(const LogContent& a, const LogContent& b);

/// Why the last HDF5 call failed, as ": REASON" ("" when HDF5 recorded none): the deepest message of
/// HDF5's error stack (the system's, when a write or flush failed), with " (the disk is full)" when
/// that is the reason. Call it right after the failing call: later calls clear the stack.
std::string hdf5_failure();

/// Call first in main, before any HDF5 call: the library then skips its clean-up at exit, which
/// crashes (libhdf5 1.10's H5F__close_cb) on a file whose H5Fclose failed, e.g. on a full disk.
/// Every file is closed by its owner before then; a close that failed has nothing left to save.
void skip_hdf5_cleanup_at_exit();

class Hdf5Log {
 public:
  /// Creates `path` (truncating) with the root attributes and every dataset.
  /// `genome_length`, `n_g`, `n_p` size the /ga and /best datasets; with_ga=false omits /ga.
  /// n_rank > 0: the /nb201 group for a ranking set of n_rank cells (set_ranking_set, append_ranking).
  Hdf5Log(const std::string& path, const LogAttributes& attrs, int genome_length, int n_g, int n_p, bool with_ga,
          int n_rank = 0);
  /// Resume: writes the log of `content` (a checkpoint's copy) to `path`, so rows written after the
  /// checkpoint are gone. A readable log is replaced atomically; one that is missing gets a warning;
  /// one that HDF5 cannot open (damaged, truncated) is kept as `path.damaged-<time>` with a warning.
  static std::unique_ptr<Hdf5Log> restore(const std::string& path, const LogContent& content);
  ~Hdf5Log();
  Hdf5Log(const Hdf5Log&) = delete;
  Hdf5Log& operator=(const Hdf5Log&) = delete;

  void append_epoch(const EpochRecord& r);
  void append_step(const StepRecord& r);
  /// Appends one row to /ga/generation/* and /ga/population/* (the population right after
  /// replacement with this generation; n_new: how many of its members this replacement inserted).
  /// genomes are flat: n_g*L and n_p*L bytes. `rescored`: the incoming population re-scored on this
  /// generation's images (N_p values, in the previous row's order); empty: not re-scored (NaN).
  void append_generation(const std::vector<std::uint8_t>& generation, const std::vector<float>& generation_fitness,
                         int epoch, int n_new, const std::vector<std::uint8_t>& population,
                         const std::vector<float>& population_fitness, const std::vector<float>& rescored = {});
  void set_best(const std::vector<std::uint8_t>& genome, float fitness);
  /// The ranking set: n_rank genomes (flat), their benchmark indices, table accuracies and
  /// parameter counts (params_m; empty: not known, written as NaN).
  void set_ranking_set(const std::vector<std::uint8_t>& genomes, const std::vector<std::int32_t>& index,
                       const std::vector<float>& table_test, const std::vector<float>& table_valid,
                       const std::vector<float>& table_params = {});
  /// One scoring of the ranking set after 0-based `epoch`.
  void append_ranking(int epoch, const std::vector<float>& scores, double tau, double rho);
  /// Rewrites the status attributes of the (closed) log at `path`; used when a run ends, after its
  /// Hdf5Log is gone (an SWMR writer cannot change attributes). Throws IoError.
  static void write_status(const std::string& path, const RunStatusAttributes& status);
  /// Flushes everything written so far to disk.
  void flush();
  const std::string& path() const { return path_; }
  /// Everything written so far (for checkpoints).
  const LogContent& content() const { return content_; }

 private:
  LogContent content_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace gnas::io
