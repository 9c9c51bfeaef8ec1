// Tests that need a CUDA device (CTest label `gpu`). Where none is visible (every CPU machine, and
// the CPU-only build) each test skips and says why; scripts/device-check runs them on a GPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Context.h>
#include <cmath>
#include <cstdlib>

#include "gnas/config.h"
#include "gnas/core/rng.h"
#include "gnas/data/augment.h"
#include "gnas/distributed/communicator.h"
#include "gnas/distributed/grad_reducer.h"
#include "gnas/ga/operators.h"
#include "gnas/train/checkpoint.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/step.h"
#include "support/process.h"
#if GNAS_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace gnas::train {
namespace {

using distributed::Backend;

#define SKIP_WITHOUT_CUDA()                                                                                  \
  if (!torch::cuda::is_available())                                                                        \
  GTEST_SKIP() << "no CUDA device is visible to this process (torch::cuda::is_available() is false): this test " \
                  "needs a GPU; scripts/device-check runs the gpu label on one"

const torch::Device kCuda(torch::kCUDA, 0);

/// A network of the built-in defaults on `device`, its SGD, a one-process data channel and a
/// TrainStep over them.
struct StepRig {
  StepRig(const torch::Device& device, TrainOptions options = {}, double dropout = 0.2)
      : net(make_net(device, dropout)),
        sgd(make_sgd(net->parameters(), options)),
        serial(distributed::make_communicator(Backend::kSerial, false)),
        channel(distributed::make_data_channel(Backend::kSerial, *serial, device)),
        step(options, *sgd, *channel, device, 1.0) {}
  static nn::Supernet make_net(const torch::Device& device, double dropout) {
    nn::NetOptions o;
    o.dropout = dropout;
    nn::Supernet n = nn::make_network(nn::NetworkOptions(o, 10));
    n->to(device);
    return n;
  }
  /// One step on (x, y), already on the device.
  TrainStep::Out run(const torch::Tensor& x, const torch::Tensor& y) {
    return step.run(net, step.input(x, torch::kFloat32), y, net->active_parameters());
  }
  nn::Supernet net{nullptr};
  std::unique_ptr<torch::optim::SGD> sgd;
  std::unique_ptr<distributed::Communicator> serial;
  std::unique_ptr<distributed::DataChannel> channel;
  TrainStep step;
};

/// `steps` supernet steps (default config, batch 32) on `device` from one seed; returns the network.
nn::Supernet supernet_steps(const torch::Device& device, int steps) {
  torch::manual_seed(3);
  StepRig rig(device, {}, /*dropout=*/0.0);  // dropout masks come from each device's own generator
  space::SearchSpace space;
  Rng rng(4);
  torch::manual_seed(5);
  const auto images = torch::randn({steps, 32, 3, 32, 32});
  const auto labels = torch::randint(0, 10, {steps, 32});
  for (int i = 0; i < steps; ++i) {
    rig.net->set_genome(ga::random_genome(space::paper_gene_space(space), rng));
    rig.run(images[i].to(device), labels[i].to(device));
  }
  return rig.net;
}

TEST(GpuTest, SupernetStepsOnCudaFollowTheCpu) {
  SKIP_WITHOUT_CUDA();
  // TF32 off: the comparison is of float32 on both sides. Stated tolerance: 5 SGD steps agree to
  // 1e-3 of each parameter's scale (cuDNN's algorithms sum in other orders than the CPU's).
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  auto cpu = supernet_steps(torch::Device(torch::kCPU), 5), gpu = supernet_steps(kCuda, 5);
  const auto pc = cpu->parameters(), pg = gpu->parameters();
  for (std::size_t i = 0; i < pc.size(); ++i) {
    const double scale = std::max(1e-3, pc[i].abs().max().item<double>());
    EXPECT_LT((pg[i].cpu() - pc[i]).abs().max().item<double>() / scale, 1e-3) << "parameter " << i;
  }
}

TEST(GpuTest, AugmentationOnTheDeviceEqualsTheCpu) {
  SKIP_WITHOUT_CUDA();
  data::Split cpu_split;
  torch::manual_seed(1);
  cpu_split.images = torch::randint(0, 256, {64, 3, 32, 32}, torch::kUInt8);
  cpu_split.labels = torch::randint(0, 10, {64});
  data::Split gpu_split{cpu_split.images.to(kCuda), cpu_split.labels.to(kCuda)};
  std::vector<int64_t> idx(32);
  for (int64_t i = 0; i < 32; ++i) idx[i] = 2 * i;
  Rng a(9), b(9);
  const auto [xc, yc] = make_batch_shard(cpu_split, idx, 0, 32, true, 16, a);
  const auto [xg, yg] = make_batch_shard(gpu_split, idx, 0, 32, true, 16, b);
  EXPECT_TRUE(xg.is_cuda());
  EXPECT_TRUE(torch::allclose(xg.cpu(), xc, 1e-6, 1e-6));  // crop, flip, cutout: the same pixels
  EXPECT_TRUE(torch::equal(yg.cpu(), yc));
}

TEST(GpuTest, CheckpointOfCudaTensorsRoundTripsWithTheCudaGenerator) {
  SKIP_WITHOUT_CUDA();
  auto net = supernet_steps(kCuda, 2);
  TrainOptions t;
  auto sgd = make_sgd(net->parameters(), t);  // a fresh optimizer: the checkpoint holds its state
  RunState st;
  st.epoch = 1;
  st.scaler_state = torch::tensor({1024.0, 7.0}, torch::kFloat64);
  const std::string dir = gnas::testing::make_temp_dir("gnas_gpu_ckpt");
  torch::manual_seed(11);
  save_checkpoint(dir, net, *sgd, st);
  // What an uninterrupted run draws next on the device (drop-path and dropout masks)...
  const auto next = torch::rand({1000}, torch::TensorOptions().device(kCuda)).cpu();
  torch::manual_seed(99);  // ...a resumed process starts elsewhere...
  auto other = supernet_steps(kCuda, 1);
  auto other_sgd = make_sgd(other->parameters(), t);
  RunState loaded;
  load_checkpoint(dir, other, *other_sgd, loaded);
  // ...and continues from the checkpoint's CUDA generator state: the same numbers, exactly.
  EXPECT_TRUE(torch::equal(torch::rand({1000}, torch::TensorOptions().device(kCuda)).cpu(), next));
  const auto a = net->parameters(), b = other->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  EXPECT_TRUE(b.front().is_cuda());
  ASSERT_TRUE(loaded.scaler_state.defined());
  EXPECT_TRUE(torch::equal(loaded.scaler_state, st.scaler_state));
}

TEST(GpuTest, TrainingStepsNeverWaitForTheDevice) {
  SKIP_WITHOUT_CUDA();
#if GNAS_WITH_CUDA
  // CUDA's own sync check (torch.cuda.set_sync_debug_mode("error")): any synchronising call in the
  // batch (index upload, augmentation) or the step throws. Not just gnas's counted reads.
  StepRig rig(kCuda);
  data::Split split{torch::randint(0, 256, {256, 3, 32, 32}, torch::kUInt8).to(kCuda),
                    torch::randint(0, 10, {256}, torch::kInt64).to(kCuda)};
  space::SearchSpace space;
  Rng rng(2);
  auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(kCuda));
  auto one_step = [&] {
    rig.net->set_genome(ga::random_genome(space::paper_gene_space(space), rng));
    const auto idx = sample_without_replacement(256, 64, rng);
    auto [x, y] = make_batch_shard(split, idx, 0, 64, true, 16, rng);
    loss_sum += rig.run(x, y).loss;
  };
  one_step();  // warm-up: first allocations
  torch::cuda::synchronize();
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
  try {
    for (int i = 0; i < 5; ++i) one_step();
  } catch (const std::exception& e) {
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
    FAIL() << "a training step synchronised with the device: " << e.what();
  }
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
  EXPECT_TRUE(std::isfinite(loss_sum.item<double>()));
#else
  GTEST_SKIP() << "this is the CPU-only build: CUDA's sync check needs the CUDA build";
#endif
}

