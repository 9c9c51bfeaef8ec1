#pragma once
/// The GeneticNAS network (DESIGN §3): stem, three stages of cells, head.
/// As a supernet it holds every op of every block and `set_genome` picks the active path;
/// as a fixed network (retrain) it instantiates only the ops of one genome.
#include <memory>
#include <optional>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <vector>

#include "gnas/nn/layers.h"
#include "gnas/nn/supernet.h"
#include "gnas/space/genome.h"

namespace gnas::nn {

using space::CellKind;
using space::CellSpec;
using space::Genome;

/// A parameter-free op of the table (identity, ReLU -> 3x3 max-pool, ReLU -> 3x3 average pool), stride
/// 1, same size. kReference: the average pool counts the zero padding (count_include_pad).
torch::Tensor parameter_free_op(int op, const torch::Tensor& x, NetCompat compat);

/// How the network is built beyond the genome (docs/fidelity.md).
struct CellOptions {
  NetCompat compat = NetCompat::kPaper;  ///< kReference: avg-pool counts the zero padding
  /// true: slots A and B of a block share one weight set per (input, op), module
  /// "b{k}_in{i}_sep{3|5}" (the authors' code); false: one set per slot, "b{k}_{a|b}_in{i}_sep{3|5}".
  bool share_slots = true;
};

/// One cell: N_b blocks, each OP_A(input[in_A]) + OP_B(input[in_B]); the concatenated block outputs
/// (CellSpec::concat), ReLU, 1x1 conv (one C x C weight slice per block), BN, SE, plus the residual h_n.
/// Separable-conv parameters are kept per (block, input, op), and per slot unless shared.
class CellImpl : public torch::nn::Module {
 public:
  /// `fixed`: build only the ops that spec names (retrain); nullptr: every op (supernet).
  CellImpl(int64_t channels, int n_blocks, CellKind kind, const CellSpec* fixed, CellOptions options);
  /// h: h_n [N, C, H, W]; h_prev: h_{n-1} (ignored by the input cell).
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& h_prev, const CellSpec& spec,
                        double drop_path_keep, const BatchShard& shard = {});
  /// Appends the parameters that a forward pass with `spec` uses.
  void append_active_parameters(const CellSpec& spec, std::vector<torch::Tensor>& out) const;

 private:
  SepConv& sep(int block, int slot, int input, int op);
  const SepConv& sep(int block, int slot, int input, int op) const;
  torch::Tensor apply_op(int block, int slot, int input, int op, const torch::Tensor& x);

  int64_t channels_;
  int n_blocks_;
  CellKind kind_;
  CellOptions options_;
  int max_inputs_;
  std::vector<SepConv> seps_;               // flat [(block*2 + slot)*max_inputs + input]*2 + (op - 3);
                                            // slot is always 0 when the slots share weights
  std::vector<torch::Tensor> concat_w_;     // per block [C, C, 1, 1]; undefined when not built
  BatchNorm bn_{nullptr};
  SqueezeExcite se_{nullptr};
};
TORCH_MODULE(Cell);

/// The paper's network (DESIGN §3), space "paper".
class PaperNetworkImpl : public SupernetImpl {
 public:
  explicit PaperNetworkImpl(NetworkOptions options);
  /// Chooses the active path. Supernet: any valid genome; fixed network: its own genome only.
  void set_genome(const Genome& g) override;
  const Genome& genome() const override { return genome_; }
  torch::Tensor forward(const torch::Tensor& x) override;
  /// The output of each stage's last cell (3 tensors: [N, C, 32, 32], [N, 2C, 16|18, ...], ...).
  std::vector<torch::Tensor> stage_outputs(const torch::Tensor& x);
  void set_drop_path_keep(double keep) override { drop_path_keep_ = keep; }
  void set_batch_shard(int64_t global, int64_t begin) override { shard_ = {global, begin}; }
  std::vector<torch::Tensor> active_parameters() const override;
  const NetworkOptions& options() const override { return options_; }
  const space::Space& space() const override { return *space_iface_; }

 private:
  /// True when the current genome's reduction cell reads h_{n-1} (its input 1).
  bool reduction_reads_prev() const;
  /// The cells' output (before the head); appends each stage's output to `stages` when given.
  torch::Tensor features(const torch::Tensor& x, std::vector<torch::Tensor>* stages);

  NetworkOptions options_;
  space::SearchSpace space_;
  std::unique_ptr<space::Space> space_iface_;
  Genome genome_;
  std::vector<CellSpec> specs_;   // decoded genome, indexed by CellKind
  double drop_path_keep_ = 1.0;
  BatchShard shard_;
  torch::nn::Conv2d stem_conv_{nullptr};
  BatchNorm stem_bn_{nullptr};
  std::vector<Cell> cells_;
  std::vector<CellKind> kinds_;
  std::vector<Downsample> down_h_, down_prev_;  // before stages 2 and 3; down_prev_ null in a fixed
                                                // network whose reduction cell ignores h_{n-1}
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(PaperNetwork);

}  // namespace gnas::nn
