#pragma once
/// The [data] section of a run's configuration.
#include <cstdint>
#include <string>

#include "gnas/core/option_spec.h"

namespace gnas::data {

struct DataOptions {
  std::string dir;               ///< CIFAR directory; empty = embedded synthetic data
  int val_size = 5000;           ///< CIFAR: last val_size training images form the validation split
  int train_limit = 0;           ///< CIFAR: use only the first N training images (0 = all)
  int synthetic_train = 3000;    ///< synthetic split sizes
  int synthetic_val = 500;
  int synthetic_test = 1000;
  std::uint64_t synthetic_seed = 1234;  ///< the synthetic set depends on this seed only
  bool augment = true;           ///< pad-4 crop, flip, cutout on training batches
  int cutout = 16;               ///< cutout hole side (0 = off)
  int eval_batch = 250;          ///< batch size for evaluation passes

  template <class Self, class V>
  static void visit_options(Self& o, V& v) {
    v.option("data.dir", o.dir, "CIFAR-10/100 binary directory; empty: the embedded synthetic data");
    v.option("data.val_size", o.val_size,
             "CIFAR: the last N training images form the validation split. Paper design: 5000", at_least(0));
    v.option("data.train_limit", o.train_limit, "CIFAR: use only the first N training images before the split (0 = all)",
             at_least(0));
    v.option("data.synthetic_train", o.synthetic_train, "synthetic data: training images", at_least(1));
    v.option("data.synthetic_val", o.synthetic_val, "synthetic data: validation images", at_least(1));
    v.option("data.synthetic_test", o.synthetic_test, "synthetic data: test images", at_least(1));
    v.option("data.synthetic_seed", o.synthetic_seed, "synthetic data: generator seed (independent of --seed)");
    v.option("data.augment", o.augment, "pad-4 random crop + horizontal flip + cutout on training batches");
    v.option("data.cutout", o.cutout, "cutout hole side in pixels (0 = off). Paper: 16", in_closed(0, 32));
    v.option("data.eval_batch", o.eval_batch, "batch size of evaluation passes", at_least(1));
  }
};

}  // namespace gnas::data
