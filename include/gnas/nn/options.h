#pragma once
/// The [net] section of a run's configuration (and --space): the network's shape and how it is built.
#include <cstdint>
#include <string>

#include "gnas/core/compat.h"
#include "gnas/core/option_spec.h"

namespace gnas::nn {

/// The search spaces, as --space names them (space::make_space builds them).
inline const Choices<std::string> kSpaces = {{"paper", "paper"}, {"nb201", "nb201"}};

/// The network's shape and how it is built. visit_options() is the one list of these options: the
/// CLI's flags, INI keys, help and defaults, and the bounds that the CLI, a checkpoint and a model
/// file all check through validate().
struct NetOptions {
  std::string space = "paper";  ///< --space: paper | nb201 (space::make_space)
  int64_t channels = 8;    ///< C: channels of stage 1 (paper search: 20, retrain: 48)
  int64_t cells = 1;       ///< N_cell (paper search: 2, retrain: 4; nb201: N)
  int blocks = 5;          ///< N_b blocks per cell (paper space)
  double dropout = 0.2;    ///< dropout before the classifier
  NetCompat compat = NetCompat::kPaper;  ///< paper | reference (docs/fidelity.md)
  bool share_slots = true;      ///< slots A and B of a block share weights per (input, op)
  double drop_path_keep = 0.9;  ///< fixed network only: per-sample drop-path keep probability
  int drop_path_from = 0;       ///< fixed network only: first epoch (0-based) with drop-path on

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.choice("space", o.space,
             "search space: paper (the GeneticNAS cells) | nb201 (the NAS-Bench-201 cell: 6 edges of 5 ops; "
             "--net.channels and --net.cells are its C and N, the benchmark's 16 and 5; docs/search-quality.md)",
             kSpaces);
    v.option("net.channels", o.channels,
             "C, channels of stage 1 (doubled at each reduction). Paper: 20 search, 48 retrain; NAS-Bench-201: 16",
             in_closed(1, 4096));
    v.option("net.cells", o.cells, "N_cell, cells per stage. Paper: 2 search, 4 retrain; NAS-Bench-201: 5",
             in_closed(1, 64));
    v.option("net.blocks", o.blocks, "N_b, blocks per cell. Paper: 5 (paper space only)", in_closed(1, 16));
    v.option("net.dropout", o.dropout, "dropout before the classifier. Paper: 0.2 (paper space only)",
             in_closed_open(0, 1));
    v.choice("net.compat", o.compat,
             "paper (the network of the paper's text) | reference (the network the authors' code trained: 18x18 "
             "and 11x11 stages, a ReLU before the classifier, ...; docs/fidelity.md)",
             kNetCompats);
    v.option("net.share_slots", o.share_slots,
             "slots A and B of a block share one weight set per (input, op), as the authors' code does; false: one "
             "set per slot (about twice the supernet's separable-conv weights)");
    if (v.includes(OptionUse::kFixedNetwork)) {
      v.option("net.drop_path_keep", o.drop_path_keep, "per-sample drop-path keep probability. Paper: 0.9",
               in_open_closed(0, 1));
      v.option("net.drop_path_from", o.drop_path_from, "first epoch (0-based) with drop-path on", at_least(0));
    }
  }

  /// Throws ConfigError naming the first option out of its bounds, as the command line spells it
  /// ("--net.channels must be in [1, 4096], got 0").
  void validate() const {
    check_bounds(*this);
    parse_choice(kSpaces, "space", space);  // a checkpoint's or model file's space, never parsed by the CLI
  }
};

}  // namespace gnas::nn
