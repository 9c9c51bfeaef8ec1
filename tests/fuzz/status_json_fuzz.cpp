// A run's status.json (io/run_status.h): read by `gnas runs`, --resume and the analysis, and
// written by every process of a run. Invariant: an accepted status, written again, reads back to
// the same JSON.
#include "fuzz_support.h"
#include "gnas/io/run_status.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  GNAS_FUZZ_REFUSALS_OK({
    const auto s = gnas::io::run_status_from_json(gnas::fuzz::text(data, size), "status.json");
    const std::string json = gnas::io::to_json(s);
    if (gnas::io::to_json(gnas::io::run_status_from_json(json, "again")) != json)
      gnas::fuzz::violated("a status written again reads back otherwise");
  })
  return 0;
}
