#include "gnas/nn/layers.h"

#include <torch/torch.h>

#include "gnas/core/error.h"

namespace gnas::nn {

namespace F = torch::nn::functional;

namespace {
thread_local const std::function<void(const torch::Tensor&)>* relu_observer = nullptr;
}  // namespace

torch::Tensor relu(const torch::Tensor& x) {
  if (relu_observer) (*relu_observer)(x);
  return torch::relu(x);
}

ReluTap::ReluTap(std::function<void(const torch::Tensor&)> observer) : observer_(std::move(observer)) {
  GNAS_CHECK(relu_observer == nullptr, "ReluTap: a tap is already active on this thread");
  relu_observer = &observer_;
}
ReluTap::~ReluTap() { relu_observer = nullptr; }

BatchNormImpl::BatchNormImpl(int64_t channels, bool affine) {
  if (affine) {
    weight = register_parameter("weight", torch::ones({channels}));
    bias = register_parameter("bias", torch::zeros({channels}));
  }
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
}

torch::Tensor BatchNormImpl::forward(const torch::Tensor& x) {
  constexpr double kMomentum = 0.1, kEps = 1e-5;
  if (bypass) return x;
  if (is_training())
    return torch::batch_norm(x, weight, bias, running_mean, running_var, true, kMomentum, kEps, true);
  if (batch_stats_in_eval)  // batch statistics, running statistics untouched
    return torch::batch_norm(x, weight, bias, torch::Tensor(), torch::Tensor(), true, kMomentum, kEps, true);
  return torch::batch_norm(x, weight, bias, running_mean, running_var, false, kMomentum, kEps, true);
}

namespace {
torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t groups) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).groups(groups).bias(false));
}
}  // namespace

SepConvImpl::SepConvImpl(int64_t c, int64_t k) {
  dw1_ = register_module("dw1", conv(c, c, k, c));
  bn1_ = register_module("bn1", BatchNorm(c));
  pw1_ = register_module("pw1", conv(c, c, 1, 1));
  bn2_ = register_module("bn2", BatchNorm(c));
  dw2_ = register_module("dw2", conv(c, c, k, c));
  bn3_ = register_module("bn3", BatchNorm(c));
  pw2_ = register_module("pw2", conv(c, c, 1, 1));
  bn4_ = register_module("bn4", BatchNorm(c));
}

torch::Tensor SepConvImpl::forward(const torch::Tensor& x) {
  auto y = bn2_(pw1_(nn::relu(bn1_(dw1_(nn::relu(x))))));
  return bn4_(pw2_(nn::relu(bn3_(dw2_(nn::relu(y))))));
}

DownsampleImpl::DownsampleImpl(int64_t in, int64_t padding) {
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, 2 * in, 1).padding(padding).bias(false)));
  bn_ = register_module("bn", BatchNorm(2 * in));
}

torch::Tensor DownsampleImpl::forward(const torch::Tensor& x) {
  return bn_(conv_(torch::avg_pool2d(x, {2, 2})));
}

SqueezeExciteImpl::SqueezeExciteImpl(int64_t c, int64_t ratio) {
  const int64_t hidden = std::max<int64_t>(1, c / ratio);
  fc1_ = register_module("fc1", torch::nn::Linear(c, hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(hidden, c));
}

torch::Tensor SqueezeExciteImpl::forward(const torch::Tensor& x) {
  auto s = torch::sigmoid(fc2_(nn::relu(fc1_(x.mean({2, 3})))));
  return x * s.unsqueeze(-1).unsqueeze(-1);
}

namespace {
/// Rows of a per-sample mask: the global batch's, checked against the shard.
int64_t mask_rows(const torch::Tensor& x, const BatchShard& shard) {
  if (shard.global == 0) return x.size(0);
  GNAS_CHECK(shard.begin >= 0 && shard.begin + x.size(0) <= shard.global, "a batch of ", x.size(0),
             " rows at offset ", shard.begin, " does not fit a global batch of ", shard.global);
  return shard.global;
}
}  // namespace

torch::Tensor drop_path(const torch::Tensor& x, double keep, const BatchShard& shard) {
  if (keep >= 1.0) return x;
  auto mask = torch::empty({mask_rows(x, shard), 1, 1, 1}, x.options()).bernoulli_(keep);
  if (shard.global > 0) mask = mask.narrow(0, shard.begin, x.size(0));
  return x * mask / keep;
}

torch::Tensor dropout(const torch::Tensor& x, double p, const BatchShard& shard) {
  if (p == 0 || x.numel() == 0) return x;
  GNAS_CHECK(x.dim() == 2, "dropout: expected [N, F], got ", x.sizes());
  // torch::dropout on the CPU: a Bernoulli(1 - p) mask, divided by 1 - p, times the input.
  auto noise = torch::empty({mask_rows(x, shard), x.size(1)}, x.options()).bernoulli_(1 - p);
  noise.div_(1 - p);
  if (shard.global > 0) noise = noise.narrow(0, shard.begin, x.size(0));
  return x * noise;
}

}  // namespace gnas::nn
