// The run's status (io/run_status.h): the stale rule and how tools show a status, a resume's
// segments, and the time format. Plain C++: no run is started.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <fstream>

#include <unistd.h>

#include "gnas/io/run_dir.h"
#include "gnas/io/run_status.h"

namespace {

using gnas::io::RunSegment;
using gnas::io::RunStatus;

RunStatus running(const std::string& updated_at) {
  RunStatus s;
  s.command = "search";
  s.status = "running";
  s.updated_at = updated_at;
  return s;
}

TEST(RunStatusTest, TimesAreReadExactlyAndOtherTextIsRefused) {
  EXPECT_EQ(gnas::io::parse_utc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(gnas::io::parse_utc("1970-01-02T01:00:01Z"), 86400 + 3600 + 1);
  EXPECT_EQ(gnas::io::parse_utc("2026-12-08T00:00:00Z"), 1796688000);  // 20,795 days after 1970
  EXPECT_EQ(gnas::io::parse_utc("2026-12-08T00:00:00"), -1);   // no Z: not gnas's
  EXPECT_EQ(gnas::io::parse_utc("2026-12-08T00:00:00Z "), -1);  // trailing text
  EXPECT_EQ(gnas::io::parse_utc(""), -1);
}

TEST(RunStatusTest, TheStaleRuleIsTheLongerOfItsMinimumAndItsEpochs) {
  RunStatus s;  // defaults: 30 minutes, or 3 of the longest epoch
  EXPECT_DOUBLE_EQ(gnas::io::stale_after_s(s, 0), 1800);
  EXPECT_DOUBLE_EQ(gnas::io::stale_after_s(s, 599), 1800);
  EXPECT_DOUBLE_EQ(gnas::io::stale_after_s(s, 601), 1803);
  s.stale_min_s = 60, s.stale_epochs = 2;  // a writer's own rule, as status.json carries it
  EXPECT_DOUBLE_EQ(gnas::io::stale_after_s(s, 10), 60);
  EXPECT_DOUBLE_EQ(gnas::io::stale_after_s(s, 100), 200);
}

TEST(RunStatusTest, ARunningRunIsShownAsRunningOrDiedWhenSilentTooLong) {
  const auto t0 = gnas::io::parse_utc("2026-12-08T10:00:00Z");
  const RunStatus s = running("2026-12-08T10:00:00Z");
  EXPECT_EQ(gnas::io::view_status(s, t0 + 1800, 1800, "here").label, "running");  // exactly at the limit
  const auto late = gnas::io::view_status(s, t0 + 1801 + 30 * 60, 1800, "here");
  EXPECT_EQ(late.label, "running or died");
  EXPECT_EQ(late.reason, "nothing logged for 60 min");
  // A time that cannot be read is no evidence of silence.
  EXPECT_EQ(gnas::io::view_status(running("yesterday"), t0 + 100000, 1800, "here").label, "running");
  // Ended runs are shown as they ended, with their reason, however old.
  RunStatus done = running("2026-12-08T10:00:00Z");
  done.status = "stopped", done.reason = "SIGTERM";
  const auto stopped = gnas::io::view_status(done, t0 + 1000000, 1800, "here");
  EXPECT_EQ(stopped.label, "stopped");
  EXPECT_EQ(stopped.reason, "SIGTERM");
}

TEST(RunStatusTest, AWriterWhosePidIsGoneOnThisHostHasDied) {
  // A pid that names no process: counted down from the kernel's largest, where new processes
  // rarely land (a reaped child's pid could be taken again by a busy machine).
  long max_pid = 32768;
  std::ifstream("/proc/sys/kernel/pid_max") >> max_pid;
  pid_t child = pid_t(max_pid - 1);
  while (child > 1 && !(::kill(child, 0) != 0 && errno == ESRCH)) --child;
  ASSERT_GT(child, 1);
  const auto now = gnas::io::parse_utc("2026-12-08T10:00:10Z");
  RunStatus s = running("2026-12-08T10:00:00Z");  // logged 10 s ago: not silent
  RunSegment g;
  g.host = gnas::io::host_name();
  g.pid = long(child);
  s.segments.push_back(g);
  const auto gone = gnas::io::view_status(s, now, 1800, gnas::io::host_name());
  EXPECT_EQ(gone.label, "running or died");
  EXPECT_EQ(gone.reason, "its process (pid " + std::to_string(child) + " on " + g.host + ") is gone");
  // On another host the pid means nothing here: only the silence counts.
  EXPECT_EQ(gnas::io::view_status(s, now, 1800, "another-host").label, "running");
  // This process is alive.
  s.segments.back().pid = long(::getpid());
  EXPECT_EQ(gnas::io::view_status(s, now, 1800, gnas::io::host_name()).label, "running");
}

TEST(RunStatusTest, AResumeMarksTheSegmentThatNeverEndedAsDiedAtItsLastSignOfLife) {
  RunSegment first;
  first.started_at = "2026-12-08T10:00:00Z";
  first.epochs_at_start = 0;
  auto s = gnas::io::begin_run(std::nullopt, "search", first, 10);
  EXPECT_EQ(s.status, "running");
  EXPECT_EQ(s.epochs_planned, 10);
  s.updated_at = "2026-12-08T11:00:00Z";  // its last epoch's end; then it was killed
  s.epochs_done = 4;
  RunSegment second;
  second.started_at = "2026-12-08T12:00:00Z";
  second.epochs_at_start = 4;
  s.status = "running";
  const auto resumed = gnas::io::begin_run(s, "search", second, 10);
  ASSERT_EQ(resumed.segments.size(), 2u);
  EXPECT_EQ(resumed.segments[0].end, "died");
  EXPECT_EQ(resumed.segments[0].ended_at, "2026-12-08T11:00:00Z");
  EXPECT_EQ(resumed.segments[1].ended_at, "");
  EXPECT_EQ(resumed.updated_at, "2026-12-08T12:00:00Z");
  EXPECT_EQ(resumed.epochs_done, 4);
  // Through status.json and back: the same status.
  const auto again = gnas::io::run_status_from_json(gnas::io::to_json(resumed), "status.json");
  EXPECT_EQ(gnas::io::to_json(again), gnas::io::to_json(resumed));
  EXPECT_EQ(again.segments[0].end, "died");
}

}  // namespace
