#include "gnas/io/ini.h"

#include <set>
#include <sstream>

#include "gnas/io/config_keys.h"

namespace gnas::io {
namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}
}  // namespace

std::map<std::string, std::string> parse_ini(const std::string& text) {
  std::map<std::string, std::string> out;
  // A UTF-8 byte-order mark before the first line (as --config accepts it) is skipped.
  std::istringstream in(text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? text.substr(3) : text);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq));
    if (key.empty()) continue;  // "= value": no key to file it under (found by tests/fuzz/ini_fuzz.cpp)
    out[current_key(section.empty() ? key : section + "." + key)] = trim(line.substr(eq + 1));
  }
  return out;
}

std::vector<IniChange> diff_ini(const std::string& before, const std::string& after) {
  const auto a = parse_ini(before), b = parse_ini(after);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<IniChange> out;
  for (const auto& k : keys) {
    const auto ia = a.find(k), ib = b.find(k);
    const std::string va = ia == a.end() ? "" : ia->second, vb = ib == b.end() ? "" : ib->second;
    if (va != vb) out.push_back({k, va, vb});
  }
  return out;
}

}  // namespace gnas::io
