#include "gnas/data/dataset.h"

#include <torch/torch.h>

namespace gnas::data {

void Dataset::to(const torch::Device& device) {
  for (Split* s : {&train, &val, &test}) {
    if (!s->labels.defined()) continue;
    s->images = s->images.to(device);
    s->labels = s->labels.to(device);
  }
}

Dataset load_dataset(const DataOptions& o, bool need_test) {
  if (!o.dir.empty()) return load_cifar(o.dir, o.val_size, o.train_limit, need_test);
  return make_synthetic(o.synthetic_train, o.synthetic_val, o.synthetic_test, o.synthetic_seed);
}

}  // namespace gnas::data
