#pragma once
/// Entry points of the torch-using subcommands. No torch types here, so the CLI layer
/// compiles without libtorch headers. Each returns the process exit code.
#include <string>

#include "gnas/cli/options.h"
#include "gnas/core/config.h"

namespace gnas::train {

/// `gnas search`: GeneticNAS search (Alg. 2), writing the run directory config.out.
int run_search(const RunConfig& config);
/// `gnas retrain`: trains the fixed network of `genome` from scratch.
int run_retrain(const RunConfig& config, const std::string& genome);
/// `gnas evaluate`: top-1/top-5 test accuracy of a retrained checkpoint.
int run_evaluate(const cli::EvaluateArgs& args);
/// `gnas bench`: train/eval throughput of the supernet, one JSON line per figure.
int run_bench(const RunConfig& config, int steps, int warmup);

}  // namespace gnas::train
