#pragma once
/// Which network a genome is built into (docs/fidelity.md): the one the paper's text describes,
/// or the one the authors' code trained. Plain C++, used by space (decoding), nn and the CLI.
#include <string>

#include "gnas/core/option_spec.h"

namespace gnas {

enum class NetCompat : int {
  kPaper = 0,      ///< the paper's text: 16x16 / 8x8 stages, dropout -> linear head, ...
  kReference = 1,  ///< the authors' code: 18x18 / 11x11 stages, dropout -> ReLU -> linear head, ...
};

/// --net.compat's names.
inline const Choices<NetCompat> kNetCompats = {{"paper", NetCompat::kPaper}, {"reference", NetCompat::kReference}};

inline const char* compat_name(NetCompat c) { return choice_name(kNetCompats, c); }

}  // namespace gnas
