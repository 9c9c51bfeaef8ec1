// The NAS-Bench-201 table (`--nb201.table`, `gnas tabular`): a CSV of 15,625 rows. Invariant: an
// accepted table has every cell once, with accuracies in [0, 100], and its optimum is a cell.
#include "fuzz_support.h"
#include "gnas/space/nb201.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = gnas::fuzz::input_file(data, size, "table.csv");
  GNAS_FUZZ_REFUSALS_OK({
    const auto t = gnas::space::nb201::load_table(path);
    if (t.best_code < 0 || t.best_code >= gnas::space::nb201::kCells) gnas::fuzz::violated("no optimum");
    for (std::size_t i = 0; i < t.test.size(); ++i)
      if (!(t.test[i] >= 0 && t.test[i] <= 100 && t.valid[i] >= 0 && t.valid[i] <= 100))
        gnas::fuzz::violated("an accuracy outside [0, 100]");
  })
  return 0;
}
