#pragma once
/// The [data] section of a run's configuration.
#include <cstdint>
#include <string>

#include "gnas/core/option_check.h"

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
  void validate() const {
    check_option(val_size >= 0, "data.val_size", ">= 0", val_size);
    check_option(train_limit >= 0, "data.train_limit", ">= 0", train_limit);
    check_option(synthetic_train >= 1, "data.synthetic_train", ">= 1", synthetic_train);
    check_option(synthetic_val >= 1, "data.synthetic_val", ">= 1", synthetic_val);
    check_option(synthetic_test >= 1, "data.synthetic_test", ">= 1", synthetic_test);
    check_option(cutout >= 0 && cutout <= 32, "data.cutout", "in [0, 32]", cutout);
    check_option(eval_batch >= 1, "data.eval_batch", ">= 1", eval_batch);
  }
};

}  // namespace gnas::data
