#pragma once
/// Command-line and INI parsing for the gnas subcommands. Boost.Program_options stays behind
/// this header: callers get plain RunConfig values.
#include <string>
#include <vector>

#include "gnas/train/entry_points.h"
#include "gnas/train/options.h"

namespace gnas::cli {

/// The subcommands that take the shared run configuration.
enum class RunCommand { kSearch, kRetrain, kBench };

using train::CommandExtras;

struct ParsedRun {
  train::RunConfig config;
  CommandExtras extras;
  bool help = false;       ///< --help was given; `help_text` holds the usage
  std::string help_text;
};

/// Parses the arguments after the subcommand name. Command-line values override `--config FILE`
/// values (several --config files: the first that sets a key wins), which override built-in defaults.
/// Throws ConfigError on unknown options or keys, malformed values and out-of-range values.
ParsedRun parse_run_command(RunCommand command, const std::vector<std::string>& args);

/// "auto" | "cpu" | "cuda" | "cuda:N"; throws ConfigError naming --device otherwise.
using train::parse_device;

/// True when this process was started by an MPI launcher (mpirun, srun with PMI/PMIx).
bool launched_under_mpi();
/// The number of tasks of the Slurm job step this process belongs to (SLURM_STEP_NUM_TASKS, or
/// SLURM_NTASKS inside an srun step), or 0 when it was not started by srun.
int slurm_step_tasks();
/// stdout is a person's terminal: a tty, and not a rank started by an MPI launcher or srun (whose
/// pseudo-terminal output ends up in job files).
bool stdout_is_user_terminal();
/// The --dist.backend value on a command line (before full parsing; default "auto").
std::string backend_from_args(const std::vector<std::string>& args);

/// Options of `gnas export`.
struct ExportArgs {
  std::string genome;
  std::string format = "json";  ///< json | dot | text | arch (nb201: the benchmark's cell string)
  std::string space;            ///< --space; empty: the genome file's own (paper for text)
  std::string output;           ///< empty: stdout
  int blocks = 5;
  bool blocks_given = false;    ///< --net.blocks was on the command line (else a JSON file's n_blocks wins)
  NetCompat compat = NetCompat::kPaper;
  bool help = false;
  std::string help_text;
};
ExportArgs parse_export_command(const std::vector<std::string>& args);

/// Options of `gnas runs`.
struct RunsArgs {
  std::vector<std::string> dirs;   ///< run directories, or directories holding runs
  bool csv = false;
  double stale_after_min = 0;      ///< 0: max(30 min, 3 x the run's longest epoch)
  bool help = false;
  std::string help_text;
};
RunsArgs parse_runs_command(const std::vector<std::string>& args);

/// Options of `gnas tabular`.
struct TabularArgs {
  std::string table;                                  ///< NAS-Bench-201 CSV
  std::vector<std::string> strategies{"ga", "random", "rea"};
  std::vector<int> budgets{100, 200, 500, 1000};      ///< distinct cells looked up, ascending
  int runs = 500;
  std::uint64_t seed = 1;
  std::string out;                                    ///< directory for tabular.h5; empty: none
  bool force = false;                                 ///< replace an earlier tabular.h5 in out
  bool json = false;
  ga::GaOptions ga;                                   ///< N_p, N_g, p_m, p_c, crossover
  int rea_population = 10, rea_sample = 3;
  std::string scores;                                 ///< a score table (gnas score); empty: none
  std::string fitness = "valid";                      ///< valid | a score of `scores`, or several joined by '+'
  bool help = false;
  std::string help_text;
};
TabularArgs parse_tabular_command(const std::vector<std::string>& args);

/// Options of `gnas score`.
struct ScoreArgs {
  train::ScoreRequest request;
  bool help = false;
  std::string help_text;
};
ScoreArgs parse_score_command(const std::vector<std::string>& args);

/// Options of `gnas evaluate`.
struct EvaluateArgs {
  train::EvaluateRequest request;
  bool help = false;
  std::string help_text;
};
EvaluateArgs parse_evaluate_command(const std::vector<std::string>& args);

}  // namespace gnas::cli
