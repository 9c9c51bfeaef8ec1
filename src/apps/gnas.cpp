// gnas: one executable, one subcommand per job kind. Parses, validates, runs; errors are caught here once.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "gnas/cli/options.h"
#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/hdf5_log.h"

namespace gnas::app {
int dispatch(const std::string& command, const std::vector<std::string>& args);
}

namespace {
const char* const kUsage =
    "Usage: gnas <command> [options]    (gnas <command> --help for its options)\n"
    "\n"
    "Commands:\n"
    "  search    genetic architecture search over a weight-sharing supernet (writes a run directory)\n"
    "  retrain   train the best genome of a search from scratch (fixed network, drop-path)\n"
    "  evaluate  top-1/top-5 test accuracy of a retrained checkpoint\n"
    "  export    write a genome as JSON, Graphviz DOT or text\n"
    "  bench     supernet training/evaluation throughput, one JSON line\n"
    "  runs      one line per run directory: status, progress, differing config, results (--csv)\n"
    "  tabular   search strategies (GA, random, REA) on the tabulated NAS-Bench-201 space\n"
    "  score     training-free scores of cells (NASWOT, synflow, parameters): a score table, cells/s, tau\n"
    "\n"
    "Exit codes: 0 ok, 1 error, 2 bad option or config, 3 stopped by a signal (requeue).\n";
}

int main(int argc, char** argv) {
  gnas::io::skip_hdf5_cleanup_at_exit();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? gnas::kExitUsage : gnas::kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << "gnas " << GNAS_VERSION << "\n";
    return gnas::kExitOk;
  }
  gnas::LogSettings log;
  log.interactive = gnas::cli::stdout_is_user_terminal();
  gnas::set_log_settings(log);
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    return gnas::app::dispatch(command, args);
  } catch (const std::exception& e) {
    GNAS_LOG(ERROR) << "gnas " << command << ": " << e.what();
    return gnas::exit_code_for(e);
  }
}
