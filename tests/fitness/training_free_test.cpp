// The training-free scores pinned to their definitions (fitness/training_free.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "gnas/fitness/training_free.h"
#include "gnas/ga/operators.h"
#include "gnas/nn/layers.h"
#include "gnas/space/nb201.h"

namespace {

using gnas::fitness::log_abs_det;
namespace nb = gnas::space::nb201;

gnas::nn::NetworkOptions tiny_nb201(int64_t channels = 2) {
  gnas::nn::NetOptions net;
  net.space = "nb201";
  net.channels = channels;
  net.cells = 1;
  return gnas::nn::NetworkOptions(net, 10);
}

gnas::space::Genome cell(const std::string& arch) {
  gnas::space::Genome g;
  EXPECT_EQ(nb::parse_arch(arch, g), "");
  return g;
}

const char* const kAllConv3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const char* const kMixed = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";
// Node 0 feeds three convolutions: one input reaches three ReLUs.
const char* const kShared = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|";

// K computed here from the definition: every ReLU input x, its codes c = (x > 0) per image,
// K += c c^T + (1 - c)(1 - c)^T, as float64 matrix products.
TEST(NaswotTest, KernelEqualsTheDefinitionOverEveryReluInput) {
  torch::manual_seed(3);
  auto options = tiny_nb201();
  options.fixed = cell(kShared);
  auto net = gnas::nn::make_network(options);
  const torch::Tensor images = torch::randn({6, 3, 32, 32});
  torch::Tensor expected = torch::zeros({6, 6}, torch::kFloat64);
  int relus = 0;
  {
    gnas::nn::ReluTap tap([&](const torch::Tensor& x) {
      const torch::Tensor c = (x.reshape({x.size(0), -1}) > 0).to(torch::kFloat64);
      expected += c.matmul(c.t()) + (1 - c).matmul((1 - c).t());
      ++relus;
    });
    // The layout naswot_kernel runs in (channels-last): the same convolution kernels, the same codes.
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
    net->train();
    net->forward(images.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  // Four convolutions in the cell (each: ReLU, conv, BN) x 3 stages, two ReLUs in each of the two
  // reduction blocks, and the ReLU before the pooling.
  EXPECT_EQ(relus, 4 * 3 + 2 * 2 + 1);
  const torch::Tensor k = gnas::fitness::naswot_kernel(*net, images);
  EXPECT_TRUE(torch::equal(k, expected)) << k << "\n" << expected;
  // The diagonal is the number of units seen (every unit agrees with itself).
  EXPECT_GT(k[0][0].item<double>(), 0);
  EXPECT_EQ(k[0][0].item<double>(), k[5][5].item<double>());
}

TEST(NaswotTest, LogAbsDetOfKnownMatrices) {
  const torch::Tensor d = torch::diag(torch::tensor({2.0, 3.0, 4.0}, torch::kFloat64));
  EXPECT_DOUBLE_EQ(log_abs_det(d), std::log(24.0));
  // A row swap and a negative determinant: |det| counts.
  const torch::Tensor m = torch::tensor({0.0, 1.0, 2.0, 0.0}, torch::kFloat64).reshape({2, 2});
  EXPECT_DOUBLE_EQ(log_abs_det(m), std::log(2.0));
  const torch::Tensor r = torch::rand({7, 7}, torch::kFloat64);
  EXPECT_NEAR(log_abs_det(r), std::log(std::abs(torch::det(r).item<double>())), 1e-9);
  const torch::Tensor singular = torch::tensor({1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 0.0, 1.0, 5.0}, torch::kFloat64).reshape({3, 3});
  EXPECT_EQ(log_abs_det(singular), -std::numeric_limits<double>::infinity());
}

// Two identical images have identical codes everywhere: K has two equal rows and scores -inf, not NaN.
TEST(NaswotTest, SingularKernelScoresMinusInfinity) {
  torch::manual_seed(4);
  auto options = tiny_nb201();
  options.fixed = cell(kAllConv3);
  auto net = gnas::nn::make_network(options);
  torch::Tensor images = torch::randn({4, 3, 32, 32});
  images[3].copy_(images[1]);
  const double s = gnas::fitness::naswot(*net, images);
  EXPECT_TRUE(std::isinf(s) && s < 0) << s;
  EXPECT_TRUE(std::isfinite(gnas::fitness::naswot(*net, torch::randn({4, 3, 32, 32}))));
}

// synflow's conservation law: for a bias-free chain of L linear layers and an all-ones input,
// sum |theta * dR/dtheta| = L * R with R = 1^T |W_L| ... |W_1| 1.
TEST(SynflowTest, BiasFreeLinearChainEqualsItsClosedForm) {
  torch::manual_seed(5);
  torch::nn::Sequential chain(torch::nn::Linear(torch::nn::LinearOptions(4, 5).bias(false)),
                              torch::nn::Linear(torch::nn::LinearOptions(5, 3).bias(false)),
                              torch::nn::Linear(torch::nn::LinearOptions(3, 2).bias(false)));
  torch::Tensor expected = torch::ones({1, 4}, torch::kFloat64);
  for (const auto& p : chain->parameters()) expected = expected.matmul(p.detach().to(torch::kFloat64).abs().t());
  const double r = expected.sum().item<double>();
  const double got = gnas::fitness::log_synflow(
      *chain, [&](const torch::Tensor& x) { return chain->forward(x); }, {1, 4});
  EXPECT_NEAR(got, std::log(3.0 * r), 1e-12);
}

TEST(SynflowTest, NetworkScoreIsFiniteWithBnOffAndNoneEdgesScoreLower) {
  torch::manual_seed(6);
  auto options = tiny_nb201(4);
  options.fixed = cell(kAllConv3);
  auto net = gnas::nn::make_network(options);
  const double s = gnas::fitness::log_synflow(*net);
  EXPECT_TRUE(std::isfinite(s)) << s;
  for (const auto& m : net->modules(false))
    if (auto* bn = dynamic_cast<gnas::nn::BatchNormImpl*>(m.get())) EXPECT_TRUE(bn->bypass);
  // A cell with no path through a convolution ("none" everywhere into node 3 but skip) loses
  // every cell weight's contribution: its score is lower at the same initialisation of the rest.
  const auto opts = tiny_nb201(4);
  const auto full = gnas::fitness::score_cell(opts, cell(kAllConv3), 1, torch::randn({4, 3, 32, 32}));
  const auto skip = gnas::fitness::score_cell(
      opts, cell("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"), 1, torch::randn({4, 3, 32, 32}));
  EXPECT_GT(full.synflow, skip.synflow);
  EXPECT_GT(full.params, skip.params);
}

TEST(ScoreCellTest, DeterministicForACellAndSeedIndependentOfOrder) {
  const auto opts = tiny_nb201();
  torch::manual_seed(7);
  const torch::Tensor images = torch::randn({8, 3, 32, 32});
  const auto a1 = gnas::fitness::score_cell(opts, cell(kMixed), 11, images);
  const auto b = gnas::fitness::score_cell(opts, cell(kAllConv3), 11, images);
  const auto a2 = gnas::fitness::score_cell(opts, cell(kMixed), 11, images);
  EXPECT_EQ(a1.naswot, a2.naswot);
  EXPECT_EQ(a1.synflow, a2.synflow);
  EXPECT_EQ(a1.params, a2.params);
  EXPECT_NE(a1.naswot, b.naswot);
  const auto other_seed = gnas::fitness::score_cell(opts, cell(kMixed), 12, images);
  EXPECT_NE(a1.naswot, other_seed.naswot);
  EXPECT_NE(a1.synflow, other_seed.synflow);
  EXPECT_EQ(a1.params, other_seed.params);
  // Only what is asked is computed.
  const auto only_params = gnas::fitness::score_cell(opts, cell(kMixed), 11, images, {false, false});
  EXPECT_TRUE(std::isnan(only_params.naswot) && std::isnan(only_params.synflow));
  EXPECT_EQ(only_params.params, a1.params);
}

// The paper's space: its ReLUs are tapped too (sep convs, pooling, the cell's output).
TEST(ScoreCellTest, PaperSpaceCellsScore) {
  gnas::nn::NetOptions net;
  net.space = "paper";
  net.channels = 4;
  net.cells = 1;
  const gnas::nn::NetworkOptions opts(net, 10);
  auto space = gnas::space::make_space("paper", 5);
  gnas::Rng rng(8, 0);
  const gnas::space::Genome g = gnas::ga::random_genome(space->genes(), rng);
  torch::manual_seed(8);
  const auto s = gnas::fitness::score_cell(opts, g, 1, torch::randn({8, 3, 32, 32}));
  EXPECT_TRUE(std::isfinite(s.naswot)) << s.naswot;
  EXPECT_TRUE(std::isfinite(s.synflow)) << s.synflow;
  EXPECT_GT(s.params, 0);
}

TEST(ReluTapTest, UnobservedReluIsTorchsAndTapsDoNotNest) {
  const torch::Tensor x = torch::randn({3, 4});
  EXPECT_TRUE(torch::equal(gnas::nn::relu(x), torch::relu(x)));
  int seen = 0;
  {
    gnas::nn::ReluTap tap([&](const torch::Tensor&) { ++seen; });
    gnas::nn::relu(x);
    EXPECT_ANY_THROW(gnas::nn::ReluTap([](const torch::Tensor&) {}));
  }
  gnas::nn::relu(x);
  EXPECT_EQ(seen, 1);
}

}  // namespace
