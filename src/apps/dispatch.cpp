// Subcommand dispatch: make_communicator -> parse -> validate -> run. No torch types used here.
#include <csignal>
#include <fstream>
#include <iostream>

#include "gnas/cli/options.h"
#include "gnas/core/error.h"
#include "gnas/core/hash.h"
#include "gnas/core/log.h"
#include "gnas/core/signals.h"
#include "gnas/distributed/collectives.h"
#include "gnas/distributed/communicator.h"
#include "gnas/io/files.h"
#include "gnas/space/space.h"
#include "gnas/train/entry_points.h"
#include "gnas/train/run_end.h"

namespace gnas::app {
int run_tabular(const cli::TabularArgs& args);  // src/apps/tabular.cpp
int run_runs(const cli::RunsArgs& args);        // src/apps/runs.cpp

namespace {

std::string signal_name(int sig) {
  if (sig == SIGTERM) return "SIGTERM";
  if (sig == SIGUSR1) return "SIGUSR1";
  if (sig == SIGINT) return "SIGINT";
  return "signal " + std::to_string(sig);
}

int export_genome(const cli::ExportArgs& a) {
  std::string space_name = a.space;
  int blocks = a.blocks;
  // What a genome file says of itself (a run directory: its best_genome.json): its space, unless
  // --space is given, and its n_blocks, unless --net.blocks is.
  const std::string file = io::is_directory(a.genome) ? a.genome + "/best_genome.json" : a.genome;
  const bool json_file = io::path_exists(file) && !io::is_directory(file) &&
                         io::read_file(file).find('{') != std::string::npos;
  if (json_file && !a.blocks_given) blocks = space::json_n_blocks(io::read_file(file), blocks);
  if (space_name.empty()) {
    space_name = "paper";
    if (json_file) {
      space_name = space::json_space(io::read_file(file));
    } else if (!io::path_exists(file) && a.genome.find('~') != std::string::npos) {
      space_name = "nb201";  // the benchmark's cell string
    }
  }
  const auto space = space::make_space(space_name, blocks);
  const space::Genome g = space::load_genome(*space, a.genome);
  GNAS_CHECK_AS(ConfigError, a.format != "arch" || !space->benchmark_string(g).empty(),
                "--format arch: the ", space->name(), " space has no benchmark cell string (nb201 has)");
  std::string body = a.format == "json"  ? space->to_json(g, -1.0, a.compat)
                     : a.format == "dot" ? space->to_dot(g, a.compat)
                     : a.format == "arch" ? space->benchmark_string(g) + "\n"
                                          : space->to_text(g) + "\n";
  if (a.output.empty()) {
    std::cout << body;
  } else {
    io::write_file_atomic(a.output, body);
  }
  return kExitOk;
}

/// search, retrain and bench: possibly many ranks. Errors during set-up are agreed on by all ranks
/// and reported once; an error later (one rank throws mid-run) stops every rank with MPI_Abort.
int run_collective(cli::RunCommand kind, const std::vector<std::string>& args) {
  // SIGTERM/SIGUSR1 from the start: a stop that arrives during set-up is honoured at the first
  // step (checkpoint, exit 3) instead of killing the process before it has written anything.
  if (kind != cli::RunCommand::kBench) install_stop_handlers();
  auto comm = distributed::make_communicator(distributed::parse_backend(cli::backend_from_args(args)), cli::launched_under_mpi());
  LogSettings log = log_settings();
  log.rank = comm->rank();
  log.world_size = comm->size();
  set_log_settings(log);
  const char* name = kind == cli::RunCommand::kSearch ? "search" : kind == cli::RunCommand::kRetrain ? "retrain" : "bench";
  cli::ParsedRun run;
  // Rank 0 records how a search or retrain ended in its run directory: the command fills `begun`
  // when it begins the run's status (nothing is recorded after an error before that).
  train::BegunSegment begun;
  auto record_end = [&](const std::string& status, const std::string& reason) {
    if (comm->rank() == 0) train::record_run_end(begun, status, reason);
  };
  try {
    std::exception_ptr parse_error;
    try {
      run = cli::parse_run_command(kind, args);
    } catch (...) {
      parse_error = std::current_exception();
    }
    distributed::agree_on_failure(*comm, parse_error);
    if (run.help) {
      if (comm->rank() == 0) std::cout << run.help_text;
      return kExitOk;
    }
    // srun without a PMI plugin starts N copies that each believe they are rank 0 of 1: they
    // would all write the same run directory.
    const int tasks = cli::slurm_step_tasks();
    GNAS_CHECK_AS(ConfigError, !(comm->size() == 1 && tasks > 1), "srun started ", tasks,
                  " tasks but MPI sees a world of 1: each task would run alone. Launch with 'srun --mpi=pmix' "
                  "(or set MpiDefault=pmix in slurm.conf), or with 'srun -n 1' for one process");
    // Every rank must run the same configuration: a mismatch (different config files per node)
    // would make the ranks' collectives disagree in size. Checked before any of them.
    std::exception_ptr mismatch;
    try {
      const auto& c = run.config;  // the run directory and how it is opened, too: one writer per run
      distributed::check_same_on_all_ranks(*comm, fnv1a64(c.config_text + '\0' + run.extras.genome + '\0' + c.out +
                                                          '\0' + (c.resume ? "r" : "") + (c.force ? "f" : "")),
                                           "resolved configuration (options, config files and --out)");
    } catch (...) {
      mismatch = std::current_exception();
    }
    distributed::agree_on_failure(*comm, mismatch);
    comm->set_collective_timeout(run.config.dist.timeout);
    log.all_ranks = run.config.log.all_ranks;
    log.progress_seconds = run.config.log.progress_seconds;
    set_log_settings(log);
    if (kind == cli::RunCommand::kBench) return train::run_bench(run.config, run.extras, *comm);
    const int code = kind == cli::RunCommand::kSearch ? train::run_search(run.config, *comm, begun)
                                                      : train::run_retrain(run.config, run.extras.genome, *comm, begun);
    if (code == kExitOk) record_end("finished", "");
    if (code == kExitRequeue)
      record_end("stopped", detail::concat(signal_name(stop_requested() ? stop_requested() : SIGTERM),
                                           ": checkpoint written; continue with --resume"));
    return code;
  } catch (const distributed::PeerFailed& e) {
    record_end("failed", e.what());
    return e.exit_code();  // the failing rank reports
  } catch (const distributed::AgreedFailure& e) {
    GNAS_LOG(ERROR) << "gnas " << name << ": " << e.what();
    record_end("failed", e.what());
    return e.exit_code();  // every rank knows: all exit normally
  } catch (const std::exception& e) {
    // One rank failed alone mid-run: the others may wait in a collective, so the job ends here.
    const int code = exit_code_for(e);
    GNAS_LOG(ERROR) << "gnas " << name << ": " << e.what();
    record_end("failed", e.what());
    if (comm->size() > 1) {
      GNAS_LOG(ERROR) << "stopping all " << comm->size() << " ranks";
      comm->abort(code);
    }
    return code;
  }
}

}  // namespace

int dispatch(const std::string& command, const std::vector<std::string>& args) {
  if (command == "search") return run_collective(cli::RunCommand::kSearch, args);
  if (command == "retrain") return run_collective(cli::RunCommand::kRetrain, args);
  if (command == "bench") return run_collective(cli::RunCommand::kBench, args);
  // One-process commands: parse, print --help or run.
  auto simple = [](const auto& parsed, auto&& run) -> int {
    if (parsed.help) {
      std::cout << parsed.help_text;
      return kExitOk;
    }
    return run(parsed);
  };
  if (command == "export") return simple(cli::parse_export_command(args), export_genome);
  if (command == "tabular") return simple(cli::parse_tabular_command(args), run_tabular);
  if (command == "runs") return simple(cli::parse_runs_command(args), run_runs);
  if (command == "score")
    return simple(cli::parse_score_command(args), [](const cli::ScoreArgs& a) { return train::run_score(a.request); });
  if (command == "evaluate")
    return simple(cli::parse_evaluate_command(args), [](const cli::EvaluateArgs& a) { return train::run_evaluate(a.request); });
  throw ConfigError("unknown command '" + command + "'; run 'gnas --help' for the list");
}

}  // namespace gnas::app
