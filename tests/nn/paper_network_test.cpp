#include "gnas/nn/paper_network.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>

#include "gnas/core/error.h"
#include "gnas/ga/operators.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"

namespace gnas::nn {
namespace {

using space::SearchSpace;

NetworkOptions tiny(std::optional<Genome> fixed = std::nullopt, bool share_slots = false,
                    NetCompat compat = NetCompat::kPaper) {
  NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.num_classes = 10;
  o.dropout = 0.0;
  o.share_slots = share_slots;
  o.compat = compat;
  o.fixed = std::move(fixed);
  return o;
}

/// The four ways a network can be built: {paper, reference} x {per-slot, shared} weights.
struct Variant {
  NetCompat compat;
  bool share;
};
const Variant kVariants[] = {{NetCompat::kPaper, false}, {NetCompat::kPaper, true},
                             {NetCompat::kReference, false}, {NetCompat::kReference, true}};
std::string describe(const Variant& v) {
  return std::string(compat_name(v.compat)) + (v.share ? ", shared slots" : ", per-slot");
}

// Normal cell: block 0 = sep3(h_n) + sep5(h_{n-1}); block 1 = identity(block 0) + max_pool(h_n);
// blocks 2-4 use only pools/identity on h_n. Reduction cell: only pools and identity.
// Input cell: block 0 = sep5(x) + identity(x); the rest avg-pool.
const char* kGenome =
    "0 1 3 4  2 0 0 1  0 0 1 2  0 0 0 0  0 1 2 1 | "
    "0 1 0 1  0 1 1 2  0 1 0 0  0 1 2 2  0 1 1 1 | "
    "0 0 4 0  0 0 2 2  0 0 2 2  0 0 2 2  0 0 2 2";

/// The parameter-name prefixes a genome activates, computed independently of the network code:
/// per cell, the separable convs named by (block, slot, input, op) and the concat weight slices.
std::set<std::string> expected_genome_params(const SearchSpace& s, const Genome& g, int cells, bool share = false) {
  std::set<std::string> names;
  // Cell order for N_cell = 1: input, reduction, normal, reduction, normal.
  const std::vector<space::CellKind> kinds = {space::CellKind::kInput, space::CellKind::kReduction,
                                               space::CellKind::kNormal, space::CellKind::kReduction,
                                               space::CellKind::kNormal};
  EXPECT_EQ(cells, 1);
  for (std::size_t c = 0; c < kinds.size(); ++c) {
    const auto spec = space::decode_cell(s, g, kinds[c]);
    const std::string cell = "cell" + std::to_string(c) + ".";
    for (int k = 0; k < s.n_blocks; ++k) {
      const auto& b = spec.blocks[k];
      const std::pair<int, int> slots[2] = {{b.in_a, b.op_a}, {b.in_b, b.op_b}};
      for (int slot = 0; slot < 2; ++slot)
        if (slots[slot].second >= 3)
          names.insert(cell + "b" + std::to_string(k) + (share ? "" : slot ? "_b" : "_a") + "_in" +
                       std::to_string(slots[slot].first) + (slots[slot].second == 3 ? "_sep3" : "_sep5") + ".");
    }
    for (int k : spec.concat) names.insert(cell + "concat_w" + std::to_string(k));
  }
  return names;
}

bool is_genome_dependent(const std::string& name) {
  return name.find("concat_w") != std::string::npos || name.find("_sep") != std::string::npos;
}

bool matches(const std::set<std::string>& prefixes, const std::string& name) {
  for (const auto& p : prefixes)
    if (name == p || name.rfind(p, 0) == 0) return true;
  return false;
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_F(NetworkTest, OutputShapesForSeveralGenomes) {
  PaperNetwork net(tiny());
  Rng r(0);
  SearchSpace s;
  for (int i = 0; i < 3; ++i) {
    net->set_genome(ga::random_genome(space::paper_gene_space(s), r));
    EXPECT_EQ(net->forward(torch::randn({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, 10}));
  }
  NetworkOptions o = tiny();
  o.cells = 2;
  o.num_classes = 100;
  PaperNetwork wide(o);
  wide->set_genome(space::parse_text(s, kGenome));
  EXPECT_EQ(wide->forward(torch::randn({3, 3, 32, 32})).sizes(), torch::IntArrayRef({3, 100}));
}

TEST_F(NetworkTest, ExactlyTheActiveParametersGetGradients) {
  SearchSpace s;
  const Genome g = space::parse_text(s, kGenome);
  PaperNetwork net(tiny());
  net->set_genome(g);
  torch::cross_entropy_loss(net->forward(torch::randn({2, 3, 32, 32})), torch::tensor({1, 2})).backward();
  const auto expected = expected_genome_params(s, g, 1);
  int with_grad = 0, genome_params_with_grad = 0;
  std::set<std::string> hit;
  for (const auto& item : net->named_parameters()) {
    const std::string& name = item.key();
    const bool has_grad = item.value().grad().defined();
    if (!is_genome_dependent(name)) {
      EXPECT_TRUE(has_grad) << name << " (always active) has no gradient";
      continue;
    }
    EXPECT_EQ(has_grad, matches(expected, name)) << name;
    with_grad += has_grad;
    if (has_grad) {
      ++genome_params_with_grad;
      for (const auto& p : expected)
        if (name.rfind(p, 0) == 0) hit.insert(p);
    }
  }
  EXPECT_EQ(hit, expected);  // every expected op/slice is really used
  EXPECT_GT(genome_params_with_grad, 0);
  // The active_parameters() list agrees with the gradients.
  std::set<const void*> active;
  for (const auto& p : net->active_parameters()) active.insert(p.unsafeGetTensorImpl());
  for (const auto& p : net->parameters()) EXPECT_EQ(p.grad().defined(), active.count(p.unsafeGetTensorImpl()) == 1);
}

/// Rewrites every in_A/in_B of the `kind` chromosome that reads state `index` to read state 0.
Genome without_input(const SearchSpace& s, Genome g, space::CellKind kind, int index) {
  const int base = static_cast<int>(kind) * s.genes_per_cell();
  for (int k = 0; k < s.n_blocks; ++k)
    for (int slot = 0; slot < 2; ++slot) {
      auto& gene = g[base + k * space::kGenesPerBlock + slot];
      if (gene == index) gene = 0;
    }
  return g;
}

/// The set of parameters with a defined gradient after one forward/backward equals the set that
/// active_parameters() lists (GradSync allreduces exactly that list and refuses a missing
/// gradient), for hundreds of genomes: random ones, and ones whose reduction and/or normal cells
/// never read h_{n-1}; with one and with two cells per stage.
TEST_F(NetworkTest, ActiveSetEqualsGradientSetOverManyGenomes) {
  SearchSpace s;
  Rng r(11);
  int genomes = 0, ignoring_prev = 0, dead_blocks = 0, same_slots = 0;
  for (const auto& v : kVariants)
    for (int cells : {1, 2}) {
      auto opt = tiny(std::nullopt, v.share, v.compat);
      opt.cells = cells;
      PaperNetwork net(opt);
      for (int i = 0; i < 60; ++i) {
        Genome g = ga::random_genome(space::paper_gene_space(s), r);
        if (i % 3 >= 1) g = without_input(s, g, space::CellKind::kReduction, 1);
        if (i % 3 == 2) g = without_input(s, g, space::CellKind::kNormal, 1);
        // Block 0 of the input cell read by no block: dead under kReference (never concatenated).
        if (i % 4 == 0) g = without_input(s, g, space::CellKind::kInput, 1);
        // Both slots of every normal-cell block on the same (input, op): one shared module.
        if (i % 5 == 0)
          for (int k = 0; k < s.n_blocks; ++k) {
            auto* b = &g[s.genes_per_cell() * int(space::CellKind::kNormal) + k * space::kGenesPerBlock];
            b[1] = b[0];
            b[3] = b[2];
            same_slots += b[2] >= 3;
          }
        ignoring_prev += !space::decode_cell(s, g, space::CellKind::kReduction).uses_state(1);
        const auto input_cell = space::decode_cell(s, g, space::CellKind::kInput, v.compat);
        dead_blocks += !input_cell.live[0];
        net->set_genome(g);
        train::clear_grads(net->parameters());
        torch::cross_entropy_loss(net->forward(torch::randn({2, 3, 8, 8})), torch::tensor({1, 2})).backward();
        std::set<const void*> active;
        for (const auto& p : net->active_parameters()) active.insert(p.unsafeGetTensorImpl());
        ASSERT_EQ(active.size(), net->active_parameters().size()) << "a parameter is listed twice (" << describe(v) << ")";
        for (const auto& item : net->named_parameters())
          ASSERT_EQ(item.value().grad().defined(), active.count(item.value().unsafeGetTensorImpl()) == 1)
              << item.key() << " for genome " << space::to_text(s, g) << " (N_cell " << cells << ", " << describe(v)
              << ")";
        ++genomes;
      }
    }
  EXPECT_EQ(genomes, 480);
  EXPECT_GE(ignoring_prev, 320);  // two thirds are forced to ignore h_{n-1}
  EXPECT_GE(dead_blocks, 50);     // a quarter of the reference-compat genomes have a dead input block 0
  EXPECT_GE(same_slots, 100);
}

/// A fixed network holds only parameters that its genome trains: every one gets a gradient, also
/// when the reduction cell ignores h_{n-1} (then the network has no h_{n-1} downsample path).
TEST_F(NetworkTest, FixedNetworkTrainsEveryParameter) {
  SearchSpace s;
  Rng r(12);
  for (const auto& v : kVariants)
    for (int i = 0; i < 12; ++i) {
      Genome g = ga::random_genome(space::paper_gene_space(s), r);
      if (i % 2) g = without_input(s, g, space::CellKind::kReduction, 1);
      if (i % 3 == 0) g = without_input(s, g, space::CellKind::kInput, 1);  // a dead block 0 under kReference
      PaperNetwork fixed(tiny(g, v.share, v.compat));
      torch::cross_entropy_loss(fixed->forward(torch::randn({2, 3, 8, 8})), torch::tensor({1, 2})).backward();
      bool has_prev_path = false;
      for (const auto& item : fixed->named_parameters()) {
        EXPECT_TRUE(item.value().grad().defined()) << item.key() << " of " << space::to_text(s, g) << " ("
                                                   << describe(v) << ")";
        has_prev_path |= item.key().find("_prev.") != std::string::npos;
      }
      EXPECT_EQ(has_prev_path, space::decode_cell(s, g, space::CellKind::kReduction).uses_state(1));
    }
}

TEST_F(NetworkTest, SgdStepLeavesInactiveParametersBitIdentical) {
  SearchSpace s;
  PaperNetwork net(tiny());
  train::TrainOptions t;  // momentum 0.9, nesterov, weight decay 1e-4
  auto sgd = train::make_sgd(net->parameters(), t);
  Rng r(1);
  // Two steps on one genome (builds momentum), then one on another: the first genome's own
  // parameters that the second does not use must not move at all.
  const Genome g1 = space::parse_text(s, kGenome);
  const Genome g2 = ga::random_genome(space::paper_gene_space(s), r);
  auto step = [&](const Genome& g) {
    net->set_genome(g);
    torch::cross_entropy_loss(net->forward(torch::randn({2, 3, 32, 32})), torch::tensor({3, 4})).backward();
    sgd->step();
    train::clear_grads(net->active_parameters());
  };
  step(g1);
  step(g1);
  net->set_genome(g2);
  std::set<const void*> active2;
  for (const auto& p : net->active_parameters()) active2.insert(p.unsafeGetTensorImpl());
  std::map<std::string, torch::Tensor> before;
  for (const auto& item : net->named_parameters()) before[item.key()] = item.value().detach().clone();
  step(g2);
  int unchanged = 0, changed = 0;
  for (const auto& item : net->named_parameters()) {
    const bool same = torch::equal(before[item.key()], item.value().detach());
    if (active2.count(item.value().unsafeGetTensorImpl())) {
      changed += !same;
    } else {
      EXPECT_TRUE(same) << item.key() << " is inactive but changed";
      ++unchanged;
    }
    EXPECT_FALSE(item.value().grad().defined()) << item.key();  // cleared after the step
  }
  EXPECT_GT(unchanged, 100);
  EXPECT_GT(changed, 10);
}

TEST_F(NetworkTest, SameSeedSameGenomesAndLoss) {
  auto run = [] {
    torch::manual_seed(42);
    PaperNetwork net(tiny());
    auto sgd = train::make_sgd(net->parameters(), train::TrainOptions{});
    Rng r(7);
    SearchSpace s;
    ga::GaOptions o;
    std::vector<double> losses;
    std::vector<Genome> genomes;
    auto x = torch::randn({4, 3, 32, 32});
    auto y = torch::tensor({0, 1, 2, 3});
    for (int i = 0; i < 3; ++i) {
      genomes.push_back(ga::sample_for_batch(space::paper_gene_space(s), o, {}, r));
      net->set_genome(genomes.back());
      auto loss = torch::cross_entropy_loss(net->forward(x), y);
      loss.backward();
      sgd->step();
      train::clear_grads(net->active_parameters());
      losses.push_back(loss.item<double>());
    }
    return std::make_pair(genomes, losses);
  };
  const auto a = run(), b = run();
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);  // bit-identical on CPU
}

TEST_F(NetworkTest, BatchStatisticEvaluationLeavesRunningStatisticsAlone) {
  SearchSpace s;
  PaperNetwork net(tiny());
  net->set_genome(space::parse_text(s, kGenome));
  net->set_bn_batch_stats_in_eval(true);
  std::map<std::string, torch::Tensor> before;
  for (const auto& b : net->named_buffers()) before[b.key()] = b.value().clone();
  net->eval();
  torch::NoGradGuard ng;
  auto x = torch::randn({8, 3, 32, 32}) * 3 + 1;
  auto out_batch = net->forward(x);
  for (const auto& b : net->named_buffers()) EXPECT_TRUE(torch::equal(before[b.key()], b.value())) << b.key();
  net->set_bn_batch_stats_in_eval(false);
  auto out_running = net->forward(x);
  EXPECT_FALSE(torch::allclose(out_batch, out_running));  // the two modes really differ
}

TEST_F(NetworkTest, FixedNetworkHoldsOnlyTheGenomesOps) {
  SearchSpace s;
  const Genome g = space::parse_text(s, kGenome);
  PaperNetwork fixed(tiny(g));
  const auto expected = expected_genome_params(s, g, 1);
  std::set<std::string> hit;
  for (const auto& item : fixed->named_parameters()) {
    if (!is_genome_dependent(item.key())) continue;
    EXPECT_TRUE(matches(expected, item.key())) << item.key() << " is not named by the genome";
    for (const auto& p : expected)
      if (item.key().rfind(p, 0) == 0) hit.insert(p);
  }
  EXPECT_EQ(hit, expected);
  EXPECT_EQ(fixed->forward(torch::randn({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, 10}));
  PaperNetwork super(tiny());
  EXPECT_LT(fixed->parameters().size(), super->parameters().size());
  Rng r(3);
  EXPECT_THROW(fixed->set_genome(ga::random_genome(space::paper_gene_space(s), r)), gnas::Error);
}

TEST_F(NetworkTest, DropPathIdentityAtKeepOneAndMeanPreserving) {
  auto x = torch::rand({20000, 1, 2, 2}) + 1.0;
  EXPECT_TRUE(torch::equal(drop_path(x, 1.0), x));
  torch::manual_seed(5);
  const double keep = 0.9;
  auto y = drop_path(x, keep);
  // Each sample is either zeroed or scaled by 1/keep.
  auto ratio = (y / x).flatten(1);
  auto kept = ratio.select(1, 0);
  EXPECT_TRUE(torch::allclose(ratio, kept.unsqueeze(1).expand_as(ratio)));
  const double frac_kept = (kept > 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(frac_kept, keep, 0.01);  // sd ~ 0.002 over 20000 samples
  // Mean preserved: E[y] = E[x]; relative sd ~ sqrt((1-keep)/keep/20000) ~ 0.0024; tolerance 1.5%.
  EXPECT_NEAR(y.mean().item<double>() / x.mean().item<double>(), 1.0, 0.015);
}

const char* kPaperCifar10 =
    "0 1 3 3 0 2 3 1 2 1 2 4 4 0 1 4 4 1 4 4 | 0 1 1 4 2 2 2 1 0 0 2 1 3 4 4 2 3 1 0 2 | "
    "0 0 3 1 1 1 3 1 0 2 3 2 0 0 2 1 1 1 1 3";

int64_t count_params(PaperNetwork& net) {
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  return n;
}

/// The paper's CIFAR-10 cell at the paper's retrain size (C=48, N_cell=4): 4,108,486 trainable
/// parameters, the count of the authors' network for the ops the genome uses. No block of this
/// genome has both slots on the same (input, op), so slot sharing does not change it, and the
/// reference's quirks add no parameters.
TEST_F(NetworkTest, PaperCifar10CellHasTheReferenceParameterCount) {
  SearchSpace s;
  const Genome g = space::parse_text(s, kPaperCifar10);
  for (const auto& v : kVariants) {
    NetworkOptions o = tiny(g, v.share, v.compat);
    o.channels = 48;
    o.cells = 4;
    PaperNetwork net(o);
    EXPECT_EQ(count_params(net), 4108486) << describe(v);
  }
}

/// Slot sharing halves the supernet's separable-conv weights: at C=20, N_cell=2 (the paper's
/// search size) 2.78 M parameters shared, 5.42 M per slot. The difference is exactly one set of
/// separable convs (3x3 and 5x5) per (block, input) of every cell, computed here from the op sizes.
TEST_F(NetworkTest, SlotSharingSupernetParameterCounts) {
  NetworkOptions o = tiny();
  o.channels = 20;
  o.cells = 2;
  o.share_slots = true;
  PaperNetwork shared(o);
  o.share_slots = false;
  PaperNetwork per_slot(o);
  const int64_t n_shared = count_params(shared), n_per_slot = count_params(per_slot);
  EXPECT_NEAR(n_shared / 1e6, 2.78, 0.005) << n_shared;
  EXPECT_NEAR(n_per_slot / 1e6, 5.42, 0.005) << n_per_slot;
  // A k x k separable op on C channels: 2 x (depthwise C*k*k + pointwise C*C + 2 BN of 2C).
  auto sep = [](int64_t c, int64_t k) { return 2 * (c * k * k + c * c + 4 * c); };
  int64_t one_slot = 0;
  const int64_t inputs_normal = 2 + 3 + 4 + 5 + 6, inputs_input = 1 + 2 + 3 + 4 + 5;  // per block: block + 2 (or 1)
  for (const auto& [c, inputs, count] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {20, inputs_input, 1}, {20, inputs_normal, 1},  // stage 1: input cell + 1 normal cell
           {40, inputs_normal, 3},                          // stage 2: reduction + 2 normal
           {80, inputs_normal, 3}})                         // stage 3
    one_slot += count * inputs * (sep(c, 3) + sep(c, 5));
  EXPECT_EQ(n_per_slot - n_shared, one_slot);
}

/// Stage resolutions: 32/16/8 in the paper's network, 32/18/11 in the authors' (1x1 downsample
/// convolutions with padding 1 after the 2x2 average pool).
TEST_F(NetworkTest, StageShapesUnderEachCompat) {
  SearchSpace s;
  const Genome g = space::parse_text(s, kPaperCifar10);
  for (const bool fixed : {false, true})
    for (const auto& [compat, sizes] : std::vector<std::pair<NetCompat, std::vector<int64_t>>>{
             {NetCompat::kPaper, {32, 16, 8}}, {NetCompat::kReference, {32, 18, 11}}}) {
      PaperNetwork net(tiny(fixed ? std::optional<Genome>(g) : std::nullopt, true, compat));
      net->set_genome(g);
      const auto stages = net->stage_outputs(torch::randn({2, 3, 32, 32}));
      ASSERT_EQ(stages.size(), 3u);
      for (int i = 0; i < 3; ++i)
        EXPECT_EQ(stages[i].sizes(), torch::IntArrayRef({2, 4 << i, sizes[i], sizes[i]}))
            << compat_name(compat) << " stage " << i + 1;
      EXPECT_EQ(net->forward(torch::randn({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, 10}));
    }
}

/// The reference's head is dropout -> ReLU -> linear; the paper's dropout -> linear. Checked
/// against the classifier's own weights in eval mode (dropout off).
TEST_F(NetworkTest, ReferenceHeadAppliesReluBeforeTheClassifier) {
  SearchSpace s;
  const Genome g = space::parse_text(s, kPaperCifar10);
  for (const auto compat : {NetCompat::kPaper, NetCompat::kReference}) {
    PaperNetwork net(tiny(g, true, compat));
    net->eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({4, 3, 32, 32});
    auto pooled = net->stage_outputs(x).back().mean({2, 3});
    ASSERT_LT(pooled.min().item<float>(), 0.f);  // the ReLU has something to do
    if (compat == NetCompat::kReference) pooled = torch::relu(pooled);
    const auto params = net->named_parameters();
    const auto expected = torch::addmm(params["classifier.bias"], pooled, params["classifier.weight"].t());
    EXPECT_TRUE(torch::allclose(net->forward(x), expected, 1e-5, 1e-5)) << compat_name(compat);
  }
}

/// 3x3 average pooling: the reference counts the zero padding in the border means (a border pixel
/// of a constant image becomes 6/9 of it, a corner 4/9); the paper's divides by the pixels inside.
/// Max-pool and identity are the same under both.
TEST_F(NetworkTest, ReferenceAveragePoolCountsThePadding) {
  const auto x = torch::full({1, 1, 4, 4}, 9.0f);
  const auto paper = parameter_free_op(2, x, NetCompat::kPaper);
  const auto reference = parameter_free_op(2, x, NetCompat::kReference);
  EXPECT_TRUE(torch::equal(paper, x));
  const auto expected = torch::tensor({4.f, 6.f, 6.f, 4.f, 6.f, 9.f, 9.f, 6.f, 6.f, 9.f, 9.f, 6.f, 4.f, 6.f, 6.f, 4.f})
                            .view({1, 1, 4, 4});
  EXPECT_TRUE(torch::allclose(reference, expected, 0, 1e-5)) << reference;
  const auto y = torch::randn({2, 3, 5, 5});
  for (int op : {0, 1})
    EXPECT_TRUE(torch::equal(parameter_free_op(op, y, NetCompat::kPaper), parameter_free_op(op, y, NetCompat::kReference)));
  EXPECT_THROW(parameter_free_op(3, y, NetCompat::kPaper), gnas::Error);
}

/// Initialisation as the authors': kaiming_normal_ (fan-in, gain sqrt(2)) on every 4-D weight, so
/// each has mean 0 and std sqrt(2 / fan_in). Checked on every 4-D weight of 400 values or more:
/// the sample std's relative error is about 1/sqrt(2n) <= 3.5%, the tolerance 15%.
TEST_F(NetworkTest, ConvolutionWeightsAreKaimingNormal) {
  NetworkOptions o = tiny();
  o.channels = 20;
  PaperNetwork net(o);
  int checked = 0;
  for (const auto& item : net->named_parameters()) {
    const auto& p = item.value();
    if (p.dim() != 4 || p.numel() < 400) continue;
    const double fan_in = double(p.size(1) * p.size(2) * p.size(3));
    const double expected = std::sqrt(2.0 / fan_in);
    EXPECT_NEAR(p.std().item<double>() / expected, 1.0, 0.15) << item.key();
    EXPECT_NEAR(p.mean().item<double>() / expected, 0.0, 0.25) << item.key();
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace gnas::nn
