// Genome text (`--genome "0 1 2 ..."`, the text form of every log and JSON file) in both spaces,
// and the NAS-Bench-201 cell string that nb201's parse_text also takes. The first byte picks the
// space: the paper's with 1..5 blocks, or nb201. Invariant: an accepted genome is valid, and its
// text form reads back as the same genome.
#include "fuzz_support.h"
#include "gnas/space/space.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int pick = data[0] % 6;
  const auto space = pick == 5 ? gnas::space::make_space("nb201", 5) : gnas::space::make_space("paper", pick + 1);
  const std::string t = gnas::fuzz::text(data + 1, size - 1);
  GNAS_FUZZ_REFUSALS_OK({
    const gnas::space::Genome g = space->parse_text(t);
    space->validate(g);  // must not throw: parse_text accepted it
    if (space->parse_text(space->to_text(g)) != g) gnas::fuzz::violated("to_text does not read back");
    const std::string bench = space->benchmark_string(g);
    if (!bench.empty() && space->parse_text(bench) != g) gnas::fuzz::violated("the cell string does not read back");
  })
  return 0;
}
