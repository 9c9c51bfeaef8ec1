// gnas's reader of a run's HDF5 log (io/log_reader.h), which `gnas runs` points at every log.h5 it
// finds. What gnas checks is fuzzed here; a crash inside libhdf5 on a crafted file is libhdf5's
// (docs/reliability.md says which) and scripts/fuzz runs this harness with -fork so it goes on.
#include "fuzz_support.h"
#include "gnas/io/log_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = gnas::fuzz::input_file(data, size, "log.h5");
  GNAS_FUZZ_REFUSALS_OK({
    const auto s = gnas::io::read_log_summary(path);
    if (s.format_version < 1 || s.format_version > 2) gnas::fuzz::violated("an unsupported format_version was read");
  })
  return 0;
}
