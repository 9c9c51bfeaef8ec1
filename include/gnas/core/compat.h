#pragma once
/// Which network a genome is built into (docs/fidelity.md): the one the paper's text describes,
/// or the one the authors' code trained. Plain C++, used by search (decoding), nn and the CLI.
#include <string>

namespace gnas {

enum class NetCompat : int {
  kPaper = 0,      ///< the paper's text: 16x16 / 8x8 stages, dropout -> linear head, ...
  kReference = 1,  ///< the authors' code: 18x18 / 11x11 stages, dropout -> ReLU -> linear head, ...
};

inline const char* compat_name(NetCompat c) { return c == NetCompat::kReference ? "reference" : "paper"; }

/// "paper" | "reference"; false for anything else.
inline bool parse_compat(const std::string& text, NetCompat& out) {
  if (text == "paper") out = NetCompat::kPaper;
  else if (text == "reference") out = NetCompat::kReference;
  else return false;
  return true;
}

}  // namespace gnas
