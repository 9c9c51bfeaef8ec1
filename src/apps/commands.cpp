// Subcommand dispatch: parse -> validate -> run. No torch here.
#include <fstream>
#include <iostream>

#include "gnas/cli/options.h"
#include "gnas/core/error.h"
#include "gnas/io/files.h"
#include "gnas/search/genome.h"
#include "gnas/train/commands.h"

namespace gnas::app {
namespace {

int export_genome(const cli::ExportArgs& a) {
  search::SearchSpace space;
  space.n_blocks = a.blocks;
  const search::Genome g = search::load_genome(space, a.genome);
  std::string body = a.format == "json" ? search::to_json(space, g)
                     : a.format == "dot" ? search::to_dot(space, g)
                                         : search::to_text(space, g) + "\n";
  if (a.output.empty()) {
    std::cout << body;
  } else {
    io::write_file_atomic(a.output, body);
  }
  return kExitOk;
}

}  // namespace

int dispatch(const std::string& command, const std::vector<std::string>& args) {
  if (command == "search" || command == "retrain" || command == "bench") {
    const auto kind = command == "search"    ? cli::RunCommand::kSearch
                      : command == "retrain" ? cli::RunCommand::kRetrain
                                             : cli::RunCommand::kBench;
    const cli::ParsedRun run = cli::parse_run_command(kind, args);
    if (run.help) {
      std::cout << run.help_text;
      return kExitOk;
    }
    if (kind == cli::RunCommand::kSearch) return train::run_search(run.config);
    if (kind == cli::RunCommand::kRetrain) return train::run_retrain(run.config, run.extras.genome);
    return train::run_bench(run.config, run.extras.bench_steps, run.extras.bench_warmup);
  }
  if (command == "export") {
    const auto a = cli::parse_export_command(args);
    if (a.help) {
      std::cout << a.help_text;
      return kExitOk;
    }
    return export_genome(a);
  }
  if (command == "evaluate") {
    const auto a = cli::parse_evaluate_command(args);
    if (a.help) {
      std::cout << a.help_text;
      return kExitOk;
    }
    return train::run_evaluate(a);
  }
  throw ConfigError("unknown command '" + command + "'; run 'gnas --help' for the list");
}

}  // namespace gnas::app
