// The NAS-Bench-201 networks (space nb201): the benchmark's sizes, the cell's arithmetic, the
// supernet's active set, and the two BN forms.
#include "gnas/nn/nb201_network.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "gnas/core/error.h"
#include "gnas/ga/operators.h"
#include "gnas/space/nb201.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"

namespace gnas::nn {
namespace {

namespace nb = space::nb201;

/// The table the project ships (tests run in the source root).
const nb::Table& table() {
  static const nb::Table t = nb::load_table("data/nasbench201/nasbench201_cifar10.csv");
  return t;
}

NetworkOptions nb201(int64_t channels, int64_t cells, std::optional<Genome> fixed = std::nullopt) {
  NetworkOptions o;
  o.space = "nb201";
  o.channels = channels;
  o.cells = cells;
  o.num_classes = 10;
  o.fixed = std::move(fixed);
  return o;
}

int64_t count_parameters(const Supernet& net) {
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  return n;
}

/// Acceptance: each fixed network at C = 16, N = 5, 10 classes has the table's params_m, for the
/// all-none cell, the all-skip cell, the optimum (index 6111) and 40 cells drawn by a fixed seed.
/// The counts are integers and the table gives 6 significant digits of millions, so they must agree
/// to that precision; the tolerance (0.5%) is checked as well.
TEST(Nb201NetworkTest, ParameterCountsMatchTheTable) {
  const auto& t = table();
  std::vector<int> codes = {nb::encode(Genome(6, nb::kNone)), nb::encode(Genome(6, nb::kSkip)), t.best_code};
  EXPECT_EQ(t.index[std::size_t(t.best_code)], 6111);
  EXPECT_EQ(t.index[std::size_t(codes[1])], 1835);  // the all-skip cell, per the table's README
  Rng rng(2020);
  for (int i = 0; i < 40; ++i) codes.push_back(int(rng.uniform_int(nb::kCells)));
  std::set<int> sizes;
  for (int code : codes) {
    const Genome g = nb::decode(code);
    const Supernet net = make_network(nb201(16, 5, g));
    const int64_t n = count_parameters(net);
    const double table_m = t.params_m[std::size_t(code)];
    EXPECT_LT(std::abs(n / 1e6 - table_m) / table_m, 0.005) << nb::arch_string(g);
    // The table prints 6 significant digits (1.07347 for the optimum's 1,073,466): equal to within
    // half a unit of its last digit.
    const double half_unit = 0.5 * std::pow(10.0, std::floor(std::log10(table_m)) - 5);
    EXPECT_LE(std::abs(n / 1e6 - table_m), half_unit * (1 + 1e-9))
        << nb::arch_string(g) << " (index " << t.index[std::size_t(code)] << "): " << n << " parameters";
    sizes.insert(int(n));
  }
  EXPECT_EQ(count_parameters(make_network(nb201(16, 5, Genome(6, nb::kNone)))), 73306);  // stem, blocks and head only
  EXPECT_GE(sizes.size(), 8u);  // the drawn cells are of many sizes, not one
}

/// The cell computes node j = sum over i < j of op_ij(node i); none is zero, skip the identity,
/// the pool a 3x3 mean that ignores the padding.
TEST(Nb201NetworkTest, CellArithmetic) {
  torch::manual_seed(0);
  Nb201Cell cell(4, nullptr);
  cell->eval();
  const auto x = torch::randn({2, 4, 6, 6});
  auto run = [&](std::vector<int> ops) {
    Genome g(ops.begin(), ops.end());
    return cell->forward(x, g, 1.0, {});
  };
  EXPECT_TRUE(torch::equal(run({0, 0, 0, 1, 0, 0}), x));                  // 0->3 skip only
  EXPECT_TRUE(torch::equal(run({1, 0, 0, 0, 1, 0}), x));                  // 0->1 skip, 1->3 skip
  EXPECT_TRUE(torch::allclose(run({1, 1, 0, 1, 0, 1}), 2 * x));           // 0->3 plus 0->2->3
  EXPECT_TRUE(torch::equal(run({0, 0, 0, 0, 0, 0}), torch::zeros_like(x)));
  const auto pooled = run({0, 0, 0, 4, 0, 0});
  // The corner averages its 4 real pixels, not 9 with 5 zeros.
  const auto corner = x.index({0, 0, torch::indexing::Slice(0, 2), torch::indexing::Slice(0, 2)}).mean();
  EXPECT_NEAR(pooled[0][0][0][0].item<double>(), corner.item<double>(), 1e-6);
  // 1 x 1 conv on an edge: ReLU first, so a negative input gives the BN of a zero conv.
  EXPECT_EQ(run({0, 0, 0, 2, 0, 0}).sizes(), x.sizes());
}

/// The supernet lists exactly the parameters that get a gradient, for every kind of cell
/// (all-none included: x * 0 keeps the stem in the graph, as the benchmark's zero op does).
TEST(Nb201NetworkTest, ActiveSetEqualsGradientSet) {
  Supernet net = make_network(nb201(4, 2));
  Rng r(5);
  const auto genes = nb::gene_space();
  std::vector<Genome> genomes = {Genome(6, nb::kNone), Genome(6, nb::kSkip), Genome(6, nb::kConv3x3)};
  for (int i = 0; i < 60; ++i) genomes.push_back(ga::random_genome(genes, r));
  for (const auto& g : genomes) {
    net->set_genome(g);
    train::clear_grads(net->parameters());
    torch::cross_entropy_loss(net->forward(torch::randn({3, 3, 8, 8})), torch::tensor({1, 2, 3})).backward();
    std::set<const void*> active;
    for (const auto& p : net->active_parameters()) active.insert(p.unsafeGetTensorImpl());
    ASSERT_EQ(active.size(), net->active_parameters().size()) << "a parameter listed twice";
    for (const auto& item : net->named_parameters())
      ASSERT_EQ(item.value().grad().defined(), active.count(item.value().unsafeGetTensorImpl()) == 1)
          << item.key() << " for " << nb::arch_string(g);
  }
}

/// The benchmark's search cells have non-affine BN, the networks it trained affine BN.
TEST(Nb201NetworkTest, SupernetCellBnIsNonAffineFixedIsAffine) {
  const Genome all3x3(6, nb::kConv3x3);
  auto cell_bn_params = [](const Supernet& net) {
    int n = 0;
    for (const auto& item : net->named_parameters())
      n += item.key().rfind("cell", 0) == 0 && item.key().find(".bn.") != std::string::npos;
    return n;
  };
  EXPECT_EQ(cell_bn_params(make_network(nb201(4, 1))), 0);
  EXPECT_EQ(cell_bn_params(make_network(nb201(4, 1, all3x3))), 3 * 6 * 2);  // 3 cells x 6 edges x (weight, bias)
  // The supernet holds both convolutions of every edge: 3 cells x 6 edges x (1x1 + 3x3) at C, 2C, 4C.
  const int64_t c = 4;
  int64_t conv_weights = 0;
  for (int64_t ch : {c, 2 * c, 4 * c}) conv_weights += 6 * (ch * ch + 9 * ch * ch);
  int64_t counted = 0;
  for (const auto& item : make_network(nb201(4, 1))->named_parameters())
    if (item.key().rfind("cell", 0) == 0) counted += item.value().numel();
  EXPECT_EQ(counted, conv_weights);
}

TEST(Nb201NetworkTest, WrongGenomesAreRefused) {
  const Genome ok = nb::decode(1234);
  Supernet fixed = make_network(nb201(4, 1, ok));
  EXPECT_THROW(fixed->set_genome(nb::decode(4321)), gnas::Error);
  Supernet super = make_network(nb201(4, 1));
  EXPECT_THROW(super->set_genome(Genome(60, 0)), ConfigError);  // a genome of the paper's space
  EXPECT_THROW(super->set_genome(Genome(6, 5)), ConfigError);   // op code 5 is outside the table
  EXPECT_THROW(make_network(nb201(4, 1, Genome(60, 0))), ConfigError);
  NetworkOptions unknown = nb201(4, 1);
  unknown.space = "darts";
  EXPECT_THROW(make_network(unknown), ConfigError);
}

}  // namespace
}  // namespace gnas::nn