TEST(GpuTest, Fp16LossScalingSkipsOverflowsAndAdaptsTheScale) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(3);
  TrainOptions t;
  t.precision = Precision::kFp16;
  StepRig rig(kCuda, t, /*dropout=*/0.0);
  auto& net = rig.net;
  auto& step = rig.step;
  space::SearchSpace space;
  Rng rng(2);
  net->set_genome(ga::random_genome(space::paper_gene_space(space), rng));
  const auto x = torch::randn({32, 3, 32, 32}).to(kCuda), y = torch::randint(0, 10, {32}).to(kCuda);
  // A scale of 3e38 overflows the scaled loss: the step is skipped, the scale halves.
  step.set_scaler_state(torch::tensor({3e38, 0.0}, torch::kFloat64));
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.detach().clone());
  rig.run(x, y);
  EXPECT_EQ(step.skipped_steps(), 1);
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], before[i])) << i;
  EXPECT_FLOAT_EQ(static_cast<float>(step.scaler_state()[0].item<double>()), 1.5e38f);
  // 1999 clean steps already: one more doubles the scale and restarts the count.
  step.set_scaler_state(torch::tensor({1024.0, 1999.0}, torch::kFloat64));
  rig.run(x, y);
  EXPECT_EQ(step.skipped_steps(), 1);
  EXPECT_DOUBLE_EQ(step.scaler_state()[0].item<double>(), 2048.0);
  EXPECT_DOUBLE_EQ(step.scaler_state()[1].item<double>(), 0.0);
  bool changed = false;
  for (std::size_t i = 0; i < params.size(); ++i) changed |= !torch::equal(params[i], before[i]);
  EXPECT_TRUE(changed) << "a clean fp16 step updated nothing";
}

