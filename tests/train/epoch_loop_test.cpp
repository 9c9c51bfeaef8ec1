// train: the epoch loop at its own seam, with a stand-in network (a pooled linear classifier behind
// the Supernet interface, like a dummy backend) instead of a supernet: the rows it logs, the stop on
// a signal with its checkpoint, and a resume from that checkpoint that ends bit-identical to an
// uninterrupted run. Milliseconds, one process, no gnas executable.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gnas/core/error.h"
#include "gnas/core/signals.h"
#include "gnas/data/dataset.h"
#include "gnas/distributed/communicator.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/nn/supernet.h"
#include "gnas/space/space.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/epoch_loop.h"
#include "gnas/train/optim.h"
#include "support/process.h"

namespace gnas::train {
namespace {

/// Logits from 4x4 average-pooled images through one linear layer: about 500 parameters, every
/// one of them active whatever the genome (a 6-gene nb201 genome, so the log has a space).
class StandInImpl : public nn::SupernetImpl {
 public:
  StandInImpl() : space_(space::make_space("nb201", 5)), genome_(6, 0) {
    options_.space = "nb201";
    options_.channels = 1;
    options_.cells = 1;
    options_.num_classes = 10;
    linear_ = register_module("linear", torch::nn::Linear(3 * 4 * 4, 10));
  }
  void set_genome(const space::Genome& g) override { genome_ = g; }
  const space::Genome& genome() const override { return genome_; }
  torch::Tensor forward(const torch::Tensor& x) override {
    return linear_->forward(torch::adaptive_avg_pool2d(x, {4, 4}).flatten(1));
  }
  std::vector<torch::Tensor> active_parameters() const override { return parameters(); }
  void set_drop_path_keep(double) override {}
  void set_batch_shard(int64_t, int64_t) override {}
  const space::Space& space() const override { return *space_; }
  const nn::NetworkOptions& options() const override { return options_; }

 private:
  std::unique_ptr<space::Space> space_;
  space::Genome genome_;
  nn::NetworkOptions options_;
  torch::nn::Linear linear_{nullptr};
};

struct Fixture {
  RunConfig cfg;
  data::Dataset ds = data::make_synthetic(96, 8, 8, 7);
  std::unique_ptr<distributed::Communicator> comm =
      distributed::make_communicator(distributed::Backend::kSerial, false);
  nn::Supernet net{nullptr};
  std::unique_ptr<torch::optim::SGD> sgd;
  RunState st;
  std::unique_ptr<io::Hdf5Log> log;
  std::string dir = gnas::testing::make_temp_dir("gnas_loop");

  Fixture() {
    cfg.train.epochs = 3;
    cfg.train.batch = 16;  // 6 steps per epoch
    cfg.train.lr = 0.05;
    cfg.log.every_steps = 4;  // rows at steps 4 and 6 of each epoch
    cfg.progress = false;
    cfg.out = dir;
    torch::manual_seed(3);
    net = nn::Supernet(std::make_shared<StandInImpl>());
    sgd = make_sgd(net->parameters(), cfg.train);
    st.data_rng = Rng(cfg.seed, 2);
    io::LogAttributes attrs;
    attrs.command = "retrain";
    attrs.seed = cfg.seed;
    log = std::make_unique<io::Hdf5Log>(dir + "/log.h5", attrs, 6, 0, 0, false);
  }

  int run() {
    EpochLoop loop{cfg, *comm, net, *sgd, ds.train, st, log.get(), "test", dir + "/checkpoints"};
    loop.parameters = [this] { return net->parameters(); };
    loop.on_epoch_end = [](int epoch, Progress&) {
      EpochEnd end;
      end.record.test_acc = 10.0 * (epoch + 1);  // what a command's hook adds, recognisable in the log
      return end;
    };
    return run_epochs(loop);
  }
};

std::vector<torch::Tensor> weights(nn::Supernet& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  return out;
}

TEST(RunEpochsTest, LogsEveryEpochAndStepRowWithTheHooksFields) {
  Fixture f;
  ASSERT_EQ(f.run(), kExitOk);
  const io::LogContent& c = f.log->content();
  ASSERT_EQ(c.epochs.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    const auto& r = c.epochs[std::size_t(e)];
    EXPECT_EQ(r.test_acc, 10.0 * (e + 1));  // the hook's field
    EXPECT_EQ(r.lr, lr_at(f.cfg.train, e));
    EXPECT_TRUE(std::isfinite(r.train_loss) && r.train_loss > 0);
    EXPECT_GT(r.train_time_s, 0);
    EXPECT_GE(r.eval_time_s, 0);
    EXPECT_TRUE(std::isnan(r.peak_mem_mib));  // a CPU
  }
  std::vector<int> steps;
  for (const auto& s : c.steps) steps.push_back(s.global_step);
  EXPECT_EQ(steps, (std::vector<int>{4, 6, 10, 12, 16, 18}));
  // The row at an epoch's last step holds the epoch's mean training loss (one process, no resume).
  EXPECT_DOUBLE_EQ(c.steps[1].loss, c.epochs[0].train_loss);
  EXPECT_DOUBLE_EQ(c.steps[5].acc, c.epochs[2].train_acc);
  EXPECT_EQ(f.st.epoch, 3);
  EXPECT_TRUE(std::filesystem::exists(f.dir + "/checkpoints/latest.pt"));
}

// A stop signal after step 8 (epoch 2, step 2): exit 3 with a checkpoint; a fresh process state
// loaded from it finishes the run with the same weights and log rows as an uninterrupted run.
TEST(RunEpochsTest, StopCheckpointAndResumeEqualAnUninterruptedRun) {
  Fixture whole;
  ASSERT_EQ(whole.run(), kExitOk);

  install_stop_handlers();
  Fixture stopped;
  stopped.cfg.debug.stop_after_steps = 8;
  const int code = stopped.run();
  clear_stop_request();
  ASSERT_EQ(code, kExitRequeue);
  EXPECT_EQ(stopped.st.epoch, 1);
  EXPECT_EQ(stopped.st.step, 2);

  Fixture resumed;  // another "process": its own network, optimiser and state, from the checkpoint
  resumed.dir = stopped.dir;
  resumed.cfg.out = stopped.dir;
  load_checkpoint(stopped.dir + "/checkpoints", resumed.net, *resumed.sgd, resumed.st);
  EXPECT_EQ(resumed.st.epoch, 1);
  EXPECT_EQ(resumed.st.step, 2);
  resumed.log = io::Hdf5Log::restore(stopped.dir + "/log.h5", resumed.st.log);
  ASSERT_EQ(resumed.run(), kExitOk);

  const auto a = weights(whole.net), b = weights(resumed.net);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  const auto& ca = whole.log->content();
  const auto& cb = resumed.log->content();
  ASSERT_EQ(cb.epochs.size(), ca.epochs.size());
  for (std::size_t e = 0; e < ca.epochs.size(); ++e) {
    EXPECT_EQ(cb.epochs[e].train_loss, ca.epochs[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(cb.epochs[e].train_acc, ca.epochs[e].train_acc) << "epoch " << e + 1;
  }
  std::vector<int> steps;
  for (const auto& s : cb.steps) steps.push_back(s.global_step);
  EXPECT_EQ(steps, (std::vector<int>{4, 6, 10, 12, 16, 18}));
}

TEST(RunEpochsTest, MissingHooksAreAnError) {
  Fixture f;
  EpochLoop loop{f.cfg, *f.comm, f.net, *f.sgd, f.ds.train, f.st, nullptr, "test", ""};
  EXPECT_THROW(run_epochs(loop), Error);
}

}  // namespace
}  // namespace gnas::train
