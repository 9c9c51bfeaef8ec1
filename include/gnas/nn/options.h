#pragma once
/// The [net] section of a run's configuration: the network's shape and how it is built.
#include <string>

#include "gnas/core/compat.h"

namespace gnas::nn {

struct NetOptions {
  std::string space = "paper";  ///< --space: paper | nb201 (search::make_space)
  int channels = 8;        ///< C: channels of stage 1 (paper search: 20, retrain: 48)
  int cells = 1;           ///< N_cell (paper search: 2, retrain: 4)
  int blocks = 5;          ///< N_b blocks per cell
  double dropout = 0.2;    ///< dropout before the classifier
  double drop_path_keep = 0.9;  ///< retrain only: per-sample drop-path keep probability
  int drop_path_from = 0;       ///< retrain only: first epoch (0-based) with drop-path on
  NetCompat compat = NetCompat::kPaper;  ///< paper | reference (docs/fidelity.md)
  bool share_slots = true;      ///< slots A and B of a block share weights per (input, op)
};

}  // namespace gnas::nn
