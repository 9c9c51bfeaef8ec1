#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/io/config_keys.h"
#include "gnas/ga/operators.h"
#include "gnas/train/checkpoint.h"

namespace gnas::train {
namespace {

TEST(ScheduleTest, StepDividesByTenAtHalfAndThreeQuarters) {
  TrainOptions t;
  t.lr = 0.1;
  t.epochs = 4;
  EXPECT_DOUBLE_EQ(lr_at(t, 0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 1), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 2), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 3), 0.1 * 0.1 * 0.1);
  t.epochs = 310;  // the paper's search: milestones at epochs 155 and 233 (0-based 155 and 233)
  EXPECT_DOUBLE_EQ(lr_at(t, 154), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 155), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 232), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(lr_at(t, 233), 0.1 * 0.1 * 0.1);
  t.epochs = 1;  // a one-epoch run trains at the initial rate
  EXPECT_DOUBLE_EQ(lr_at(t, 0), 0.1);
}

TEST(ScheduleTest, CosineStartsAtLrAndHalvesAtTheMiddle) {
  TrainOptions t;
  t.lr = 0.2;
  t.epochs = 10;
  t.schedule = Schedule::kCosine;
  EXPECT_DOUBLE_EQ(lr_at(t, 0), 0.2);
  EXPECT_NEAR(lr_at(t, 5), 0.1, 1e-12);
  EXPECT_GT(lr_at(t, 9), 0.0);
  EXPECT_LT(lr_at(t, 9), lr_at(t, 8));
}

TEST(SamplingTest, PermutationAndSubsetsAreValidAndSeeded) {
  Rng a(3), b(3);
  const auto p = permutation(1000, a);
  EXPECT_EQ(p, permutation(1000, b));
  EXPECT_EQ(std::set<int64_t>(p.begin(), p.end()).size(), 1000u);
  EXPECT_EQ(*std::min_element(p.begin(), p.end()), 0);
  EXPECT_EQ(*std::max_element(p.begin(), p.end()), 999);
  const auto s = sample_without_replacement(50, 20, a);
  EXPECT_EQ(s.size(), 20u);
  EXPECT_EQ(std::set<int64_t>(s.begin(), s.end()).size(), 20u);
  EXPECT_THROW(sample_without_replacement(5, 6, a), gnas::Error);
}


/// A hand-made sealed model file: `net`'s weights under the given header (shape C, N_cell, N_b,
/// classes; gnas_net = {compat, share_slots}, left out when empty, as in files of older gnas).
void write_model_file(const std::string& path, nn::Supernet& net, std::vector<int64_t> shape,
                      std::vector<int64_t> net_flags) {
  torch::serialize::OutputArchive archive, weights;
  archive.write("gnas_format", torch::tensor({int64_t{2}}));
  archive.write("gnas_shape", torch::tensor(shape));
  if (!net_flags.empty()) archive.write("gnas_net", torch::tensor(net_flags));
  std::vector<int64_t> genes(net->genome().begin(), net->genome().end());
  archive.write("gnas_genome", torch::tensor(genes));
  archive.write("gnas_dataset", torch::zeros({1}, torch::kUInt8));
  net->save(weights);
  archive.write("model", weights);
  std::ofstream(path, std::ios::binary) << seal_archive(archive);
}

void expect_io_error(const std::string& path, const std::string& phrase) {
  EXPECT_THAT([&] { load_model(path, torch::kCPU); }, ::testing::ThrowsMessage<IoError>(::testing::HasSubstr(phrase)))
      << path;
}

/// Model files are sealed: a damaged one, or one whose shape header does not fit its weights,
/// gives an IoError naming the file instead of a libtorch backtrace.
TEST(ModelFileTest, RoundTripAndBadFilesNameTheProblem) {
  torch::manual_seed(0);
  space::SearchSpace space;
  Rng rng(5);
  nn::NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.fixed = ga::random_genome(space::paper_gene_space(space), rng);
  nn::Supernet net = nn::make_network(o);
  const std::string dir = ::testing::TempDir();
  save_model(dir + "model.pt", net, "cifar10");
  LoadedModel m = load_model(dir + "model.pt", torch::kCPU);
  EXPECT_EQ(m.dataset, "cifar10");
  EXPECT_EQ(m.net->genome(), *o.fixed);
  const auto x = torch::randn({2, 3, 32, 32});
  net->eval();
  m.net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), m.net->forward(x)));

  // The same weights under a header that says C=6.
  write_model_file(dir + "lying.pt", net, {6, 1, 5, 10}, {0, 1});
  expect_io_error(dir + "lying.pt", "lying.pt': its weights do not fit the network: ");
  expect_io_error(dir + "lying.pt", "stem_conv.weight is [4, 3, 3, 3] in the file, [6, 3, 3, 3] in the network (header: space paper, C=6 N_cell=1 N_b=5 classes=10)");

  // A header with an impossible compat value.
  write_model_file(dir + "bad_net.pt", net, {4, 1, 5, 10}, {7, 1});
  expect_io_error(dir + "bad_net.pt", "bad_net.pt': impossible network header (gnas_net)");

  // One changed byte anywhere: the checksum says so.
  std::ifstream in(dir + "model.pt", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[bytes.size() / 3] = char(bytes[bytes.size() / 3] ^ 1);
  std::ofstream(dir + "flipped.pt", std::ios::binary) << bytes;
  expect_io_error(dir + "flipped.pt", "flipped.pt: checksum mismatch, the file is damaged");
  expect_io_error(dir + "missing.pt", "no such file");
}

