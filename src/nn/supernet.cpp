// The network factory: one implementation per search space (supernet.h).
#include "gnas/nn/supernet.h"

#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/nn/layers.h"
#include "gnas/nn/nb201_network.h"
#include "gnas/nn/paper_network.h"

namespace gnas::nn {

void SupernetImpl::set_bn_batch_stats_in_eval(bool on) {
  for (auto& m : modules(/*include_self=*/false))
    if (auto* bn = m->as<BatchNormImpl>()) bn->batch_stats_in_eval = on;
}

Supernet make_network(const NetworkOptions& options) {
  const auto space = space::make_space(options.space, options.blocks);  // a ConfigError for an unknown one
  if (options.fixed) space->validate(*options.fixed);
  if (options.space == "nb201") return Supernet(std::make_shared<Nb201NetworkImpl>(options));
  return Supernet(std::make_shared<PaperNetworkImpl>(options));
}

}  // namespace gnas::nn
