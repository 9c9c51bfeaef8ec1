#pragma once
/// Entry points of the torch-using subcommands. No torch types here, so the CLI layer
/// compiles without libtorch headers. Each returns the process exit code.
#include <string>

#include "gnas/cli/options.h"
#include "gnas/core/config.h"

namespace gnas::dist {
class Communicator;
}

namespace gnas::train {

/// `gnas search`: GeneticNAS search (Alg. 2), writing the run directory config.out (rank 0).
/// Collective: every rank of `comm` calls it.
int run_search(const RunConfig& config, dist::Communicator& comm);
/// `gnas retrain`: trains the fixed network of `genome` from scratch.
int run_retrain(const RunConfig& config, const std::string& genome);
/// `gnas evaluate`: top-1/top-5 test accuracy of a retrained checkpoint.
int run_evaluate(const cli::EvaluateArgs& args);
/// `gnas bench`: train/eval throughput of the supernet (or, with extras.bench_genome, of that
/// genome's fixed network), one JSON line. Under MPI it measures rank 0 alone, then all ranks
/// data-parallel, and reports the scaling efficiency.
int run_bench(const RunConfig& config, const cli::CommandExtras& extras, dist::Communicator& comm);

}  // namespace gnas::train
