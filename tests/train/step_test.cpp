// The training step (train/step.*): no host reads in the hot loop, the precisions, channels-last,
// and the gradient reducer's bucket layout.
#include "gnas/train/step.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "gnas/core/error.h"
#include "gnas/distributed/communicator.h"
#include "gnas/ga/operators.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"
#include "gnas/train/host_reads.h"

namespace gnas::train {
namespace {

using distributed::Backend;

/// `steps` search steps at the built-in default config (C=8, N_cell=1, batch 64) from a fixed
/// seed: a new random genome every step, as a search trains. Returns the per-step losses (read
/// after the loop) and the network.
struct Run {
  std::vector<double> losses;
  nn::Supernet net{nullptr};
  int64_t host_reads_in_loop = 0;
};
Run search_steps(const TrainOptions& options, int steps, torch::ScalarType dtype = torch::kFloat32) {
  torch::manual_seed(3);
  nn::NetOptions net_options;  // the built-in defaults
  nn::Supernet net = nn::make_network(nn::NetworkOptions(net_options, 10));
  net->to(dtype);
  if (options.channels_last) to_channels_last(net);
  auto sgd = make_sgd(net->parameters(), options);
  auto serial = distributed::make_communicator(Backend::kSerial, false);
  auto channel = distributed::make_data_channel(Backend::kSerial, *serial, torch::Device(torch::kCPU));
  TrainStep step(options, *sgd, *channel, torch::Device(torch::kCPU), 1.0);
  space::SearchSpace space;
  Rng rng(4);
  torch::manual_seed(5);
  const auto images = torch::randn({steps, int64_t(options.batch), 3, 32, 32}, dtype);
  const auto labels = torch::randint(0, 10, {steps, int64_t(options.batch)});
  std::vector<torch::Tensor> losses;
  Run run;
  const int64_t before = host_reads();
  for (int i = 0; i < steps; ++i) {
    net->set_genome(ga::random_genome(space::paper_gene_space(space), rng));
    losses.push_back(step.run(net, step.input(images[i], dtype), labels[i], net->active_parameters()).loss);
  }
  run.host_reads_in_loop = host_reads() - before;
  for (const auto& l : losses) run.losses.push_back(l.item<double>());
  run.net = net;
  return run;
}

TEST(StepTest, TheStepReadsNothingOnTheHost) {
  // Every device-to-host read of the training code is counted (read_on_host): the step makes none
  // in fp32 and bf16, so on a GPU the host never waits for the device in the hot loop.
  for (const auto precision : {Precision::kFp32, Precision::kBf16}) {
    TrainOptions t;
    t.precision = precision;
    EXPECT_EQ(search_steps(t, 3).host_reads_in_loop, 0) << precision_name(precision);
  }
  // The counter works: an evaluation reads its counts.
  nn::Supernet net = nn::make_network(nn::NetworkOptions(nn::NetOptions{}, 10));
  space::SearchSpace space;
  Rng rng(1);
  net->set_genome(ga::random_genome(space::paper_gene_space(space), rng));
  const int64_t before = host_reads();
  count_correct(net, torch::zeros({4, 3, 32, 32}, torch::kUInt8), torch::zeros({4}, torch::kInt64), 4, 0, 1);
  EXPECT_EQ(host_reads() - before, 1);
}

TEST(StepTest, Bf16FollowsFp32OverTwentySearchSteps) {
  // 20 steps of the default search config: bf16 autocast (8-bit mantissa) against fp32. Stated
  // tolerance: each step's loss within 0.1 of fp32's (4% of the initial 2.3), and the mean over the
  // 20 steps within 0.02. Measured here (libtorch 1.13 and 2.11): a largest step difference of 0.06,
  // means 0.001 apart.
  TrainOptions fp32, bf16;
  bf16.precision = Precision::kBf16;
  const auto a = search_steps(fp32, 20), b = search_steps(bf16, 20);
  double worst = 0, mean_a = 0, mean_b = 0;
  for (std::size_t i = 0; i < a.losses.size(); ++i) {
    worst = std::max(worst, std::abs(a.losses[i] - b.losses[i]));
    mean_a += a.losses[i] / 20;
    mean_b += b.losses[i] / 20;
  }
  std::printf("bf16 against fp32 over 20 steps: largest step difference %.4f, mean %.4f vs %.4f\n", worst, mean_b,
              mean_a);
  EXPECT_LT(worst, 0.1);
  EXPECT_LT(std::abs(mean_a - mean_b), 0.02);
  EXPECT_GT(worst, 0.0) << "bf16 computed exactly what fp32 did: autocast was not on";
  // The parameters stay float32 (the master weights).
  EXPECT_EQ(b.net->parameters().front().scalar_type(), torch::kFloat32);
}

TEST(StepTest, ChannelsLastEqualsTheDefaultLayout) {
  TrainOptions nchw, nhwc;
  nhwc.channels_last = true;
  // In float64, so that the other summation order of NHWC kernels stays far below the tolerance
  // over several SGD steps (in float32 it grows from 1e-6 to 1e-3 in four steps at lr 0.1, the random labels
  // making the loss surface chaotic).
  const auto a = search_steps(nchw, 3, torch::kFloat64), b = search_steps(nhwc, 3, torch::kFloat64);
  bool any_channels_last = false;
  for (const auto& p : b.net->parameters())
    any_channels_last |= p.dim() == 4 && p.is_contiguous(torch::MemoryFormat::ChannelsLast) && !p.is_contiguous();
  EXPECT_TRUE(any_channels_last);
  // Stated tolerance: float64 sums in another order, 1e-9 of the loss and of each parameter.
  for (std::size_t i = 0; i < a.losses.size(); ++i) EXPECT_NEAR(a.losses[i], b.losses[i], 1e-9) << "step " << i;
  const auto pa = a.net->parameters(), pb = b.net->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-9, 1e-9)) << "parameter " << i;
}

TEST(StepTest, Fp16IsRefusedOnTheCpu) {
  EXPECT_THAT([] { check_precision(Precision::kFp16, torch::Device(torch::kCPU)); },
              testing::ThrowsMessage<ConfigError>(testing::HasSubstr("fp16 needs a CUDA device")));
  EXPECT_NO_THROW(check_precision(Precision::kBf16, torch::Device(torch::kCPU)));
  Precision p;
  EXPECT_FALSE(parse_precision("fp8", p));
  ASSERT_TRUE(parse_precision("bf16", p));
  EXPECT_EQ(p, Precision::kBf16);
}

}  // namespace
}  // namespace gnas::train
