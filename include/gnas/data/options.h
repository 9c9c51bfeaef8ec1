#pragma once
/// The [data] section of a run's configuration.
#include <cstdint>
#include <string>

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
};

}  // namespace gnas::data
