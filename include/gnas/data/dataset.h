#pragma once
/// In-memory image datasets: uint8 images [N, 3, 32, 32] and int64 labels [N], held on the
/// training device once and batched there.
#include <cstdint>
#include <string>
#include <torch/types.h>
#include <vector>

#include "gnas/data/options.h"

namespace gnas::data {

struct Split {
  torch::Tensor images;  ///< uint8 [N, 3, 32, 32], RGB planes
  torch::Tensor labels;  ///< int64 [N]
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct Dataset {
  std::string name;                      ///< "synthetic10", "cifar10", "cifar100"
  int num_classes = 10;
  std::vector<std::string> class_names;
  Split train, val, test;
  /// Moves every split to `device` (one copy each).
  void to(const torch::Device& device);
};

/// The embedded synthetic 10-class set (see synthetic.cpp): deterministic for `seed`.
Dataset make_synthetic(int n_train, int n_val, int n_test, std::uint64_t seed);

/// Reads a CIFAR-10 or CIFAR-100 binary directory (detected from its files). The last `val_size`
/// training images (after `train_limit`, when > 0) form the validation split. The test file is
/// read (and required) only with `need_test`. Throws DataError.
Dataset load_cifar(const std::string& dir, int val_size, int train_limit, bool need_test = true);

/// The dataset a run asks for: CIFAR when options.dir is set, else the synthetic set.
/// need_test = false skips the CIFAR test file (a search never reads it).
Dataset load_dataset(const DataOptions& options, bool need_test = true);

}  // namespace gnas::data
