// core: the seeded generator, the failure policy (exit codes), durations for people.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <new>
#include <vector>

#include "gnas/core/error.h"
#include "gnas/core/progress.h"
#include "gnas/core/rng.h"
#include "gnas/distributed/options.h"

namespace gnas {
namespace {

TEST(RngTest, SameSeedSameSequenceAndStateRoundTrip) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(a.next_u64(), c.next_u64());
  const Rng saved = Rng::from_string(a.to_string());
  const auto x = a.next_u64();
  Rng restored = saved;
  EXPECT_EQ(restored.next_u64(), x);
  EXPECT_THROW(Rng::from_string("12 zz"), Error);
}

TEST(RngTest, UniformIntIsInRangeAndUnbiased) {
  Rng r(3);
  std::vector<int> counts(6, 0);
  const int n = 60000;
  for (int i = 0; i < n; ++i) ++counts[r.uniform_int(6)];
  // Each count ~ Binomial(60000, 1/6): sd ~ 91; tolerance 5 sd.
  for (int c : counts) EXPECT_NEAR(c, n / 6.0, 460);
}

/// One function maps any exception to the process exit code: a bad option or config is 2, every
/// other gnas error and anything foreign (bad_alloc, a libtorch error) is 1.
TEST(FailurePolicyTest, ExitCodeForEachKindOfError) {
  EXPECT_EQ(exit_code_for(ConfigError("x")), kExitUsage);
  for (const Error& e : std::vector<Error>{Error("x"), IoError("x"), DataError("x"), CommError("x"), TrainingError("x")})
    EXPECT_EQ(exit_code_for(e), e.exit_code());
  EXPECT_EQ(exit_code_for(IoError("x")), kExitError);
  EXPECT_EQ(exit_code_for(TrainingError("x")), kExitError);
  EXPECT_EQ(exit_code_for(std::bad_alloc()), kExitError);
  EXPECT_EQ(exit_code_for(std::runtime_error("x")), kExitError);
  const ConfigError config("bad --train.lr");
  const Error& as_base = config;  // the code travels with the object, not the static type
  EXPECT_EQ(exit_code_for(as_base), kExitUsage);
  EXPECT_THROW(distributed::parse_backend("gloo"), ConfigError);
  EXPECT_EQ(distributed::parse_backend("serial"), distributed::Backend::kSerial);
  EXPECT_EQ(distributed::parse_backend("nccl"), distributed::Backend::kNccl);
}

}  // namespace
}  // namespace gnas

TEST(FormatDurationTest, SecondsMinutesAndHours) {
  EXPECT_EQ(gnas::format_duration(0.4), "0s");
  EXPECT_EQ(gnas::format_duration(58.4), "58s");
  EXPECT_EQ(gnas::format_duration(59.6), "1m00s");
  EXPECT_EQ(gnas::format_duration(750), "12m30s");
  EXPECT_EQ(gnas::format_duration(3599), "59m59s");
  EXPECT_EQ(gnas::format_duration(3900), "1h05m");
  EXPECT_EQ(gnas::format_duration(36 * 3600 + 60), "36h01m");
}
