// A score table (`gnas score --out`, `gnas tabular --scores`, `--proxy.table`): CSV with a setup
// line. Invariant: an accepted table, written again by gnas, reads back to the same setup and rows.
#include <cmath>

#include "fuzz_support.h"
#include "gnas/fitness/score_table.h"

namespace {
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = gnas::fuzz::input_file(data, size, "scores.csv");
  GNAS_FUZZ_REFUSALS_OK({
    const auto t = gnas::fitness::read_score_table(path);
    if (t.valid_bytes > size) gnas::fuzz::violated("valid_bytes past the end");
    std::string again = gnas::fitness::score_table_header(t.setup);
    for (const auto& r : t.rows) again += gnas::fitness::score_row_line(r);
    const auto u = gnas::fitness::read_score_table(
        gnas::fuzz::input_file(reinterpret_cast<const std::uint8_t*>(again.data()), again.size(), "scores.csv"));
    if (!u.setup.difference(t.setup).empty() || u.rows.size() != t.rows.size())
      gnas::fuzz::violated("a table written again reads back otherwise");
    for (std::size_t i = 0; i < t.rows.size(); ++i)
      if (u.rows[i].arch != t.rows[i].arch || !same(u.rows[i].params, t.rows[i].params) ||
          !same(u.rows[i].naswot, t.rows[i].naswot) || !same(u.rows[i].synflow, t.rows[i].synflow))
        gnas::fuzz::violated("a row written again reads back otherwise");
  })
  return 0;
}
