// Tests run by every rank under mpirun (label mpi). Each rank asserts locally; main() allreduces the
// failure count, so the job fails when any rank failed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "gnas/core/error.h"
#include "gnas/distributed/collectives.h"
#include "gnas/distributed/communicator.h"
#include "gnas/distributed/grad_reducer.h"
#include "gnas/ga/operators.h"
#include "gnas/data/augment.h"
#include "gnas/data/dataset.h"
#include "gnas/nn/layers.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/epoch_loop.h"

namespace gnas::distributed {
namespace {

Communicator* g_comm = nullptr;
Communicator& comm() { return *g_comm; }

TEST(CommunicatorTest, AllreduceAndBroadcastOfEveryDtype) {
  const int r = comm().rank(), n = comm().size();
  auto f = torch::full({3}, float(r + 1));
  comm().allreduce_sum_(f);
  EXPECT_TRUE(torch::equal(f, torch::full({3}, float(n * (n + 1) / 2))));
  auto l = torch::tensor({int64_t(1) << 40, int64_t(r)});
  comm().allreduce_sum_(l);
  EXPECT_EQ(l[0].item<int64_t>(), (int64_t(1) << 40) * n);
  auto d = torch::full({2}, r == 1 ? 2.5 : 0.0, torch::kFloat64);
  comm().broadcast_(d, n > 1 ? 1 : 0);
  EXPECT_EQ(d[0].item<double>(), n > 1 ? 2.5 : 0.0);
  for (auto dtype : {torch::kFloat16, torch::kBFloat16}) {  // summed in float32, broadcast as words
    auto h = torch::full({4}, 0.5 * (r + 1), dtype);
    comm().allreduce_sum_(h);
    EXPECT_TRUE(torch::equal(h, torch::full({4}, 0.25 * n * (n + 1), dtype))) << dtype;
    auto b = torch::full({2}, r == 0 ? 1.5 : 0.0, dtype);
    comm().broadcast_(b, 0);
    EXPECT_TRUE(torch::equal(b, torch::full({2}, 1.5, dtype))) << dtype;
  }
  std::vector<uint8_t> bytes(5, static_cast<uint8_t>(r));
  broadcast_bytes(comm(), bytes, 0);
  EXPECT_EQ(bytes, std::vector<uint8_t>(5, 0));
}

TEST(CollectivesTest, AgreeOnFailureReportsOnceFromTheLowestFailingRank) {
  const int r = comm().rank(), n = comm().size();
  EXPECT_NO_THROW(agree_on_failure(comm(), nullptr));
  // The last rank fails with a ConfigError; it alone reports, with exit code 2.
  std::exception_ptr e;
  if (r == n - 1) e = std::make_exception_ptr(ConfigError("bad --data on the last rank"));
  try {
    agree_on_failure(comm(), e);
    FAIL() << "no exception";
  } catch (const AgreedFailure& f) {
    EXPECT_EQ(r, n - 1);
    EXPECT_EQ(f.exit_code(), 2);
    EXPECT_NE(std::string(f.what()).find("bad --data"), std::string::npos);
  } catch (const PeerFailed&) {
    EXPECT_NE(r, n - 1);
  }
}

/// The NCCL channel's opening (issue 29): rank 0 makes an id, every rank joins with it. A root that
/// fails before the broadcast used to leave the other ranks in MPI_Bcast for ever; now every rank
/// ends (this test would hang, and CTest time it out, otherwise). Runs on the CPU with MPI: the
/// NCCL calls themselves are in the lambdas, which the CUDA build passes.
TEST(CollectivesTest, OpeningWithARootIdEndsEveryRankWhenOneFails) {
  const int r = comm().rank(), n = comm().size();
  // Success: every rank joins with rank 0's bytes.
  std::vector<std::uint8_t> joined;
  const auto id = open_with_root_id(
      comm(), 4, [] { return std::vector<std::uint8_t>{7, 1, 2, 9}; },
      [&](const std::vector<std::uint8_t>& bytes) { joined = bytes; });
  EXPECT_EQ(id, (std::vector<std::uint8_t>{7, 1, 2, 9}));
  EXPECT_EQ(joined, id);
  // The root fails to make the id: nobody joins, rank 0 reports, the others end quietly.
  bool called = false;
  try {
    open_with_root_id(
        comm(), 4, []() -> std::vector<std::uint8_t> { throw CommError("ncclGetUniqueId failed on rank 0"); },
        [&](const std::vector<std::uint8_t>&) { called = true; });
    FAIL() << "no exception on rank " << r;
  } catch (const AgreedFailure& f) {
    EXPECT_EQ(r, 0);
    EXPECT_NE(std::string(f.what()).find("ncclGetUniqueId failed"), std::string::npos);
  } catch (const PeerFailed&) {
    EXPECT_NE(r, 0);
  }
  EXPECT_FALSE(called);
  // An id of the wrong size is the root's failure too, before any rank reads it.
  EXPECT_THROW(open_with_root_id(comm(), 4, [] { return std::vector<std::uint8_t>(3, 0); },
                                 [](const std::vector<std::uint8_t>&) {}),
               Error);
  // The last rank fails to join: it reports, every rank ends.
  try {
    open_with_root_id(comm(), 2, [] { return std::vector<std::uint8_t>{1, 2}; },
                      [&](const std::vector<std::uint8_t>&) {
                        if (r == n - 1) throw CommError("ncclCommInitRank failed on the last rank");
                      });
    FAIL() << "no exception on rank " << r;
  } catch (const AgreedFailure&) {
    EXPECT_EQ(r, n - 1);
  } catch (const PeerFailed&) {
    EXPECT_NE(r, n - 1);
  }
}

/// Builds a deterministic network: same init on every rank and for the reference.
nn::Supernet make_net() {
  torch::manual_seed(123);
  nn::NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.dropout = 0.0;
  nn::Supernet net = nn::make_network(o);
  net->set_bn_batch_stats_in_eval(false);
  net->eval();  // BN uses running statistics: every sample's loss is independent of the batch split
  return net;
}

TEST(GradReducerTest, DataParallelStepsEqualOneRankSteps) {
  // k SGD steps on all ranks with a global batch B split among them must give the same parameters
  // as k steps of one process on the whole batch. B = 7 does not divide evenly among 2 or 3 ranks.
  const int64_t global_batch = 7;
  const int k = 3;
  torch::manual_seed(7);
  const auto images = torch::randn({k, global_batch, 3, 32, 32});
  const auto labels = torch::randint(0, 10, {k, global_batch});
  space::SearchSpace space;
  Rng rng(5);
  std::vector<space::Genome> genomes;
  for (int i = 0; i < k; ++i) genomes.push_back(ga::random_genome(space::paper_gene_space(space), rng));

  auto run = [&](Communicator& c) {
    nn::Supernet net = make_net();
    auto sgd = train::make_sgd(net->parameters(), train::TrainOptions{});
    const auto channel = make_data_channel(Backend::kMpi, c, torch::Device(torch::kCPU));
    GradReducer sync(*channel, /*bucket_bytes=*/64 << 10);  // small buckets: several collectives per step
    const auto [b, e] = shard_range(global_batch, c.rank(), c.size());
    int64_t collectives = 0;
    for (int i = 0; i < k; ++i) {
      net->set_genome(genomes[i]);
      auto x = images[i].slice(0, b, e), y = labels[i].slice(0, b, e);
      torch::cross_entropy_loss(net->forward(x), y).backward();
      const auto active = net->active_parameters();
      sync.average(active, double(e - b) / global_batch);
      collectives += sync.collectives_last_call();
      sgd->step();
      train::clear_grads(active);
    }
    return std::make_pair(net, collectives);
  };
  auto serial = make_communicator(Backend::kSerial, false);
  const auto [reference, unused] = run(*serial);
  const auto [parallel, collectives] = run(comm());
  if (comm().size() > 1) {
    EXPECT_GT(collectives, k);                 // bucketed: more than one collective per step here
    EXPECT_LT(collectives, 40 * k);            // and far fewer than one per parameter
  }
  double worst = 0;
  const auto ref = reference->named_parameters();
  for (const auto& p : parallel->named_parameters()) {
    const auto& q = ref[p.key()];
    const double diff = (p.value() - q).abs().max().item<double>();
    const double scale = std::max(1e-3, q.abs().max().item<double>());
    worst = std::max(worst, diff / scale);
  }
  EXPECT_LT(worst, 1e-5) << "largest relative parameter difference between data-parallel and one-rank steps";
}

TEST(EvaluationTest, SplitEvaluationEqualsOneRankEvaluationExactly) {
  // 20 genomes over the ranks (uneven for 3), the same 64 images everywhere.
  nn::Supernet net = make_net();
  net->set_bn_batch_stats_in_eval(true);
  torch::manual_seed(9);
  const auto images = torch::randint(0, 256, {64, 3, 32, 32}, torch::kUInt8);
  const auto labels = torch::randint(0, 10, {64});
  space::SearchSpace space;
  Rng rng(11);
  const auto generation = ga::random_generation(space::paper_gene_space(space), 20, rng);
  auto serial = make_communicator(Backend::kSerial, false);
  const auto one = train::evaluate_generation(net, generation, images, labels, 32, *serial);
  const auto split = train::evaluate_generation(net, generation, images, labels, 32, comm());
  EXPECT_EQ(split, one);
  std::set<float> distinct(one.begin(), one.end());
  EXPECT_GT(distinct.size(), 1u);  // the genomes really differ
}

TEST(ShardTest, ShardsCoverTheBatchOnceAcrossRanks) {
  for (int size : {1, 2, 3, 4}) {
    int64_t next = 0;
    for (int r = 0; r < size; ++r) {
      const auto [b, e] = shard_range(20, r, size);
      EXPECT_EQ(b, next);
      EXPECT_GE(e - b, 20 / size);
      EXPECT_LE(e - b, 20 / size + 1);
      next = e;
    }
    EXPECT_EQ(next, 20);
  }
}

/// The run configuration of the epoch-loop tests: C=4, one cell per stage, one epoch of global
/// batches of 7 (uneven over 2 and 3 ranks), no progress output.
train::RunConfig tiny_loop_config() {
  train::RunConfig cfg;
  cfg.net.channels = 4;
  cfg.net.cells = 1;
  cfg.train.epochs = 1;
  cfg.train.batch = 7;
  cfg.progress = false;
  return cfg;
}

/// The retrain loop (train::run_epochs) on all ranks equals one process to 1e-5: 3 steps of a
/// fixed genome's network with drop-path (keep 0.7), dropout (0.5) and augmentation on, a global
/// batch of 7 that 2 or 3 ranks split unevenly. Drop-path and dropout masks are drawn per sample for
/// the global batch, so each sample gets the same mask whatever the split.
/// What the comparison needs, and why:
/// - BatchNorm on running statistics (calibrated on the training images, then frozen in the
///   epoch-start hook): with batch statistics every rank normalises its own shard, which no split
///   can make equal to one process.
/// - float64: in float32 the rounding of a sum of 7 gradients differs from 4 + 3, and after a step
///   or two that flips a ReLU or max-pool decision somewhere; the runs then drift apart by 1e-4 to
///   1e-2 even without any mask (measured). In float64 the rounding is 1e-16 and nothing flips.
/// The masks matter: without drop-path the result moves by more than 1e-3 (checked), so a mask
/// drawn differently on some rank would fail the test.
TEST(EpochLoopTest, RetrainOnAllRanksEqualsOneRank) {
  train::RunConfig cfg = tiny_loop_config();
  cfg.net.dropout = 0.5;
  cfg.net.drop_path_keep = 0.7;
  cfg.train.lr = 0.05;
  space::SearchSpace space;
  for (const std::uint64_t genome_seed : {21, 22}) {
    Rng genome_rng(genome_seed);
    const auto genome = ga::random_genome(space::paper_gene_space(space), genome_rng);
    const auto data = data::make_synthetic(21, 1, 1, 5);  // 3 steps of 7

    auto run = [&](Communicator& c, double keep) {
      torch::manual_seed(3);
      nn::Supernet net = nn::make_network(nn::NetworkOptions(cfg.net, 10, genome));
      net->to(torch::kFloat64);
      {  // Running statistics of the training images (BN momentum 0.1: 40 passes), the same everywhere.
        torch::NoGradGuard no_grad;
        net->train();
        const auto x = data::normalize(data.train.images).to(torch::kFloat64);
        for (int i = 0; i < 40; ++i) net->forward(x);
      }
      auto sgd = train::make_sgd(net->parameters(), cfg.train);
      train::RunState st;
      st.data_rng = Rng(cfg.seed, 2);
      train::EpochLoop loop{cfg, c, net, *sgd, data.train, st, /*log=*/nullptr, "retrain", /*ckpt_dir=*/""};
      loop.on_epoch_start = [&](int) {
        net->set_drop_path_keep(keep);
        for (auto& m : net->modules(false))
          if (m->as<nn::BatchNormImpl>()) m->eval();
      };
      loop.parameters = [&] { return net->parameters(); };
      loop.on_epoch_end = [](int, Progress&) { return train::EpochEnd{}; };
      EXPECT_EQ(train::run_epochs(loop), kExitOk);
      EXPECT_EQ(st.epoch, 1);
      return net;
    };
    auto difference = [](nn::Supernet& a, nn::Supernet& b) {
      double worst = 0;
      const auto ref = a->named_parameters();
      for (const auto& p : b->named_parameters()) {
        const auto& q = ref[p.key()];
        const double d = (p.value() - q).abs().max().item<double>() / std::max(1e-3, q.abs().max().item<double>());
        worst = std::max(worst, d);
      }
      return worst;
    };
    auto serial = make_communicator(Backend::kSerial, false);
    auto one = run(*serial, cfg.net.drop_path_keep);
    auto all = run(comm(), cfg.net.drop_path_keep);
    EXPECT_LT(difference(one, all), 1e-5) << "largest relative parameter difference, " << comm().size()
                                          << " ranks vs one, genome seed " << genome_seed;
    auto no_drop_path = run(*serial, 1.0);
    EXPECT_GT(difference(one, no_drop_path), 1e-3) << "genome seed " << genome_seed;
  }
}

/// When an epoch's steps end, every rank holds one network: the parameters (by gradient averaging)
/// and the BatchNorm running statistics, which each rank updates from its own shard during the
/// steps and which the loop then takes from rank 0. So the test split evaluated in parts, the GA
/// scores and the checkpoint all see the model that rank 0 saves.
TEST(EpochLoopTest, RanksHoldOneNetworkWhenAnEpochEnds) {
  const train::RunConfig cfg = tiny_loop_config();
  space::SearchSpace space;
  Rng genome_rng(5);
  const auto genome = ga::random_genome(space::paper_gene_space(space), genome_rng);
  const auto data = data::make_synthetic(21, 1, 1, 5);
  torch::manual_seed(3);
  nn::Supernet net = nn::make_network(nn::NetworkOptions(cfg.net, 10, genome));
  auto sgd = train::make_sgd(net->parameters(), cfg.train);
  train::RunState st;
  st.data_rng = Rng(cfg.seed, 2);
  train::EpochLoop loop{cfg, comm(), net, *sgd, data.train, st, /*log=*/nullptr, "retrain", /*ckpt_dir=*/""};
  loop.parameters = [&] { return net->parameters(); };
  int64_t differing_buffers = -1, differing_parameters = -1;
  loop.on_epoch_end = [&](int, Progress&) {
    auto differing = [&](const std::vector<torch::Tensor>& tensors) {
      int64_t n = 0;
      for (const auto& t : tensors) {
        auto mine = t.detach().clone(), root = mine.clone();
        comm().broadcast_(root, 0);
        n += !torch::equal(mine, root);
      }
      auto total = torch::tensor({n}, torch::kInt64);
      comm().allreduce_sum_(total);
      return total.item<int64_t>();
    };
    differing_buffers = differing(net->buffers());
    differing_parameters = differing(net->parameters());
    return train::EpochEnd{};
  };
  EXPECT_EQ(train::run_epochs(loop), kExitOk);
  EXPECT_EQ(differing_parameters, 0);
  EXPECT_EQ(differing_buffers, 0) << "BatchNorm running statistics differ between ranks at the end of the epoch";
}

}  // namespace
}  // namespace gnas::distributed

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto comm = gnas::distributed::make_communicator(gnas::distributed::Backend::kMpi, true);
  gnas::distributed::g_comm = comm.get();
  const int local = RUN_ALL_TESTS() != 0 ? 1 : 0;
  auto failed = torch::tensor({local}, torch::kInt32);
  comm->allreduce_sum_(failed);
  const int total = failed.item<int>();
  if (comm->rank() == 0)
    std::printf("%d of %d ranks had failures\n", total, comm->size());
  return total == 0 ? 0 : 1;
}
