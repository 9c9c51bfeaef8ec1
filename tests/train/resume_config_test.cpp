// A resume's configuration against the stored one (train/resume_config.h).
#include "gnas/train/resume_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gnas/core/error.h"
#include "gnas/io/config_keys.h"

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

/// [ga] strategy, n_v, generations_per_epoch, bn_eval and rescore are [search]'s now: a run written
/// before the rename resumes without a change, and a change of its strategy is still refused.
TEST(ResumeConfigTest, KeysOfTheirOldNamesCompareUnderTheirNewOnes) {
  const std::string old_run = "seed = 1\n[ga]\npopulation = 4\nstrategy = ga\nn_v = 50\nrescore = none\n";
  const std::string now = "seed = 1\n[ga]\npopulation = 4\n[search]\nstrategy = ga\nn_v = 50\nrescore = none\n";
  auto structural = io::structural_keys();
  for (const auto& k : io::search_structural_keys()) structural.push_back(k);
  EXPECT_EQ(check_resume_config(old_run, now, structural), "");
  EXPECT_EQ(check_resume_config(old_run, now + "[search]\nn_v = 60\n", structural), "--search.n_v 50 -> 60");
  std::string random = now;
  random.replace(random.find("strategy = ga"), 13, "strategy = random");
  EXPECT_THAT([&] { check_resume_config(old_run, random, structural); },
              ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr("--search.strategy ga -> random")));
}

/// A search written before --search.fitness, [proxy] and --ga.selection resumes with their defaults
/// (the supernet, no warm start); asking for a training-free fitness on it is refused.
TEST(ResumeConfigTest, SearchesWrittenBeforeTheFitnessOptionsResume) {
  auto structural = io::structural_keys();
  for (const auto& k : io::search_structural_keys()) structural.push_back(k);
  const std::string old_run = "seed = 1\n[ga]\npopulation = 4\n[search]\nstrategy = ga\n";
  const std::string now = "seed = 1\n[ga]\npopulation = 4\nselection = auto\n[search]\nstrategy = ga\nfitness = supernet\n"
                          "[proxy]\nchannels = 16\ncells = 5\nbatch = 128\nscore = naswot+synflow\nwarm_start = 0\n"
                          "table = \n";
  EXPECT_EQ(check_resume_config(old_run, now, structural), "");
  std::string free = now;
  free.replace(free.find("fitness = supernet"), 18, "fitness = naswot");
  EXPECT_THAT([&] { check_resume_config(old_run, free, structural); },
              ::testing::ThrowsMessage<ConfigError>(::testing::HasSubstr("--search.fitness supernet -> naswot")));
}

}  // namespace
}  // namespace gnas::train
