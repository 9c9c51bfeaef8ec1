// gnas evaluate: the test accuracy of a retrained model file.
#include <torch/torch.h>

#include <iomanip>
#include <iostream>

#include "gnas/core/error.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/entry_points.h"
#include "gnas/core/log.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/step.h"

namespace gnas::train {

int run_evaluate(const EvaluateRequest& a) {
  apply_threads(a.threads);
  const torch::Device device = select_device(a.device);
  LoadedModel model = load_model(a.model, device);
  nn::Supernet& net = model.net;
  data::DataOptions d;
  d.dir = a.data;
  d.val_size = 0;  // evaluate reads only the test split
  if (a.data.empty() && model.synthetic_test) {  // the synthetic test split the run was scored on
    d.synthetic_test = model.synthetic_test->first;
    d.synthetic_seed = model.synthetic_test->second;
  }
  data::Dataset ds = data::load_dataset(d);
  GNAS_CHECK_AS(ConfigError, ds.name == model.dataset, "--model '", a.model, "' was trained on ", model.dataset,
                " but ", a.data.empty() ? std::string("no --data (the synthetic set)") : "--data '" + a.data + "'",
                " is ", ds.name, "; give the data it was trained on");
  ds.to(device);
  net->set_bn_batch_stats_in_eval(false);
  // The model is evaluated in the precision it was trained in; fp16 needs a CUDA device.
  Precision precision = model.precision;
  if (precision == Precision::kFp16 && !device.is_cuda()) {
    GNAS_LOG(WARN) << "--model '" << a.model << "' was trained in fp16, which needs a CUDA device; evaluating it in "
                   << "fp32 on " << device.str();
    precision = Precision::kFp32;
  }
  const auto autocast = eval_autocast(precision, device);
  double top5 = 0;
  const double top1 = evaluate_accuracy(net, ds.test.images, ds.test.labels, a.batch, &top5);
  std::cout << std::fixed << std::setprecision(2) << "test top-1 " << top1 << "%  top-5 " << top5 << "%  ("
            << ds.test.size() << " images of " << ds.name << ", " << precision_name(precision) << ")\n";
  return kExitOk;
}

}  // namespace gnas::train
