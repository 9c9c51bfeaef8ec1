#include "gnas/nn/paper_network.h"

#include <torch/torch.h>

#include "gnas/core/error.h"

namespace gnas::nn {

namespace {
constexpr int kSeRatio = 8;
using space::OpKind;
using space::op_info;

/// Position of `op` among the ops with weights (the separable convolutions), and their number.
int param_op_index(int op) {
  int k = 0;
  for (int o = 0; o < op; ++o) k += op_info(o).has_params;
  return k;
}
int num_param_ops() { return param_op_index(space::kNumOps); }
}  // namespace

CellImpl::CellImpl(int64_t channels, int n_blocks, CellKind kind, const CellSpec* fixed, CellOptions options)
    : channels_(channels), n_blocks_(n_blocks), kind_(kind), options_(options) {
  const int offset = kind == CellKind::kInput ? 1 : 2;
  max_inputs_ = n_blocks + offset - 1;
  seps_.assign(static_cast<std::size_t>(n_blocks) * 2 * max_inputs_ * num_param_ops(), SepConv{nullptr});
  concat_w_.resize(n_blocks);
  auto build = [&](int k, int slot, int in, int op) {
    const auto& info = op_info(op);
    if (!info.has_params) return;
    auto& s = sep(k, slot, in, op);
    if (s) return;  // shared with the other slot
    const std::string slot_name = options_.share_slots ? "" : (slot == 0 ? "_a" : "_b");
    const std::string name = "b" + std::to_string(k) + slot_name + "_in" + std::to_string(in) + "_sep" +
                             std::to_string(info.kernel);
    s = register_module(name, SepConv(channels, info.kernel));
  };
  for (int k = 0; k < n_blocks; ++k) {
    if (fixed) {
      if (!fixed->live[k]) continue;  // its output reaches nothing: not built, never computed
      const auto& b = fixed->blocks[k];
      build(k, 0, b.in_a, b.op_a);
      build(k, 1, b.in_b, b.op_b);
    } else {
      for (int slot = 0; slot < 2; ++slot)
        for (int in = 0; in < k + offset; ++in)
          for (int op = 0; op < space::kNumOps; ++op) build(k, slot, in, op);
    }
  }
  auto wants_concat = [&](int k) {
    return !fixed || std::find(fixed->concat.begin(), fixed->concat.end(), k) != fixed->concat.end();
  };
  for (int k = 0; k < n_blocks; ++k)
    if (wants_concat(k)) {
      auto w = torch::empty({channels, channels, 1, 1});
      torch::nn::init::kaiming_uniform_(w, std::sqrt(5.0));
      concat_w_[k] = register_parameter("concat_w" + std::to_string(k), w);
    }
  bn_ = register_module("bn", BatchNorm(channels));
  se_ = register_module("se", SqueezeExcite(channels, kSeRatio));
}

SepConv& CellImpl::sep(int block, int slot, int input, int op) {
  const int s = options_.share_slots ? 0 : slot;
  return seps_[((static_cast<std::size_t>(block) * 2 + s) * max_inputs_ + input) * num_param_ops() + param_op_index(op)];
}
const SepConv& CellImpl::sep(int block, int slot, int input, int op) const {
  return const_cast<CellImpl*>(this)->sep(block, slot, input, op);
}

torch::Tensor parameter_free_op(int op, const torch::Tensor& x, NetCompat compat) {
  const auto& info = op_info(op);
  const int64_t k = info.kernel, pad = info.kernel / 2;
  switch (info.kind) {
    case OpKind::kIdentity: return x;
    case OpKind::kMaxPool: return torch::max_pool2d(nn::relu(x), {k, k}, {1, 1}, {pad, pad});
    case OpKind::kAvgPool:  // the authors' code counts the zero padding in the border means
      return torch::avg_pool2d(nn::relu(x), {k, k}, {1, 1}, {pad, pad}, false,
                               /*count_include_pad=*/compat == NetCompat::kReference);
    case OpKind::kSepConv: break;
  }
  throw Error(detail::concat("parameter_free_op: op ", info.name, " has weights"));
}

torch::Tensor CellImpl::apply_op(int block, int slot, int input, int op, const torch::Tensor& x) {
  const auto& info = op_info(op);
  if (!info.has_params) return parameter_free_op(op, x, options_.compat);
  auto& s = sep(block, slot, input, op);
  GNAS_CHECK(!s.is_empty(), "Cell: op ", info.name, " of block ", block, " slot ", slot, " input ", input,
             " is not part of this fixed network");
  return s->forward(x);
}

torch::Tensor CellImpl::forward(const torch::Tensor& h, const torch::Tensor& h_prev, const CellSpec& spec,
                                double drop_path_keep, const BatchShard& shard) {
  const bool dp = is_training() && drop_path_keep < 1.0;
  std::vector<torch::Tensor> states;
  states.reserve(spec.num_cell_inputs() + n_blocks_);
  states.push_back(h);
  if (kind_ != CellKind::kInput) states.push_back(h_prev);
  for (int k = 0; k < n_blocks_; ++k) {
    if (!spec.live[k]) {  // read by nothing that reaches the output: skipped (no gradient to give)
      states.emplace_back();
      continue;
    }
    const auto& b = spec.blocks[k];
    auto a = apply_op(k, 0, b.in_a, b.op_a, states[b.in_a]);
    auto c = apply_op(k, 1, b.in_b, b.op_b, states[b.in_b]);
    if (dp) {
      a = drop_path(a, drop_path_keep, shard);
      c = drop_path(c, drop_path_keep, shard);
    }
    states.push_back(a + c);
  }
  std::vector<torch::Tensor> outs, weights;
  for (int k : spec.concat) {
    outs.push_back(states[spec.num_cell_inputs() + k]);
    GNAS_CHECK(concat_w_[k].defined(), "Cell: block ", k, " is not concatenated in this fixed network");
    weights.push_back(concat_w_[k]);
  }
  auto y = nn::relu(outs.size() == 1 ? outs[0] : torch::cat(outs, 1));
  y = torch::conv2d(y, weights.size() == 1 ? weights[0] : torch::cat(weights, 1));
  y = se_(bn_(y));
  return y + h;
}

void CellImpl::append_active_parameters(const CellSpec& spec, std::vector<torch::Tensor>& out) const {
  for (int k = 0; k < n_blocks_; ++k) {
    if (!spec.live[k]) continue;
    const auto& b = spec.blocks[k];
    const std::pair<int, int> slots[2] = {{b.in_a, b.op_a}, {b.in_b, b.op_b}};
    for (int slot = 0; slot < 2; ++slot) {
      if (!op_info(slots[slot].second).has_params) continue;
      // Shared slots with the same (input, op) use one module: list it once.
      if (slot == 1 && options_.share_slots && slots[1] == slots[0]) continue;
      for (const auto& p : sep(k, slot, slots[slot].first, slots[slot].second)->parameters()) out.push_back(p);
    }
  }
  for (int k : spec.concat) out.push_back(concat_w_[k]);
  for (const auto& p : bn_->parameters()) out.push_back(p);
  for (const auto& p : se_->parameters()) out.push_back(p);
}

PaperNetworkImpl::PaperNetworkImpl(NetworkOptions options) : options_(std::move(options)) {
  space_.n_blocks = options_.blocks;
  space_iface_ = space::make_space("paper", options_.blocks);
  const int64_t c = options_.channels;
  GNAS_CHECK(c >= 1 && options_.cells >= 1 && options_.num_classes >= 2, "Network: bad options (channels ", c,
             ", cells ", options_.cells, ", classes ", options_.num_classes, ")");
  if (options_.fixed) space::validate(space_, *options_.fixed);
  stem_conv_ = register_module("stem_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c, 3).padding(1).bias(false)));
  stem_bn_ = register_module("stem_bn", BatchNorm(c));

  std::vector<CellSpec> fixed_specs;
  if (options_.fixed)
    for (int k = 0; k < space::kNumCellKinds; ++k)
      fixed_specs.push_back(
          space::decode_cell(space_, *options_.fixed, static_cast<CellKind>(k), options_.compat));
  const CellOptions cell_options{options_.compat, options_.share_slots};
  auto add_cell = [&](int64_t ch, CellKind kind) {
    const CellSpec* spec = options_.fixed ? &fixed_specs[static_cast<int>(kind)] : nullptr;
    cells_.push_back(register_module("cell" + std::to_string(cells_.size()),
                                     Cell(ch, options_.blocks, kind, spec, cell_options)));
    kinds_.push_back(kind);
  };
  add_cell(c, CellKind::kInput);
  for (int i = 1; i < options_.cells; ++i) add_cell(c, CellKind::kNormal);
  int64_t ch = c;
  // The h_{n-1} path in front of a reduction cell reaches only that cell's input 1: a fixed
  // network whose reduction cell never reads input 1 does not have it.
  const bool needs_prev_path = !options_.fixed || fixed_specs[int(CellKind::kReduction)].uses_state(1);
  const int64_t down_padding = options_.compat == NetCompat::kReference ? 1 : 0;  // 16 -> 18, 9 -> 11
  for (int stage = 1; stage < 3; ++stage) {
    down_h_.push_back(register_module("down" + std::to_string(stage) + "_h", Downsample(ch, down_padding)));
    down_prev_.push_back(needs_prev_path ? register_module("down" + std::to_string(stage) + "_prev",
                                                           Downsample(ch, down_padding))
                                         : Downsample(nullptr));
    ch *= 2;
    add_cell(ch, CellKind::kReduction);
    for (int i = 0; i < options_.cells; ++i) add_cell(ch, CellKind::kNormal);
  }
  classifier_ = register_module("classifier", torch::nn::Linear(ch, options_.num_classes));
  // The authors' initialisation: kaiming_normal_ (fan-in, gain sqrt(2)) on every 4-D weight.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : parameters())
      if (p.dim() == 4) torch::nn::init::kaiming_normal_(p);
  }
  if (options_.fixed) set_genome(*options_.fixed);
}

void PaperNetworkImpl::set_genome(const Genome& g) {
  if (options_.fixed) {
    GNAS_CHECK(g == *options_.fixed, "Network: a fixed network only runs its own genome");
  } else {
    space::validate(space_, g);
  }
  genome_ = g;
  specs_.clear();
  for (int k = 0; k < space::kNumCellKinds; ++k)
    specs_.push_back(space::decode_cell(space_, g, static_cast<CellKind>(k), options_.compat));
}

torch::Tensor PaperNetworkImpl::features(const torch::Tensor& x, std::vector<torch::Tensor>* stages) {
  GNAS_CHECK(!specs_.empty(), "Network: call set_genome before forward");
  torch::Tensor h = stem_bn_(stem_conv_(x));
  torch::Tensor prev = h;
  std::size_t stage = 0;
  for (std::size_t i = 0; i < cells_.size(); ++i) {
    if (kinds_[i] == CellKind::kReduction) {
      if (stages) stages->push_back(h);
      h = down_h_[stage](h);
      // Computed only when the reduction cell reads h_{n-1}: otherwise its parameters would be
      // listed by nothing and receive no gradient (see active_parameters).
      prev = reduction_reads_prev() ? down_prev_[stage](prev) : torch::Tensor();
      ++stage;
    }
    auto out = cells_[i](h, prev, specs_[static_cast<int>(kinds_[i])], drop_path_keep_, shard_);
    prev = h;
    h = out;
  }
  if (stages) stages->push_back(h);
  return h;
}

torch::Tensor PaperNetworkImpl::forward(const torch::Tensor& x) {
  auto pooled = features(x, nullptr).mean({2, 3});
  if (is_training()) pooled = dropout(pooled, options_.dropout, shard_);
  if (options_.compat == NetCompat::kReference) pooled = nn::relu(pooled);  // the authors' head
  return classifier_(pooled);
}

std::vector<torch::Tensor> PaperNetworkImpl::stage_outputs(const torch::Tensor& x) {
  std::vector<torch::Tensor> stages;
  features(x, &stages);
  return stages;
}

bool PaperNetworkImpl::reduction_reads_prev() const {
  return specs_[static_cast<int>(CellKind::kReduction)].uses_state(1);
}

std::vector<torch::Tensor> PaperNetworkImpl::active_parameters() const {
  GNAS_CHECK(!specs_.empty(), "Network: call set_genome first");
  std::vector<torch::Tensor> out;
  for (const auto& p : stem_conv_->parameters()) out.push_back(p);
  for (const auto& p : stem_bn_->parameters()) out.push_back(p);
  for (std::size_t i = 0; i < cells_.size(); ++i)
    cells_[i]->append_active_parameters(specs_[static_cast<int>(kinds_[i])], out);
  for (const auto& d : down_h_)
    for (const auto& p : d->parameters()) out.push_back(p);
  if (reduction_reads_prev())
    for (const auto& d : down_prev_)
      for (const auto& p : d->parameters()) out.push_back(p);
  for (const auto& p : classifier_->parameters()) out.push_back(p);
  return out;
}

}  // namespace gnas::nn
