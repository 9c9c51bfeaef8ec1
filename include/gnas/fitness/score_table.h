#pragma once
/// A score table: the training-free scores of a list of cells (`gnas score` writes it; `gnas
/// tabular --scores` searches it). Plain C++, no torch.
///
/// The file is CSV with two header lines that say what was scored and how:
///   # gnas score table v1
///   # space=nb201 channels=16 cells=5 blocks=5 batch=128 seed=1 data=cifar10 train_images=45000
///   arch,params,naswot,synflow
///   |nor_conv_3x3~0|+|...|,1073466,2095.5312,72.0134
/// `arch` is the benchmark's cell string (nb201) or the genome's text (paper); a score not
/// computed is `nan`, a singular NASWOT kernel `-inf`. Rows are appended one at a time, so a crash
/// loses at most the row being written (a reader drops a last line without its newline).
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gnas/core/option_spec.h"

namespace gnas::fitness {

/// The scores a table can hold, in its column order.
enum class ScoreKind { kParams, kNaswot, kSynflow };
inline const Choices<ScoreKind> kScoreKinds = {
    {"params", ScoreKind::kParams}, {"naswot", ScoreKind::kNaswot}, {"synflow", ScoreKind::kSynflow}};

/// What a table's scores depend on: the second header line, as key=value pairs in this order.
struct ScoreSetup {
  std::string space = "nb201";
  int64_t channels = 16, cells = 5;
  int blocks = 5;
  int batch = 128;
  std::uint64_t seed = 1;
  std::string data = "synthetic10";  ///< the data set whose training images NASWOT sees
  int64_t train_images = 0;          ///< the size of its training split (NASWOT's batch is drawn from it)
  std::string header_line() const;   ///< "# space=... data=..."
  /// The first key whose value differs from `other`'s, as "key=mine (the other: theirs)"; "" if none.
  std::string difference(const ScoreSetup& other) const;
};

struct ScoreRow {
  std::string arch;
  double params = std::numeric_limits<double>::quiet_NaN();
  double naswot = std::numeric_limits<double>::quiet_NaN();
  double synflow = std::numeric_limits<double>::quiet_NaN();
  double get(ScoreKind k) const { return k == ScoreKind::kParams ? params : k == ScoreKind::kNaswot ? naswot : synflow; }
};

struct ScoreTable {
  std::string path;
  ScoreSetup setup;
  std::vector<ScoreRow> rows;
  std::size_t valid_bytes = 0;  ///< the file's length up to its last complete row (appends start here)
};

/// The first line of every score table.
inline constexpr const char* kScoreTableMagic = "# gnas score table v1";
/// The header (three lines, each ending in a newline) of a table of `setup`.
std::string score_table_header(const ScoreSetup& setup);
/// One row as written: the arch, then params, naswot, synflow with up to 17 significant digits.
std::string score_row_line(const ScoreRow& row);

/// Reads a score table. Throws DataError "PATH:LINE: problem" for a missing file, a wrong magic or
/// column line, a malformed setup line, a row of the wrong field count, a number that is not one
/// (strictly: a whole field, decimal, or nan / inf / -inf), a negative parameter count, a NASWOT
/// of +inf (a singular kernel is -inf; synflow may be -inf, a cell with no path through it, or
/// +inf, an overflow), or a duplicate arch. A last
/// line without its newline (a crash mid-write) is dropped, not an error.
ScoreTable read_score_table(const std::string& path);

/// "naswot" | "synflow" | "params", or several of them joined by '+' (a combined score): the
/// kinds, in the order given. Throws ConfigError naming `option` for an unknown or repeated name.
std::vector<ScoreKind> parse_score_list(const std::string& text, const std::string& option);

/// The fitness of each row under `kinds`: one kind is its score itself (larger is better; -inf
/// sorts last); several are combined by rank as AZ-NAS does, the sum over kinds of
/// log(rank / n), where rank is the row's mean rank (1 = the lowest score, n = the highest)
/// among all rows of the table. Throws DataError naming the table when a kind is not computed
/// (nan) in some row.
std::vector<double> combined_fitness(const ScoreTable& table, const std::vector<ScoreKind>& kinds);

}  // namespace gnas::fitness
