// How the backend of a run is chosen and refused (distributed/options.h). Plain C++: no process
// is launched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "gnas/core/error.h"
#include "gnas/distributed/options.h"

namespace gnas {
namespace {

TEST(BackendTest, AutoPicksNcclOnlyForCudaUnderMpiInANcclBuild) {
  using distributed::Backend;
  using distributed::BackendContext;
  auto pick = [](Backend requested, bool mpi_launch, bool cuda, bool nccl_build) {
    BackendContext c;
    c.launched_under_mpi = mpi_launch;
    c.device_is_cuda = cuda;
    c.built_with_mpi = true;
    c.built_with_nccl = nccl_build;
    const auto choice = distributed::resolve_backend(requested, c);
    return std::string(distributed::backend_name(choice.control)) + "/" + distributed::backend_name(choice.gradients);
  };
  // Every combination of (launched under MPI, CUDA device, NCCL build) for auto.
  EXPECT_EQ(pick(Backend::kAuto, false, false, false), "serial/serial");
  EXPECT_EQ(pick(Backend::kAuto, false, true, true), "serial/serial");  // one process: nothing to reduce
  EXPECT_EQ(pick(Backend::kAuto, true, false, true), "mpi/mpi");        // CPU tensors: MPI
  EXPECT_EQ(pick(Backend::kAuto, true, true, false), "mpi/mpi");        // no NCCL in this build: MPI
  EXPECT_EQ(pick(Backend::kAuto, true, true, true), "mpi/nccl");
  // Explicit choices.
  EXPECT_EQ(pick(Backend::kMpi, true, true, true), "mpi/mpi");
  EXPECT_EQ(pick(Backend::kSerial, true, true, true), "serial/serial");
  EXPECT_EQ(pick(Backend::kNccl, true, true, true), "mpi/nccl");
  EXPECT_EQ(pick(Backend::kNccl, false, true, true), "serial/nccl");
}

TEST(BackendTest, NcclIsRefusedWithoutNcclOrOnTheCpu) {
  using distributed::Backend;
  distributed::BackendContext c;
  c.launched_under_mpi = true;
  c.built_with_mpi = true;
  c.device_is_cuda = true;
  c.built_with_nccl = false;
  EXPECT_THAT([&] { distributed::resolve_backend(Backend::kNccl, c); },
              testing::ThrowsMessage<ConfigError>(testing::HasSubstr("built without NCCL; build the CUDA variant")));
  c.built_with_nccl = true;
  c.device_is_cuda = false;
  EXPECT_THAT([&] { distributed::resolve_backend(Backend::kNccl, c); },
              testing::ThrowsMessage<ConfigError>(testing::HasSubstr("needs a CUDA device")));
  c.built_with_mpi = false;
  EXPECT_THAT([&] { distributed::resolve_backend(Backend::kMpi, c); },
              testing::ThrowsMessage<ConfigError>(testing::HasSubstr("built without MPI")));
}

}  // namespace
}  // namespace gnas
