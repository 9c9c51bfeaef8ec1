#pragma once
/// Reading the INI text gnas writes (config.ini): `[section]` headers and `key = value` lines.
#include <map>
#include <string>
#include <vector>

namespace gnas::io {

/// "section.key" (or "key" before any section) -> value, for INI text. Comments (#, ;) and blank
/// lines are skipped; surrounding spaces are trimmed. A renamed key is read under its current name
/// (io::current_key: an old run's "[ga] n_v" is "search.n_v").
std::map<std::string, std::string> parse_ini(const std::string& text);

struct IniChange {
  std::string key;       ///< "section.key"
  std::string before;    ///< "" when the key was absent
  std::string after;     ///< "" when the key is absent now
};
/// The keys whose values differ between two INI texts, in key order.
std::vector<IniChange> diff_ini(const std::string& before, const std::string& after);

}  // namespace gnas::io
