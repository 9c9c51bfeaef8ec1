// The gradient reducer's buckets and averaging (distributed/grad_reducer.h), on one process.
#include "gnas/distributed/grad_reducer.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "gnas/distributed/communicator.h"

namespace gnas::distributed {
namespace {

/// A parameter of `n` elements of `dtype` with a gradient.
torch::Tensor param(int64_t n, torch::ScalarType dtype = torch::kFloat32) {
  auto p = torch::zeros({n}, dtype).requires_grad_(true);
  p.mutable_grad() = torch::ones({n}, dtype);
  return p;
}

TEST(GradReducerTest, BucketsDependOnBytesOnly) {
  auto serial = distributed::make_communicator(Backend::kSerial, false);
  auto channel = distributed::make_data_channel(Backend::kMpi, *serial, torch::Device(torch::kCPU));
  distributed::GradReducer reducer(*channel, /*bucket_bytes=*/400);  // 100 floats
  using Layout = std::vector<std::pair<std::size_t, std::size_t>>;
  // 60 + 30 fit (360 B), 20 more would not; 150 floats (600 B) go alone; then 10 + 10.
  EXPECT_EQ(reducer.buckets({param(60), param(30), param(20), param(150), param(10), param(10)}),
            (Layout{{0, 2}, {2, 3}, {3, 4}, {4, 6}}));
  // bfloat16 gradients: twice the elements per bucket.
  EXPECT_EQ(reducer.buckets({param(120, torch::kBFloat16), param(60, torch::kBFloat16), param(30, torch::kBFloat16)}),
            (Layout{{0, 2}, {2, 3}}));
  // The layout is the same whatever carries the gradients.
  auto serial_channel = distributed::make_data_channel(Backend::kSerial, *serial, torch::Device(torch::kCPU));
  distributed::GradReducer other(*serial_channel, 400);
  const std::vector<torch::Tensor> ps = {param(60), param(30), param(20), param(150)};
  EXPECT_EQ(other.buckets(ps), reducer.buckets(ps));
  // Averaging a rank's half of the batch scales its gradients, bucket by bucket, oversized one too.
  reducer.average(ps, 0.5);
  for (const auto& p : ps) EXPECT_TRUE(torch::equal(p.grad(), torch::full_like(p.grad(), 0.5)));
  EXPECT_EQ(reducer.collectives_last_call(), 3);
}

}  // namespace
}  // namespace gnas::distributed
