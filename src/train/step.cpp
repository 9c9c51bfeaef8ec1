// One training step (see step.h).
#include "gnas/train/step.h"

#include <torch/torch.h>


#include "gnas/core/clock.h"
#include "gnas/core/error.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/host_reads.h"
#include "gnas/train/torch_compat.h"

namespace gnas::train {
namespace {
constexpr double kInitialScale = 65536.0, kGrowth = 2.0, kBackoff = 0.5;
constexpr int64_t kGrowthInterval = 2000;  // torch.cuda.amp.GradScaler's defaults
}  // namespace

void check_precision(Precision p, const torch::Device& device) {
  GNAS_CHECK_AS(ConfigError, !(p == Precision::kFp16 && !device.is_cuda()),
                "--train.precision fp16 needs a CUDA device (fp16 autocast with loss scaling); the device is ",
                device.str(), ". Use --train.precision bf16 on the CPU, or fp32");
}

TrainStep::TrainStep(const TrainOptions& options, torch::optim::SGD& sgd, distributed::DataChannel& channel,
                     const torch::Device& device, double local_fraction)
    : options_(options), sgd_(sgd), reducer_(channel), device_(device), local_fraction_(local_fraction) {
  check_precision(options.precision, device);
  if (options.precision == Precision::kFp16) {
    scale_ = torch::full({1}, kInitialScale, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    growth_ = torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt32).device(device));
  }
}

torch::Tensor TrainStep::input(const torch::Tensor& x, torch::ScalarType param_dtype) const {
  auto out = x.to(param_dtype);
  return options_.channels_last ? out.contiguous(torch::MemoryFormat::ChannelsLast) : out;
}

void TrainStep::mark(StepProfile::Phase phase) {
  if (!profile) return;
  if (device_.is_cuda()) torch::cuda::synchronize();
  const double t = steady_seconds();
  if (phase_start_) profile->seconds[phase] += t - *phase_start_;
  phase_start_ = t;
}

TrainStep::Out TrainStep::run(nn::Supernet& net, const torch::Tensor& x, const torch::Tensor& y,
                              const std::vector<torch::Tensor>& params) {
  phase_start_.reset();
  mark(StepProfile::kForwardBackward);  // starts the clock
  const bool autocast = options_.precision != Precision::kFp32;
  const auto dtype = options_.precision == Precision::kFp16 ? torch::kHalf : torch::kBFloat16;
  torch::Tensor logits, loss;
  {
    compat::AutocastGuard guard(device_.type(), dtype, autocast);
    logits = net->forward(x);
    loss = torch::cross_entropy_loss(logits, y);
  }
  if (scale_.defined())
    (loss.to(torch::kFloat32) * scale_).sum().backward();
  else
    loss.backward();
  mark(StepProfile::kForwardBackward);
  reducer_.average(params, local_fraction_);
  mark(StepProfile::kGradSync);
  if (scale_.defined()) {
    // GradScaler's protocol: unscale in place, note any inf/NaN, step only when there was none, and
    // adapt the scale. The flag is read on the host: the one sync of an fp16 step.
    std::vector<torch::Tensor> grads;
    for (const auto& p : params) grads.push_back(p.grad());
    auto found_inf = torch::zeros({1}, scale_.options());
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, scale_.reciprocal());
    if (options_.grad_clip > 0) clip_grad_norm(params, options_.grad_clip);
    if (read_on_host<float>(found_inf) == 0.f)
      sgd_.step();
    else
      ++skipped_;
    at::_amp_update_scale_(scale_, growth_, found_inf, kGrowth, kBackoff, kGrowthInterval);
  } else {
    if (options_.grad_clip > 0) clip_grad_norm(params, options_.grad_clip);
    sgd_.step();
  }
  clear_grads(params);
  mark(StepProfile::kOptimizer);
  Out out;
  out.loss = loss.detach().to(torch::kFloat64);
  // fp16: a step skipped for an overflow adds nothing (its loss may be infinite in half precision;
  // a true divergence still shows as growing losses and, at the latest, a non-finite epoch loss).
  if (scale_.defined()) out.loss = torch::nan_to_num(out.loss, 0.0, 0.0, 0.0);
  out.correct = logits.detach().argmax(1).eq(y).sum();
  return out;
}

torch::Tensor TrainStep::scaler_state() const {
  if (!scale_.defined()) return {};
  return torch::cat({scale_.to(torch::kCPU, torch::kFloat64), growth_.to(torch::kCPU, torch::kFloat64)});
}

void TrainStep::set_scaler_state(const torch::Tensor& state) {
  if (!scale_.defined() || !state.defined()) return;
  GNAS_CHECK_AS(IoError, state.numel() == 2, "checkpoint: the fp16 loss scaler's state has ", state.numel(),
                " values, not 2");
  scale_.fill_(state[0].item<double>());
  growth_.fill_(static_cast<int64_t>(state[1].item<double>()));
}

void clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().to(torch::kFloat32).norm(2));
  if (norms.empty()) return;
  // On the device: the scale factor is never read on the host, so the step stays sync-free.
  const auto total = torch::stack(norms).norm(2);
  const auto coef = torch::clamp_max(max_norm / (total + 1e-6), 1.0);
  for (const auto& p : params)
    if (p.grad().defined()) p.grad().mul_(coef.to(p.grad().scalar_type()));
}

void to_channels_last(nn::Supernet& net) {
  torch::NoGradGuard no_grad;
  for (auto p : net->parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace gnas::train
