#pragma once
/// Building blocks of the GeneticNAS network (DESIGN §2): batch norm with a batch-statistics
/// evaluation mode, the depthwise-separable op, downsampling, and squeeze-and-excitation.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <functional>

namespace gnas::nn {

/// ReLU that can hand its input to an observer: libtorch's C++ modules have no forward hooks, so
/// the networks call this for every ReLU, and the training-free scores (fitness/training_free.h)
/// read the inputs through a ReluTap. Unobserved, it costs one thread-local load over torch::relu.
torch::Tensor relu(const torch::Tensor& x);

/// While alive, every nn::relu on this thread passes its input to `observer` first (before the
/// ReLU is applied). Taps do not nest: a second one on the same thread is a logic error.
class ReluTap {
 public:
  explicit ReluTap(std::function<void(const torch::Tensor&)> observer);
  ~ReluTap();
  ReluTap(const ReluTap&) = delete;
  ReluTap& operator=(const ReluTap&) = delete;

 private:
  std::function<void(const torch::Tensor&)> observer_;
};

/// BatchNorm2d whose evaluation mode can use the batch's own statistics without touching the
/// running ones (DESIGN §4, "BatchNorm during candidate evaluation").
/// Training: batch statistics, running statistics updated (momentum 0.1). Eval: running statistics,
/// or batch statistics when batch_stats_in_eval is set. With `bypass` set it is the identity in
/// both modes (synflow scores a network without BN).
class BatchNormImpl : public torch::nn::Module {
 public:
  /// affine = false: no weight and bias (NAS-Bench-201's search cells).
  explicit BatchNormImpl(int64_t channels, bool affine = true);
  torch::Tensor forward(const torch::Tensor& x);  ///< x: [N, C, H, W]
  bool batch_stats_in_eval = false;
  bool bypass = false;
  torch::Tensor weight, bias, running_mean, running_var;  ///< weight, bias: undefined when not affine
};
TORCH_MODULE(BatchNorm);

/// Depthwise-separable k x k op: [ReLU, depthwise k x k, BN, ReLU, pointwise 1x1, BN] twice.
/// Keeps channels and spatial size.
class SepConvImpl : public torch::nn::Module {
 public:
  SepConvImpl(int64_t channels, int64_t kernel);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d dw1_{nullptr}, pw1_{nullptr}, dw2_{nullptr}, pw2_{nullptr};
  BatchNorm bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, bn4_{nullptr};
};
TORCH_MODULE(SepConv);

/// Stage transition for one running tensor: avg-pool 2, 1x1 conv doubling channels, BN.
/// padding 1 (the authors' code) grows each side by one pixel: 16 -> 18, 9 -> 11.
class DownsampleImpl : public torch::nn::Module {
 public:
  explicit DownsampleImpl(int64_t in_channels, int64_t padding = 0);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  BatchNorm bn_{nullptr};
};
TORCH_MODULE(Downsample);

/// Squeeze-and-excitation with reduction ratio `ratio` (hidden = max(1, C / ratio)).
class SqueezeExciteImpl : public torch::nn::Module {
 public:
  SqueezeExciteImpl(int64_t channels, int64_t ratio);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(SqueezeExcite);

/// Which rows of a global batch a tensor holds: rows [begin, begin + N) of `global` (data
/// parallelism). global = 0: the tensor is the whole batch.
struct BatchShard {
  int64_t global = 0;
  int64_t begin = 0;
};

/// Per-sample drop-path: zeroes whole samples with probability 1 - keep and rescales the rest
/// by 1 / keep. Identity when keep >= 1. The mask is drawn for the whole global batch and the
/// shard's rows are used, so a sample's mask does not depend on how the batch is split.
torch::Tensor drop_path(const torch::Tensor& x, double keep, const BatchShard& shard = {});

/// Dropout of a [N, F] tensor with probability p (identity when p == 0), its mask drawn for the
/// whole global batch like drop_path. On one process it draws and computes exactly as
/// torch::dropout does on the CPU.
torch::Tensor dropout(const torch::Tensor& x, double p, const BatchShard& shard = {});

}  // namespace gnas::nn
