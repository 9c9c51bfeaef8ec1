#include "gnas/nn/nb201_network.h"

#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/space/nb201.h"

namespace gnas::nn {

namespace nb = space::nb201;

ReluConvBnImpl::ReluConvBnImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, bool affine) {
  conv_ = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false)));
  bn_ = register_module("bn", BatchNorm(out, affine));
}

torch::Tensor ReluConvBnImpl::forward(const torch::Tensor& x) { return bn_(conv_(nn::relu(x))); }

ResidualReductionImpl::ResidualReductionImpl(int64_t in, int64_t out) {
  conv_a_ = register_module("conv_a", ReluConvBn(in, out, 3, 2, true));
  conv_b_ = register_module("conv_b", ReluConvBn(out, out, 3, 1, true));
  shortcut_ = register_module("shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(false)));
}

torch::Tensor ResidualReductionImpl::forward(const torch::Tensor& x) {
  return shortcut_(torch::avg_pool2d(x, {2, 2}, {2, 2})) + conv_b_(conv_a_(x));
}

Nb201CellImpl::Nb201CellImpl(int64_t channels, const Genome* fixed) {
  convs_.assign(std::size_t(nb::kEdges) * 2, ReluConvBn{nullptr});
  for (int e = 0; e < nb::kEdges; ++e)
    for (int op : {nb::kConv1x1, nb::kConv3x3}) {
      if (fixed && (*fixed)[std::size_t(e)] != op) continue;
      const int64_t k = op == nb::kConv1x1 ? 1 : 3;
      // The benchmark's search cells have non-affine BN; the networks its table trained, affine.
      conv(e, op) = register_module("e" + std::to_string(e) + "_conv" + std::to_string(k),
                                    ReluConvBn(channels, channels, k, 1, /*affine=*/fixed != nullptr));
    }
}

ReluConvBn& Nb201CellImpl::conv(int edge, int op) {
  return convs_[std::size_t(edge) * 2 + (op == nb::kConv3x3 ? 1 : 0)];
}
const ReluConvBn& Nb201CellImpl::conv(int edge, int op) const { return const_cast<Nb201CellImpl*>(this)->conv(edge, op); }

torch::Tensor Nb201CellImpl::forward(const torch::Tensor& x, const Genome& g, double drop_path_keep,
                                     const BatchShard& shard) {
  std::vector<torch::Tensor> nodes{x};
  int edge = 0;
  for (int node = 1; node < nb::kNodes; ++node) {
    torch::Tensor sum;
    for (int from = 0; from < node; ++from, ++edge) {
      const int op = g[std::size_t(edge)];
      const auto& in = nodes[std::size_t(from)];
      torch::Tensor out;
      switch (op) {
        case nb::kNone: out = in.mul(0.0); break;  // zero, with the graph kept: upstream weights get a gradient
        case nb::kSkip: out = in; break;
        case nb::kConv1x1:
        case nb::kConv3x3: out = conv(edge, op)->forward(in); break;
        case nb::kAvgPool: out = torch::avg_pool2d(in, {3, 3}, {1, 1}, {1, 1}, false, /*count_include_pad=*/false); break;
        default: GNAS_CHECK(false, "nb201 cell: op ", op, " outside the table");
      }
      if (is_training() && drop_path_keep < 1.0 && op != nb::kNone) out = drop_path(out, drop_path_keep, shard);
      sum = sum.defined() ? sum + out : out;
    }
    nodes.push_back(sum);
  }
  return nodes.back();
}

void Nb201CellImpl::append_active_parameters(const Genome& g, std::vector<torch::Tensor>& out) const {
  for (int e = 0; e < nb::kEdges; ++e) {
    const int op = g[std::size_t(e)];
    if (op == nb::kConv1x1 || op == nb::kConv3x3)
      for (const auto& p : conv(e, op)->parameters()) out.push_back(p);
  }
}

Nb201NetworkImpl::Nb201NetworkImpl(NetworkOptions options)
    : options_(std::move(options)), space_(space::make_space("nb201", 0)) {
  const int64_t c = options_.channels;
  GNAS_CHECK(c >= 1 && options_.cells >= 1 && options_.num_classes >= 2, "Nb201Network: bad options (channels ", c,
             ", cells ", options_.cells, ", classes ", options_.num_classes, ")");
  if (options_.fixed) space_->validate(*options_.fixed);
  const Genome* fixed = options_.fixed ? &*options_.fixed : nullptr;
  stem_conv_ = register_module("stem_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c, 3).padding(1).bias(false)));
  stem_bn_ = register_module("stem_bn", BatchNorm(c));
  int64_t ch = c;
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      reductions_.push_back(register_module("reduction" + std::to_string(stage), ResidualReduction(ch, 2 * ch)));
      ch *= 2;
    }
    for (int64_t i = 0; i < options_.cells; ++i)
      cells_.push_back(register_module("cell" + std::to_string(cells_.size()), Nb201Cell(ch, fixed)));
  }
  last_bn_ = register_module("last_bn", BatchNorm(ch));
  classifier_ = register_module("classifier", torch::nn::Linear(ch, options_.num_classes));
  if (fixed) set_genome(*fixed);
}

void Nb201NetworkImpl::set_genome(const Genome& g) {
  if (options_.fixed)
    GNAS_CHECK(g == *options_.fixed, "Nb201Network: a fixed network only runs its own genome");
  else
    space_->validate(g);
  genome_ = g;
}

torch::Tensor Nb201NetworkImpl::forward(const torch::Tensor& x) {
  GNAS_CHECK(!genome_.empty(), "Nb201Network: call set_genome before forward");
  torch::Tensor h = stem_bn_(stem_conv_(x));
  const auto per_stage = std::size_t(options_.cells);
  for (std::size_t i = 0; i < cells_.size(); ++i) {
    if (i > 0 && i % per_stage == 0) h = reductions_[i / per_stage - 1](h);
    h = cells_[i]->forward(h, genome_, drop_path_keep_, shard_);
  }
  h = nn::relu(last_bn_(h));
  return classifier_(h.mean({2, 3}));
}

std::vector<torch::Tensor> Nb201NetworkImpl::active_parameters() const {
  GNAS_CHECK(!genome_.empty(), "Nb201Network: call set_genome first");
  std::vector<torch::Tensor> out;
  for (const auto& p : stem_conv_->parameters()) out.push_back(p);
  for (const auto& p : stem_bn_->parameters()) out.push_back(p);
  const auto per_stage = std::size_t(options_.cells);
  for (std::size_t i = 0; i < cells_.size(); ++i) {
    if (i > 0 && i % per_stage == 0)
      for (const auto& p : reductions_[i / per_stage - 1]->parameters()) out.push_back(p);
    cells_[i]->append_active_parameters(genome_, out);
  }
  for (const auto& p : last_bn_->parameters()) out.push_back(p);
  for (const auto& p : classifier_->parameters()) out.push_back(p);
  return out;
}

}  // namespace gnas::nn
