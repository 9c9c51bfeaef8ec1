// The model file's header, checked without libtorch (see model_header.h).
#include "gnas/train/model_header.h"

#include <limits>

#include "gnas/core/error.h"
#include "gnas/space/space.h"

namespace gnas::train {

ModelHeader check_model_header(const ModelHeaderFields& f, const std::string& path) {
  const std::string who = "--model '" + path + "'";
  GNAS_CHECK_AS(IoError, f.format.size() == 1 && f.format[0] == 2 && f.shape.size() == 4, who,
                ": unsupported model format (gnas_format ", f.format.size() == 1 ? std::to_string(f.format[0]) : "?",
                ", expected 2 with a 4-entry gnas_shape)");
  ModelHeader h;
  h.net.compat = NetCompat::kPaper;
  h.net.share_slots = false;  // model files written before net.share_slots had one weight set per slot
  if (f.net) {
    const auto& n = *f.net;
    GNAS_CHECK_AS(IoError, n.size() == 2 && (n[0] == 0 || n[0] == 1) && (n[1] == 0 || n[1] == 1), who,
                  ": impossible network header (gnas_net)");
    h.net.compat = static_cast<NetCompat>(n[0]);
    h.net.share_slots = n[1] != 0;
  }
  if (f.space) h.net.space = *f.space;
  GNAS_CHECK_AS(IoError, h.net.space == "paper" || h.net.space == "nb201", who, ": unknown search space '",
                h.net.space, "' in its header");
  if (f.synthetic_test) {
    const auto& s = *f.synthetic_test;
    GNAS_CHECK_AS(IoError, s.size() == 2 && s[0] >= 1 && s[0] <= 10000000, who,
                  ": impossible synthetic test split in its header");
    h.synthetic_test = std::pair<int, std::uint64_t>{int(s[0]), std::uint64_t(s[1])};
  }
  if (f.precision)
    GNAS_CHECK_AS(IoError, parse_precision(*f.precision, h.precision), who, ": unknown precision '",
                  *f.precision, "' in its header");
  // The bounds of the options the network was made from; checked before narrowing N_b to an int.
  const std::int64_t blocks = f.shape[2];  // an int in NetOptions: guard the narrowing, validate() the bound
  GNAS_CHECK_AS(IoError, blocks >= std::numeric_limits<int>::min() && blocks <= std::numeric_limits<int>::max(), who,
                ": impossible shape header (N_b=", blocks, ")");
  h.net.channels = f.shape[0];
  h.net.cells = f.shape[1];
  h.net.blocks = int(blocks);
  h.num_classes = f.shape[3];
  try {
    h.net.validate();
  } catch (const ConfigError& e) {
    throw IoError(detail::concat(who, ": impossible shape header (", e.what(), ")"));
  }
  GNAS_CHECK_AS(IoError, h.num_classes >= 2 && h.num_classes <= 100000, who, ": impossible shape header (classes=",
                h.num_classes, ")");
  for (std::size_t i = 0; i < f.genes.size(); ++i) {
    GNAS_CHECK_AS(IoError, f.genes[i] >= 0 && f.genes[i] < 256, who, ": gene ", i, " is ", f.genes[i]);
    h.genome.push_back(static_cast<std::uint8_t>(f.genes[i]));
  }
  try {  // a cell of its space, checked before a network is built from it
    space::make_space(h.net.space, h.net.blocks)->validate(h.genome);
  } catch (const ConfigError& e) {
    throw IoError(detail::concat(who, ": its genome is not a cell of the ", h.net.space, " space (", e.what(), ")"));
  }
  return h;
}

}  // namespace gnas::train