/// The network's compat and slot sharing travel in the model file, so evaluate rebuilds the same
/// network; a file written before they existed (no gnas_net entry) is read as paper, per-slot.
TEST(ModelFileTest, CompatAndSlotSharingRoundTripAndOldFilesStillLoad) {
  torch::manual_seed(0);
  space::SearchSpace space;
  Rng rng(9);
  const std::string dir = ::testing::TempDir();
  const auto x = torch::randn({2, 3, 32, 32});
  for (const auto compat : {NetCompat::kPaper, NetCompat::kReference})
    for (const bool share : {true, false}) {
      nn::NetworkOptions o;
      o.channels = 4;
      o.cells = 1;
      o.compat = compat;
      o.share_slots = share;
      o.fixed = ga::random_genome(space::paper_gene_space(space), rng);
      nn::Supernet net = nn::make_network(o);
      save_model(dir + "flags.pt", net, "cifar10");
      LoadedModel m = load_model(dir + "flags.pt", torch::kCPU);
      EXPECT_EQ(m.net->options().compat, compat);
      EXPECT_EQ(m.net->options().share_slots, share);
      net->eval();
      m.net->eval();
      EXPECT_TRUE(torch::equal(net->forward(x), m.net->forward(x)));
    }
  // An old file: per-slot weights and no gnas_net entry.
  nn::NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.share_slots = false;
  o.fixed = space::parse_text(space, "0 1 3 3 0 2 3 1 2 1 2 4 4 0 1 4 4 1 4 4 | 0 1 1 4 2 2 2 1 0 0 2 1 3 4 4 2 3 1 0 2 | "
                                      "0 0 3 1 1 1 3 1 0 2 3 2 0 0 2 1 1 1 1 3");
  nn::Supernet old_net = nn::make_network(o);
  write_model_file(dir + "old.pt", old_net, {4, 1, 5, 10}, {});
  LoadedModel m = load_model(dir + "old.pt", torch::kCPU);
  EXPECT_EQ(m.net->options().compat, NetCompat::kPaper);
  EXPECT_FALSE(m.net->options().share_slots);
  old_net->eval();
  m.net->eval();
  EXPECT_TRUE(torch::equal(old_net->forward(x), m.net->forward(x)));
}

}  // namespace
}  // namespace gnas::train

namespace gnas::train {
namespace {

/// --resume compares the stored config.ini with the new one: a structural change is refused with the
/// run's own value to give; a key that did not exist when the run was written counts as the value
/// runs had then (net.compat paper, net.share_slots false), so old run directories still resume.
TEST(ResumeConfigTest, StructuralChangesAndKeysOlderRunsLack) {
  const std::string stored = "seed = 1\n[net]\nchannels = 8\n[train]\nlr = 0.1\n";
  EXPECT_EQ(check_resume_config(stored, "seed = 1\n[net]\nchannels = 8\n[train]\nlr = 0.05\n", io::structural_keys()),
            "--train.lr 0.1 -> 0.05");
  EXPECT_THAT([&] { check_resume_config(stored, "seed = 1\n[net]\nchannels = 16\n[train]\nlr = 0.1\n", io::structural_keys()); },
              ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr(
                  "--net.channels 8 -> 16. Resume with the run's own values (give --net.channels 8)")));
  // A run written before net.compat / net.share_slots: paper, one weight set per slot.
  const std::string old_defaults = "seed = 1\n[net]\nchannels = 8\ncompat = paper\nshare_slots = true\n[train]\nlr = 0.1\n";
  EXPECT_THAT([&] { check_resume_config(stored, old_defaults, io::structural_keys()); },
              ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr(
                  "--net.share_slots false -> true. Resume with the run's own values (give --net.share_slots false)")));
  const std::string old_values = "seed = 1\n[net]\nchannels = 8\ncompat = paper\nshare_slots = false\n[train]\nlr = 0.1\n";
  EXPECT_EQ(check_resume_config(stored, old_values, io::structural_keys()), "");
}

}  // namespace
}  // namespace gnas::train
