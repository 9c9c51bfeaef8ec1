#pragma once
/// One data-parallel training step, shared by the epoch loop and bench: forward and loss under
/// autocast (--train.precision), backward (with loss scaling for fp16), gradient averaging over the
/// data channel, the fp16 overflow check, the optimizer step, and clearing the gradients. It reads
/// nothing on the host in fp32 and bf16 (fp16 reads its overflow flag once per step).
#include <array>
#include <optional>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <vector>

#include "gnas/distributed/grad_reducer.h"
#include "gnas/nn/supernet.h"
#include "gnas/train/options.h"
#include "gnas/train/torch_compat.h"

namespace gnas::train {

/// Seconds per phase of the step, when profiling (bench --profile). Profiling waits for the device
/// at each phase boundary, so it is never on in a real run.
struct StepProfile {
  enum Phase { kData, kGenome, kForwardBackward, kGradSync, kOptimizer, kGa, kPhases };
  static constexpr std::array<const char*, kPhases> kNames = {"data", "genome", "forward_backward", "grad_sync",
                                                              "optimizer", "ga_rounds"};
  std::array<double, kPhases> seconds{};
};

/// Refuses what the device cannot do: fp16 autocast on a CPU device (ConfigError).
void check_precision(Precision p, const torch::Device& device);

class TrainStep {
 public:
  /// `local_fraction` = this rank's share of the global batch (the gradient weights).
  TrainStep(const TrainOptions& options, torch::optim::SGD& sgd, distributed::DataChannel& channel,
            const torch::Device& device, double local_fraction);

  /// The batch as the network takes it: the parameters' dtype, channels-last when asked.
  torch::Tensor input(const torch::Tensor& x, torch::ScalarType param_dtype) const;

  struct Out {
    torch::Tensor loss;     ///< detached scalar, float64, mean over this rank's shard (on the device)
    torch::Tensor correct;  ///< detached scalar, int64: this shard's correct top-1 predictions
  };
  /// One step on this rank's shard (x, y) training `params` (each gets a gradient here).
  Out run(nn::Supernet& net, const torch::Tensor& x, const torch::Tensor& y, const std::vector<torch::Tensor>& params);

  /// fp16 loss scaler: [scale, growth tracker] as a float64 CPU tensor (checkpoints); undefined in
  /// fp32/bf16.
  torch::Tensor scaler_state() const;
  void set_scaler_state(const torch::Tensor& state);
  /// Optimizer steps skipped for an fp16 overflow so far.
  int64_t skipped_steps() const { return skipped_; }

  StepProfile* profile = nullptr;  ///< bench --profile: adds the phases' seconds (waits for the device)

 private:
  void mark(StepProfile::Phase phase);

  TrainOptions options_;
  torch::optim::SGD& sgd_;
  distributed::GradReducer reducer_;
  torch::Device device_;
  double local_fraction_;
  torch::Tensor scale_, growth_;  // fp16 only, on the device
  int64_t skipped_ = 0;
  std::optional<double> phase_start_;
};

/// Autocast for evaluation passes (fitness, test accuracy, evaluate) in `p` for this guard's life.
inline compat::AutocastGuard eval_autocast(Precision p, const torch::Device& device) {
  return compat::AutocastGuard(device.type(), p == Precision::kFp16 ? torch::kHalf : torch::kBFloat16,
                               p != Precision::kFp32);
}

/// Makes 4-D parameters (convolution weights) channels-last, for --train.channels_last.
void to_channels_last(nn::Supernet& net);

/// Scales the gradients of `params` so that their joint L2 norm is at most `max_norm` (as
/// torch.nn.utils.clip_grad_norm_ does, with its 1e-6), without reading anything on the host.
void clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace gnas::train
