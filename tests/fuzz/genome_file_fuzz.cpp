// A genome file (`--genome FILE`, `gnas export`, a run's best_genome.json): JSON, or the text form
// with '#' comments. The first byte picks the space, as in genome_text_fuzz. Invariant: an accepted
// file gives a valid genome whose JSON, written by gnas, reads back as the same genome.
#include "fuzz_support.h"
#include "gnas/space/space.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int pick = data[0] % 6;
  const auto space = pick == 5 ? gnas::space::make_space("nb201", 5) : gnas::space::make_space("paper", pick + 1);
  const std::string path = gnas::fuzz::input_file(data + 1, size - 1, "genome.json");
  GNAS_FUZZ_REFUSALS_OK({
    const gnas::space::Genome g = gnas::space::load_genome(*space, path);
    space->validate(g);
    const std::string json = space->to_json(g, 0.5, gnas::NetCompat::kPaper);
    const std::string again = gnas::fuzz::input_file(reinterpret_cast<const std::uint8_t*>(json.data()), json.size(),
                                                     "genome.json");
    if (gnas::space::load_genome(*space, again) != g) gnas::fuzz::violated("gnas's own JSON does not read back");
  })
  return 0;
}