TEST(GpuTest, NcclAllreduceOnOneRank) {
  SKIP_WITHOUT_CUDA();
  if (!distributed::built_with_nccl()) GTEST_SKIP() << "this build has no NCCL (scripts/build --cuda builds it)";
  auto serial = distributed::make_communicator(Backend::kSerial, false);
  auto channel = distributed::make_data_channel(Backend::kNccl, *serial, kCuda);
  EXPECT_EQ(channel->name(), "nccl");
  for (auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16, torch::kInt64}) {
    auto t = torch::arange(10, torch::TensorOptions().dtype(dtype).device(kCuda));
    const auto before = t.clone();
    channel->allreduce_sum_(t);  // one rank: the sum is the tensor itself
    EXPECT_TRUE(torch::equal(t, before)) << dtype;
  }
  auto cpu_tensor = torch::ones({3});
  EXPECT_THROW(channel->allreduce_sum_(cpu_tensor), Error);
}

TEST(GpuTest, TwoRankSearchOnOneGpu) {
  SKIP_WITHOUT_CUDA();
  const std::string mpiexec = gnas::testing::mpiexec();
  if (mpiexec.empty()) GTEST_SKIP() << "a build without MPI (GNAS_WITH_MPI=OFF) has no launcher to test";
  const std::string out = gnas::testing::make_temp_dir("gnas_gpu_np2") + "/run";
  // Two ranks share GPU 0: NCCL cannot put two ranks on one device, so auto stages the gradients
  // through MPI; with 2 GPUs each rank gets its own and NCCL carries them.
  const auto r = gnas::testing::run_shell(
      mpiexec + " --allow-run-as-root --oversubscribe -np 2 " + gnas::testing::gnas_exe() +
      " search --device cuda --out " + out + " --train.epochs 2 --net.channels 4 --ga.population 4 "
      "--ga.generation 6 --search.n_v 64 --data.synthetic_train 512 --data.synthetic_val 128 --train.batch 32");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("epoch 2/2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("on cuda:0 x 2 ranks"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gnas::train
