#pragma once
/// The [net] section of a run's configuration: the network's shape and how it is built.
#include <cstdint>
#include <string>

#include "gnas/core/compat.h"
#include "gnas/core/option_check.h"

namespace gnas::nn {

/// The network's shape and how it is built: the defaults here are the CLI's, and validate() holds
/// the bounds that the CLI, a checkpoint and a model file all check (one place per fact).
struct NetOptions {
  std::string space = "paper";  ///< --space: paper | nb201 (space::make_space)
  int64_t channels = 8;    ///< C: channels of stage 1 (paper search: 20, retrain: 48)
  int64_t cells = 1;       ///< N_cell (paper search: 2, retrain: 4; nb201: N)
  int blocks = 5;          ///< N_b blocks per cell (paper space)
  double dropout = 0.2;    ///< dropout before the classifier
  double drop_path_keep = 0.9;  ///< retrain only: per-sample drop-path keep probability
  int drop_path_from = 0;       ///< retrain only: first epoch (0-based) with drop-path on
  NetCompat compat = NetCompat::kPaper;  ///< paper | reference (docs/fidelity.md)
  bool share_slots = true;      ///< slots A and B of a block share weights per (input, op)

  /// Throws ConfigError naming the first option out of its bounds, as the command line spells it
  /// ("--net.channels must be in [1, 4096], got 0").
  void validate() const {
    const auto need = [](bool ok, const char* flag, const char* rule, const auto& got) {
      check_option(ok, flag, rule, got);
    };
    need(space == "paper" || space == "nb201", "space", "paper or nb201", "'" + space + "'");
    need(channels >= 1 && channels <= 4096, "net.channels", "in [1, 4096]", channels);
    need(cells >= 1 && cells <= 64, "net.cells", "in [1, 64]", cells);
    need(blocks >= 1 && blocks <= 16, "net.blocks", "in [1, 16]", blocks);
    need(dropout >= 0 && dropout < 1, "net.dropout", "in [0, 1)", dropout);
    need(drop_path_keep > 0 && drop_path_keep <= 1, "net.drop_path_keep", "in (0, 1]", drop_path_keep);
    need(drop_path_from >= 0, "net.drop_path_from", ">= 0", drop_path_from);
  }
};

}  // namespace gnas::nn
