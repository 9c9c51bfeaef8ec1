#pragma once
/// The NAS-Bench-201 networks (Dong & Yang, ICLR 2020), space "nb201": stem (3x3 conv to C, BN),
/// N cells at C, a residual reduction block, N cells at 2C, another, N cells at 4C, then BN, ReLU,
/// global average pool and a linear classifier. The benchmark trained C = 16, N = 5.
/// Cell: nodes 0..3, node j = sum over i < j of op_ij(node i); ops none (x * 0, which keeps the
/// graph connected), skip_connect, nor_conv_1x1 and nor_conv_3x3 (ReLU, conv, BN), avg_pool_3x3
/// (stride 1, padding 1, not counting the padding).
/// BN: as in the benchmark, the supernet's cell ops have non-affine BN (its search networks); the
/// fixed network has affine BN everywhere (the networks the table trained). Stem, reduction blocks
/// and head have affine BN in both forms.
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <vector>

#include "gnas/nn/layers.h"
#include "gnas/nn/supernet.h"

namespace gnas::nn {

/// ReLU -> k x k conv (no bias) -> BN.
class ReluConvBnImpl : public torch::nn::Module {
 public:
  ReluConvBnImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, bool affine);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  BatchNorm bn_{nullptr};
};
TORCH_MODULE(ReluConvBn);

/// The benchmark's reduction block: ReLU-conv3x3(stride 2)-BN, ReLU-conv3x3-BN, plus the shortcut
/// 2x2 average pool -> 1x1 conv.
class ResidualReductionImpl : public torch::nn::Module {
 public:
  ResidualReductionImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ReluConvBn conv_a_{nullptr}, conv_b_{nullptr};
  torch::nn::Conv2d shortcut_{nullptr};
};
TORCH_MODULE(ResidualReduction);

/// One cell. Supernet: both convolutions of every edge; fixed: the convolutions of its genome.
class Nb201CellImpl : public torch::nn::Module {
 public:
  Nb201CellImpl(int64_t channels, const Genome* fixed);
  torch::Tensor forward(const torch::Tensor& x, const Genome& g, double drop_path_keep, const BatchShard& shard);
  void append_active_parameters(const Genome& g, std::vector<torch::Tensor>& out) const;

 private:
  /// The conv module of (edge, op) for op in {nor_conv_1x1, nor_conv_3x3}; null when not built.
  ReluConvBn& conv(int edge, int op);
  const ReluConvBn& conv(int edge, int op) const;
  std::vector<ReluConvBn> convs_;  // [edge * 2 + (op == nor_conv_3x3)]
};
TORCH_MODULE(Nb201Cell);

class Nb201NetworkImpl : public SupernetImpl {
 public:
  explicit Nb201NetworkImpl(NetworkOptions options);
  void set_genome(const Genome& g) override;
  const Genome& genome() const override { return genome_; }
  torch::Tensor forward(const torch::Tensor& x) override;
  std::vector<torch::Tensor> active_parameters() const override;
  void set_drop_path_keep(double keep) override { drop_path_keep_ = keep; }
  void set_batch_shard(int64_t global, int64_t begin) override { shard_ = {global, begin}; }
  const space::Space& space() const override { return *space_; }
  const NetworkOptions& options() const override { return options_; }

 private:
  NetworkOptions options_;
  std::unique_ptr<space::Space> space_;
  Genome genome_;
  double drop_path_keep_ = 1.0;
  BatchShard shard_;
  torch::nn::Conv2d stem_conv_{nullptr};
  BatchNorm stem_bn_{nullptr};
  std::vector<Nb201Cell> cells_;           // all stages' cells in order
  std::vector<ResidualReduction> reductions_;  // before stages 2 and 3
  BatchNorm last_bn_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Nb201Network);

}  // namespace gnas::nn
