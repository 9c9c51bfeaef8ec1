// A `--config FILE` (and a run's config.ini under --resume): Boost.Program_options behind
// cli/options.h, with gnas's renamed keys, range checks and the resolved config it writes back.
// Invariant: a file that is accepted gives a resolved configuration that is accepted again and
// resolves to the same text.
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "gnas/cli/options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using gnas::cli::RunCommand;
  const std::string path = gnas::fuzz::input_file(data, size, "config.ini");
  GNAS_FUZZ_REFUSALS_OK({
    const auto first = gnas::cli::parse_run_command(RunCommand::kSearch, {"--config", path});
    const std::string resolved = first.config.config_text;
    const std::string again_path = gnas::fuzz::input_file(reinterpret_cast<const std::uint8_t*>(resolved.data()),
                                                          resolved.size(), "config.ini");
    const auto second = gnas::cli::parse_run_command(RunCommand::kSearch, {"--config", again_path});
    if (second.config.config_text != resolved) gnas::fuzz::violated("the resolved config does not resolve to itself");
  })
  return 0;
}
