// Reliability of the gnas executable where users meet faults: concurrent writers, damaged
// checkpoints and logs, changed options on resume, SIGKILL, a full disk, srun without PMI.
// Every test runs real processes on real files; docs/reliability.md lists them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/h5_reader.h"
#include "support/process.h"
#include "support/search_log_checks.h"

namespace {

using gnas::testing::H5;
using gnas::testing::kTiny;
using gnas::testing::Result;

std::string gnas() { return gnas::testing::gnas_exe(); }
Result run(const std::string& args) { return gnas::testing::run_shell(gnas() + " " + args); }
Result shell(const std::string& script) { return gnas::testing::run_shell("bash -c '" + script + "'"); }
std::string temp_dir() { return gnas::testing::make_temp_dir("gnas_rel"); }
/// kTiny with another epoch count.
std::string tiny_epochs(int epochs) {
  std::string t = kTiny;
  const std::string from = "--train.epochs 2";
  return t.replace(t.find(from), from.size(), "--train.epochs " + std::to_string(epochs));
}
bool exists(const std::string& path) { return std::ifstream(path).good(); }
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// An uninterrupted tiny search: the reference the interrupted runs must equal.
std::string reference_run(const std::string& base) {
  const std::string out = base + "/reference";
  const Result r = run("search --out " + out + kTiny);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return out;
}

/// A tiny search stopped by SIGTERM in epoch 2 (step 4): latest.pt is mid-epoch 2, previous.pt the
/// end of epoch 1.
void interrupted_run(const std::string& out) {
  const Result r = run("search --out " + out + " --debug.stop_after_steps 12" + kTiny);
  ASSERT_EQ(r.exit_code, 3) << r.output;
  ASSERT_TRUE(exists(out + "/checkpoints/latest.pt") && exists(out + "/checkpoints/previous.pt"));
}

void expect_same_log(const std::string& a, const std::string& b) {
  const H5 ha(a + "/log.h5"), hb(b + "/log.h5");
  ASSERT_GE(hb.file, 0) << b;
  EXPECT_EQ(ha.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE), hb.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE));
  EXPECT_EQ(ha.read<double>("/epoch/best_full_val_acc", H5T_NATIVE_DOUBLE),
            hb.read<double>("/epoch/best_full_val_acc", H5T_NATIVE_DOUBLE));
  EXPECT_EQ(ha.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8),
            hb.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8));
  EXPECT_EQ(ha.read<float>("/ga/population/fitness", H5T_NATIVE_FLOAT),
            hb.read<float>("/ga/population/fitness", H5T_NATIVE_FLOAT));
  EXPECT_EQ(ha.read<int>("/epoch/n_new", H5T_NATIVE_INT), hb.read<int>("/epoch/n_new", H5T_NATIVE_INT));
}

// A second process on a live run directory (with --force, or with --resume) is refused with the
// holder's host and PID; the live run is unharmed and resumable once it has ended.
TEST(RunDirectoryTest, SecondWriterIsRefused) {
  const std::string d = temp_dir() + "/run";
  const std::string tiny = kTiny;
  const Result r = shell(
      gnas() + " search --out " + d + tiny_epochs(40) + " > " + d + ".first 2>&1 & pid=$!; "
      "for i in $(seq 600); do [ -f " + d + "/checkpoints/latest.pt ] && break; sleep 0.1; done; "
      "echo \"holder pid $pid\"; " +
      gnas() + " search --force --out " + d + tiny + "; echo \"force_rc=$?\"; " +
      gnas() + " search --resume --out " + d + " --no-progress; echo \"resume_rc=$?\"; "
      "kill -TERM $pid; wait $pid; echo \"first_rc=$?\"");
  const auto pid_at = r.output.find("holder pid ");
  ASSERT_NE(pid_at, std::string::npos) << r.output;
  const std::string pid = r.output.substr(pid_at + 11, r.output.find('\n', pid_at) - pid_at - 11);
  EXPECT_CONTAINS(r.output, "force_rc=1");
  EXPECT_CONTAINS(r.output, "resume_rc=1");
  EXPECT_CONTAINS(r.output, "run directory '" + d + "' is in use by another gnas process (host ");
  EXPECT_CONTAINS(r.output, ", pid " + pid + ", since ");
  EXPECT_CONTAINS(r.output, "first_rc=3");  // the live run checkpointed on SIGTERM, untouched
  const Result again = run("search --resume --out " + d + " --no-progress --train.epochs 3");
  EXPECT_EQ(again.exit_code, 0) << again.output;  // the lock went with the process
}

// A start that fails a check (bad data, option or split) creates nothing at all.
TEST(RunDirectoryTest, FailedStartCreatesNothing) {
  const std::string base = temp_dir();
  for (const std::string& bad : {" --data " + base + "/missing", std::string(" --search.n_v 500"),
                                std::string(" --train.batch 100000"), std::string(" --ga.population 1")}) {
    const Result r = run("search --out " + base + "/new/run" + kTiny + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_FALSE(exists(base + "/new")) << bad << " created the run directory:\n" << r.output;
  }
}

// --force leaves nothing of the old run that could be mistaken for the new one's.
TEST(RunDirectoryTest, ForceRemovesTheOldRun) {
  const std::string d = temp_dir() + "/run";
  ASSERT_EQ(run("search --out " + d + kTiny).exit_code, 0);
  ASSERT_TRUE(exists(d + "/best_genome.json") && exists(d + "/checkpoints/previous.pt"));
  // The new run stops at step 2, before writing a best genome or a second checkpoint.
  const Result r = run("search --force --out " + d + " --debug.stop_after_steps 2" + kTiny);
  ASSERT_EQ(r.exit_code, 3) << r.output;
  EXPECT_FALSE(exists(d + "/best_genome.json"));
  EXPECT_FALSE(exists(d + "/cells.dot"));
  EXPECT_FALSE(exists(d + "/checkpoints/previous.pt"));
  EXPECT_TRUE(exists(d + "/checkpoints/latest.pt"));
  const Result e = run("export --genome " + d);
  EXPECT_NE(e.exit_code, 0) << "export found an old genome:\n" << e.output;
  const H5 h(d + "/log.h5");
  EXPECT_EQ(h.shape("/epoch/train_loss"), std::vector<hsize_t>({0}));
}

// Bytes changed inside latest.pt's tensors: the checksum catches it, previous.pt is used with a
// warning, and the resumed run equals an uninterrupted one.
TEST(CheckpointTest, CorruptedPayloadFallsBackToPrevious) {
  const std::string base = temp_dir();
  const std::string ref = reference_run(base), d = base + "/run";
  interrupted_run(d);
  std::string bytes = slurp(d + "/checkpoints/latest.pt");
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8; ++i) bytes[i] = char(bytes[i] ^ 0x5a);
  std::ofstream(d + "/checkpoints/latest.pt", std::ios::binary | std::ios::trunc) << bytes;
  const Result r = run("search --resume --out " + d + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "latest.pt: checksum mismatch, the file is damaged");
  EXPECT_CONTAINS(r.output, "resumed from " + d + "/checkpoints/previous.pt instead");
  EXPECT_CONTAINS(r.output, "kept " + d + "/checkpoints/latest.pt as " + d + "/checkpoints/latest.pt.damaged-");
  expect_same_log(ref, d);
  // The damaged file did not become previous.pt at the next save: both checkpoints still load.
  const Result again = run("search --resume --out " + d + " --train.epochs 3 --no-progress --debug.stop_after_steps 1");
  EXPECT_EQ(again.exit_code, 3) << again.output;
  ASSERT_EQ(std::remove((d + "/checkpoints/latest.pt").c_str()), 0);
  const Result from_previous = run("search --resume --out " + d + " --train.epochs 3 --no-progress");
  EXPECT_EQ(from_previous.exit_code, 0) << from_previous.output;
  // A truncated checkpoint is caught too, before torch reads it.
  std::string cut = slurp(d + "/checkpoints/latest.pt");
  std::ofstream(d + "/checkpoints/latest.pt", std::ios::binary | std::ios::trunc) << cut.substr(0, cut.size() - 100);
  std::ofstream(d + "/checkpoints/previous.pt", std::ios::binary | std::ios::trunc) << cut.substr(0, 100);
  const Result t = run("search --resume --out " + d + " --no-progress");
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_CONTAINS(t.output, "not a sealed gnas file");
  EXPECT_CONTAINS(t.output, "no usable checkpoint");
}

// A deleted log.h5, or one that HDF5 cannot read, does not block a resume: the checkpoint carries
// the rows, the log is rebuilt (a damaged one kept aside), and the result equals an uninterrupted run.
TEST(CheckpointTest, ResumeRebuildsADeletedOrDamagedLog) {
  const std::string base = temp_dir();
  const std::string ref = reference_run(base);
  const std::string deleted = base + "/deleted", damaged = base + "/damaged";
  interrupted_run(deleted);
  interrupted_run(damaged);
  ASSERT_EQ(std::remove((deleted + "/log.h5").c_str()), 0);
  std::ofstream(damaged + "/log.h5", std::ios::binary | std::ios::trunc) << "this is not HDF5";
  Result r = run("search --resume --out " + deleted + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, deleted + "/log.h5 is missing; rebuilding it from the checkpoint (1 epochs, 2 generations)");
  expect_same_log(ref, deleted);
  r = run("search --resume --out " + damaged + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, damaged + "/log.h5 cannot be read; kept it as " + damaged + "/log.h5.damaged-");
  expect_same_log(ref, damaged);
  gnas::testing::check_search_log(damaged + "/log.h5", {});
  const Result ls = shell("ls " + damaged + " | grep -c log.h5.damaged-");
  EXPECT_EQ(ls.output, "1\n");
}

// A changed shape option on --resume is refused before anything is written (config.ini and the
// checkpoints stay byte-identical, a plain --resume still works); a changed hyperparameter is
// accepted with a warning and recorded in the log.
TEST(ResumeTest, ShapeChangesAreRefusedBeforeAnyWrite) {
  const std::string d = temp_dir() + "/run";
  interrupted_run(d);
  const std::string config = slurp(d + "/config.ini"), latest = slurp(d + "/checkpoints/latest.pt");
  Result r = run("search --resume --out " + d + " --net.channels 6 --ga.population 5 --no-progress");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--resume cannot change the shape of a run: --ga.population 4 -> 5, --net.channels 4 -> 6");
  EXPECT_EQ(r.output.find("c10::Error"), std::string::npos) << r.output;
  EXPECT_EQ(slurp(d + "/config.ini"), config);
  EXPECT_EQ(slurp(d + "/checkpoints/latest.pt"), latest);
  // A --config file on --resume changes only what it names: the run's own config.ini stays underneath.
  std::ofstream(d + ".lr.ini") << "[train]\nlr = 0.05\n";
  r = run("search --resume --out " + d + " --config " + d + ".lr.ini --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "WARN: --resume with changed options: --train.lr 0.1 -> 0.05");
  const H5 h(d + "/log.h5");
  const std::string history = h.attr_string("resume_history");
  EXPECT_CONTAINS(history, " resumed from " + d + "/checkpoints/latest.pt at epoch 2 step 4 on 1 rank(s); changed: "
                           "--train.lr 0.1 -> 0.05");
  EXPECT_CONTAINS(slurp(d + "/config.ini"), "lr = 0.05");
  // Resuming a finished run says so and records no resume.
  r = run("search --resume --out " + d + " --no-progress");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, d + " has completed its 2 epochs: nothing to do (raise --train.epochs to continue it)");
  EXPECT_EQ(H5(d + "/log.h5").attr_string("resume_history"), history);
}

// retrain --resume with another genome than the run's is refused.
TEST(ResumeTest, RetrainResumeWithAnotherGenomeIsRefused) {
  const std::string d = temp_dir() + "/run";
  const std::string tiny = " --net.channels 4 --net.cells 1 --train.epochs 2 --train.batch 32 --data.synthetic_train 256"
                           " --data.synthetic_test 100 --threads 1 --no-progress";
  const std::string a = "'0 1 3 4 2 0 0 1 0 0 1 2 0 0 0 0 0 1 2 1 | 0 1 0 1 0 1 1 2 0 1 0 0 0 1 2 2 0 1 1 1 | "
                        "0 0 4 0 0 0 2 2 0 0 2 2 0 0 2 2 0 0 2 2'";
  const std::string b = "'0 1 3 4 2 0 0 1 0 0 1 2 0 0 0 0 0 1 2 1 | 0 1 0 1 0 1 1 2 0 1 0 0 0 1 2 2 0 1 1 1 | "
                        "0 0 4 0 0 0 2 2 0 0 2 2 0 0 2 2 0 0 2 3'";
  ASSERT_EQ(run("retrain --genome " + a + " --out " + d + " --debug.stop_after_steps 3" + tiny).exit_code, 3);
  Result r = run("retrain --resume --genome " + b + " --out " + d + " --no-progress");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--resume --genome: '" + d + "' trains 0 1 3 4");
  r = run("retrain --resume --genome " + a + " --out " + d + " --no-progress");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// SIGKILL mid-run: the analysis reads the log as it was left (SWMR), and --resume finishes the run.
TEST(CheckpointTest, KilledRunIsReadableAndResumes) {
  const char* analysis = exists(GNAS_ANALYSIS_PATH) ? GNAS_ANALYSIS_PATH : nullptr;  // absent without h5py
  const std::string d = temp_dir() + "/run";
  const Result k = shell(gnas() + " search --out " + d + tiny_epochs(3) + " > /dev/null 2>&1 & pid=$!; "
                         "for i in $(seq 600); do [ -f " + d + "/checkpoints/latest.pt ] && break; sleep 0.1; done; "
                         "sleep 1; kill -KILL $pid; wait $pid; echo \"rc=$?\"");
  EXPECT_CONTAINS(k.output, "rc=137");
  if (analysis) {
    const Result a = gnas::testing::run_shell(std::string(analysis) + " " + d + " --out " + d + "/figures");
    EXPECT_EQ(a.exit_code, 0) << a.output;
    EXPECT_TRUE(exists(d + "/figures/search_training.png")) << a.output;
  }
  // The killed process never wrote its end: the status still reads running, and the tools say
  // that its process is gone.
  EXPECT_CONTAINS(slurp(d + "/status.json"), "\"status\": \"running\"");
  const Result listed = run("runs " + d);
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_CONTAINS(listed.output, "running or died");
  EXPECT_CONTAINS(listed.output, "is gone");
  // A process that fails before opening the directory (no --resume) leaves that status alone.
  const std::string before = slurp(d + "/status.json");
  EXPECT_EQ(run("search --out " + d + kTiny).exit_code, 2);
  EXPECT_EQ(slurp(d + "/status.json"), before);
  const Result r = run("search --resume --out " + d + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  gnas::testing::SearchLogShape shape;
  shape.epochs = 3;
  gnas::testing::check_search_log(d + "/log.h5", shape);
  // The resume appended a segment and marked the killed one as died.
  const std::string status = slurp(d + "/status.json");
  EXPECT_CONTAINS(status, "\"end\": \"died\"");
  EXPECT_CONTAINS(status, "\"status\": \"finished\"");
  EXPECT_EQ(H5(d + "/log.h5").attr_string("status"), "finished");
  if (!analysis) GTEST_SKIP() << GNAS_ANALYSIS_PATH << " was not generated (no Python with h5py): the log was not read after the kill";
}

/// The value of a top-level "key" in status.json text (strings and integers only).
std::string status_field(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) return "<missing>";
  std::size_t b = at + key.size() + 4;
  if (json[b] == '"') return json.substr(b + 1, json.find('"', b + 1) - b - 1);
  return json.substr(b, json.find_first_of(",\n", b) - b);
}

// The status of each way a run ends, in status.json, the log and gnas runs: finished; stopped by
// SIGTERM then resumed (two segments); failed with the error; (killed: KilledRunIsReadableAndResumes).
TEST(RunStatusTest, FinishedStoppedResumedAndFailed) {
  const std::string base = temp_dir();
  const std::string done = base + "/done";
  ASSERT_EQ(run("search --out " + done + kTiny).exit_code, 0);
  std::string st = slurp(done + "/status.json");
  EXPECT_EQ(status_field(st, "status"), "finished");
  EXPECT_EQ(status_field(st, "epochs_done"), "2");
  EXPECT_EQ(status_field(st, "epochs_planned"), "2");
  EXPECT_EQ(status_field(st, "command"), "search");
  EXPECT_CONTAINS(st, "\"end\": \"finished\"");
  EXPECT_CONTAINS(st, "\"device\": \"cpu\"");
  {
    const H5 h(done + "/log.h5");
    EXPECT_EQ(h.attr_string("status"), "finished");
    EXPECT_EQ(h.attr_string("status_reason"), "");
    EXPECT_EQ(h.attr_string("device"), "cpu");
    EXPECT_NE(h.attr_string("git_commit"), "");
  }

  const std::string stopped = base + "/stopped";
  interrupted_run(stopped);
  st = slurp(stopped + "/status.json");
  EXPECT_EQ(status_field(st, "status"), "stopped");
  EXPECT_CONTAINS(status_field(st, "reason"), "SIGTERM");
  EXPECT_CONTAINS(status_field(st, "reason"), "--resume");
  EXPECT_EQ(status_field(st, "epochs_done"), "1");
  EXPECT_EQ(H5(stopped + "/log.h5").attr_string("status"), "stopped");
  Result listed = run("runs " + stopped);
  EXPECT_CONTAINS(listed.output, "stopped");
  EXPECT_CONTAINS(listed.output, "1/2");
  const Result resumed = run("search --resume --out " + stopped + " --no-progress");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  st = slurp(stopped + "/status.json");
  EXPECT_EQ(status_field(st, "status"), "finished");
  EXPECT_CONTAINS(st, "\"end\": \"stopped\"");
  EXPECT_CONTAINS(st, "\"epochs_at_start\": 1");  // the second segment began after epoch 1
  EXPECT_EQ(H5(stopped + "/log.h5").attr_int("epochs_done"), 2);

  const std::string failed = base + "/failed";
  const Result f = run("search --out " + failed + " --train.lr 1e5" + std::string(kTiny));
  EXPECT_EQ(f.exit_code, 1) << f.output;
  st = slurp(failed + "/status.json");
  EXPECT_EQ(status_field(st, "status"), "failed");
  EXPECT_CONTAINS(status_field(st, "reason"), "the training loss is not finite");
  EXPECT_CONTAINS(st, "\"end\": \"failed\"");
  EXPECT_EQ(H5(failed + "/log.h5").attr_string("status"), "failed");

  // An error before the directory is opened leaves the finished run's status alone.
  EXPECT_EQ(run("search --out " + done + kTiny).exit_code, 2);
  EXPECT_EQ(status_field(slurp(done + "/status.json"), "status"), "finished");

  listed = run("runs --csv " + base);
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_CONTAINS(listed.output, "done,");
  EXPECT_CONTAINS(listed.output, ",finished,");
  EXPECT_CONTAINS(listed.output, ",failed,");
  EXPECT_CONTAINS(listed.output, ",train.lr,");  // the one key that differs
}

// A running run on another host that logged nothing for longer than --stale-after reads "running
// or died"; within it, "running". Edits the host and time of a finished run's status.
TEST(RunStatusTest, SilentRunOnAnotherHostReadsRunningOrDied) {
  const std::string d = temp_dir() + "/run";
  ASSERT_EQ(run("search --out " + d + kTiny).exit_code, 0);
  std::string st = slurp(d + "/status.json");
  auto set = [&](const std::string& key, const std::string& value) {
    const auto at = st.find("\"" + key + "\": \"");
    ASSERT_NE(at, std::string::npos) << key;
    const auto b = at + key.size() + 5;
    st.replace(b, st.find('"', b) - b, value);
  };
  set("status", "running");
  set("ended_at", "");
  set("host", "another-host");
  set("updated_at", "2020-01-01T00:00:00Z");
  std::ofstream(d + "/status.json") << st;
  Result r = run("runs " + d);
  EXPECT_CONTAINS(r.output, "running or died");
  EXPECT_CONTAINS(r.output, "nothing logged for");
  r = run("runs --stale-after 100000000 " + d);
  EXPECT_EQ(r.output.find("running or died"), std::string::npos) << r.output;
  EXPECT_CONTAINS(r.output, "running");
  // The rule is the writer's, from status.json: 10 minutes of silence is "running" under gnas's
  // 30-minute rule, and "running or died" under a rule of 5 minutes.
  char ten_min_ago[32];
  const std::time_t t = std::time(nullptr) - 600;
  std::strftime(ten_min_ago, sizeof ten_min_ago, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  set("updated_at", ten_min_ago);
  EXPECT_CONTAINS(st, "\"stale_rule\": {\n    \"longest_epochs\": 3.0,\n    \"min_s\": 1800.0\n  }");
  std::ofstream(d + "/status.json") << st;
  r = run("runs --csv " + d);
  EXPECT_CONTAINS(r.output, ",search,running,,");
  const std::string from = "\"min_s\": 1800.0";
  st.replace(st.find(from), from.size(), "\"min_s\": 300.0");
  std::ofstream(d + "/status.json") << st;
  r = run("runs --csv " + d);
  EXPECT_CONTAINS(r.output, ",search,running or died,nothing logged for 10 min,");
}

// gnas runs: unique names for same-named directories, the differing keys, and bad input.
TEST(RunsTest, NamesKeysAndBadInput) {
  const std::string base = temp_dir();
  ASSERT_EQ(run("search --out " + base + "/a/run --ga.p_m 0.05" + kTiny).exit_code, 0);
  ASSERT_EQ(run("search --out " + base + "/b/run --seed 7" + kTiny).exit_code, 0);
  Result r = run("runs " + base + "/a/run " + base + "/b/run");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "a/run ");
  EXPECT_CONTAINS(r.output, "b/run ");
  EXPECT_CONTAINS(r.output, "ga.p_m");
  EXPECT_EQ(r.output.find("ga.population"), std::string::npos) << "equal keys are not columns:\n" << r.output;
  r = run("runs --csv " + base);
  const std::string header = r.output.substr(0, r.output.find('\n'));
  EXPECT_EQ(header, "run,path,command,status,reason,epochs_done,epochs_planned,seed,strategy,ga.p_m,best_fitness,"
                    "best_val,test_acc,wall_s,best_genome");
  EXPECT_CONTAINS(r.output, "a/run," + base + "/a/run,search,finished,,2,2,1,ga,0.05,");
  EXPECT_CONTAINS(r.output, "b/run," + base + "/b/run,search,finished,,2,2,7,ga,0.02,");

  // A log copied without its status.json: the status the log recorded.
  ASSERT_EQ(shell("mkdir -p " + base + "/copy && cp " + base + "/b/run/log.h5 " + base + "/copy/").exit_code, 0);
  r = run("runs --csv " + base + "/copy");
  EXPECT_CONTAINS(r.output, "copy," + base + "/copy,search,finished,,2,2,7,ga,");

  // A newline in a run directory's name: quoted in the table view (it split the row before issue
  // 29), quoted as CSV in --csv.
  ASSERT_EQ(shell("mkdir -p " + base + "/nl && cp -r " + base + "/b/run \"" + base + "/nl/new\nline\"").exit_code, 0);
  r = run("runs " + base + "/nl");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "\"new\\nline\"");
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2) << "a header and one row:\n" << r.output;
  r = run("runs --csv " + base + "/nl");
  EXPECT_CONTAINS(r.output, "\n\"new\nline\",\"" + base + "/nl/new\nline\",search,");

  // `threads` changes a run's last digits: two runs that differ only in it show a threads column
  // (issue 31), though it is an operational key.
  ASSERT_EQ(shell("mkdir -p " + base + "/thr && cp -r " + base + "/b/run " + base + "/thr/one && cp -r " + base +
                  "/b/run " + base + "/thr/two && sed -i \"s/^threads = .*/threads = 2/\" " + base + "/thr/two/config.ini")
                .exit_code,
            0);
  r = run("runs --csv " + base + "/thr");
  EXPECT_CONTAINS(r.output.substr(0, r.output.find('\n')), ",seed,strategy,threads,");
  EXPECT_CONTAINS(r.output, ",7,ga,1,");  // b/run has seed 7
  EXPECT_CONTAINS(r.output, ",7,ga,2,");

  // A log.h5 path names its run; a run listed twice (also through its parent) is one row.
  r = run("runs --csv " + base + "/b/run/log.h5 " + base + "/b/run " + base + "/b");
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2) << r.output;
  r = run("runs " + base + "/missing");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.output, "no such file or directory");
  r = run("runs " + base + "/b/run/config.ini");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.output, "is not a run directory");
  r = run("runs " + temp_dir());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.output, "holds no gnas run");
  // Damaged metadata inside a valid file: an SWMR reader used to retry each bad checksum for
  // minutes (over 60 s on this file); now a moment.
  {
    const std::string log = base + "/b/run/log.h5";
    std::string bytes = slurp(log);
    // Metadata for certain: the object headers ("OHDR", checksummed) of the middle third of the
    // file's objects, whatever the log's layout (flipping the file's middle bytes hit raw data once
    // the log grew datasets).
    std::vector<std::size_t> headers;
    for (auto at = bytes.find("OHDR"); at != std::string::npos; at = bytes.find("OHDR", at + 4)) headers.push_back(at);
    ASSERT_GE(headers.size(), 6u);
    for (std::size_t h = headers.size() / 3; h < 2 * headers.size() / 3; ++h)
      for (std::size_t i = headers[h] + 4; i < std::min(bytes.size(), headers[h] + 40); ++i) bytes[i] = char(~bytes[i]);
    ASSERT_EQ(shell("mkdir -p " + base + "/flipped").exit_code, 0);
    std::ofstream(base + "/flipped/log.h5", std::ios::binary) << bytes;
  }
  r = gnas::testing::run_shell("timeout 60 " + gnas() + " runs --csv " + base + "/flipped");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_LT(r.seconds, 30.0);
  EXPECT_CONTAINS(r.output, ",unreadable,");
  std::ofstream(base + "/a/run/log.h5", std::ios::trunc) << "damaged";
  r = run("runs --csv " + base);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, ",unreadable," + base + "/a/run/log.h5: not a readable HDF5 file,");  // the reason column
  EXPECT_CONTAINS(r.output, "b/run,");  // the other run is still listed
}

/// Special files where a run's files belong (attack cases: a status.json that is /dev/zero used
/// 23 GB; a FIFO as log.h5 or status.json hung `gnas runs`). Only regular files are read: each run
/// is listed as unreadable with the reason, in a moment, and the other runs still are.
TEST(RunsTest, SpecialFilesAreNamedNotRead) {
  const std::string base = temp_dir();
  ASSERT_EQ(run("search --out " + base + "/good" + kTiny).exit_code, 0);
  for (const char* name : {"fifo_status", "zero_status", "fifo_log"})
    ASSERT_EQ(shell("cp -r " + base + "/good " + base + "/" + name).exit_code, 0);
  ASSERT_EQ(shell("cd " + base + " && rm fifo_status/status.json && mkfifo fifo_status/status.json && "
                  "rm zero_status/status.json && ln -s /dev/zero zero_status/status.json && "
                  "rm fifo_log/log.h5 && mkfifo fifo_log/log.h5").exit_code, 0);
  const Result r = gnas::testing::run_shell("timeout 60 " + gnas() + " runs --csv " + base);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_LT(r.seconds, 20.0);
  EXPECT_CONTAINS(r.output, "fifo_status," + base + "/fifo_status,search,unreadable,'" + base +
                                "/fifo_status/status.json' is not a regular file (a FIFO)");
  EXPECT_CONTAINS(r.output, "zero_status," + base + "/zero_status,search,unreadable,'" + base +
                                "/zero_status/status.json' is not a regular file (a device)");
  EXPECT_CONTAINS(r.output, "fifo_log," + base + "/fifo_log,search,unreadable,'" + base +
                                "/fifo_log/log.h5' is not a regular file (a FIFO)");
  EXPECT_CONTAINS(r.output, "good," + base + "/good,search,finished,");
}

// Checkpoints copied from another run (attack N27) resumed it silently under this run's name: the
// log became the other run's while config.ini kept this one's seed. Each run has an id, kept in its
// checkpoints, status.json and log; a checkpoint of another run is refused before anything is
// written. A whole run directory copied elsewhere still resumes, and an accepted change of the
// seed on resume is the log's seed attribute from then on.
TEST(ResumeTest, ACheckpointOfAnotherRunIsRefused) {
  const std::string base = temp_dir();
  ASSERT_EQ(run("search --out " + base + "/a --seed 11 --debug.stop_after_steps 12" + kTiny).exit_code, 3);
  ASSERT_EQ(run("search --out " + base + "/b --seed 22 --debug.stop_after_steps 12" + kTiny).exit_code, 3);
  const std::string status_a = slurp(base + "/a/status.json"), status_b = slurp(base + "/b/status.json");
  const auto id_of = [](const std::string& status) {
    const std::string key = "\"run_id\": \"";
    const auto at = status.find(key);
    return at == std::string::npos ? std::string() : status.substr(at + key.size(), 32);
  };
  ASSERT_EQ(id_of(status_a).size(), 32u) << status_a;
  EXPECT_NE(id_of(status_a), id_of(status_b));
  EXPECT_EQ(H5(base + "/a/log.h5").attr_string("run_id"), id_of(status_a));

  ASSERT_EQ(shell("rm -r " + base + "/b/checkpoints && cp -r " + base + "/a/checkpoints " + base + "/b/").exit_code, 0);
  const std::string log_b = slurp(base + "/b/log.h5"), config_b = slurp(base + "/b/config.ini");
  const Result refused = run("search --resume --out " + base + "/b --seed 22" + kTiny);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_CONTAINS(refused.output, "--resume: " + base + "/b/checkpoints/latest.pt belongs to another run (run " +
                                      id_of(status_a) + ", seed 11, started ");
  EXPECT_CONTAINS(refused.output, ") than " + base + "/b (run " + id_of(status_b));
  EXPECT_CONTAINS(refused.output, "copy its whole directory");
  EXPECT_EQ(slurp(base + "/b/status.json"), status_b);
  EXPECT_EQ(slurp(base + "/b/log.h5"), log_b);
  EXPECT_EQ(slurp(base + "/b/config.ini"), config_b);

  ASSERT_EQ(shell("cp -r " + base + "/a " + base + "/a_copy").exit_code, 0);
  const Result copied = run("search --resume --out " + base + "/a_copy --seed 12" + kTiny);
  EXPECT_EQ(copied.exit_code, 0) << copied.output;
  EXPECT_CONTAINS(copied.output, "--resume with changed options: --seed 11 -> 12");
  const H5 h(base + "/a_copy/log.h5");
  EXPECT_EQ(h.attr_string("run_id"), id_of(status_a));
  EXPECT_EQ(h.read_attr_u64("seed"), 12u);
  EXPECT_EQ(id_of(slurp(base + "/a_copy/status.json")), id_of(status_a));

  // --resume where there is nothing to resume but files: the message says what starts it over.
  ASSERT_EQ(shell("mkdir -p " + base + "/c && cp " + base + "/a/config.ini " + base + "/c/").exit_code, 0);
  const Result nothing = run("search --resume --out " + base + "/c" + kTiny);
  EXPECT_EQ(nothing.exit_code, 2) << nothing.output;
  EXPECT_CONTAINS(nothing.output, "has no checkpoints/ to resume from (start it again with --force instead of --resume)");
}

// A tree with an unreadable run directory and an unreadable config.ini (attack N7: "Permission
// denied", exit 1, no rows at all): every readable run is listed, the unreadable ones are named with
// the reason, and the exit code says the listing is incomplete. Root reads everything, so as root
// the command runs without the capabilities that override file permissions (setpriv).
TEST(RunsTest, UnreadableDirectoriesAreNamedAndTheRestListed) {
  const std::string base = temp_dir();
  ASSERT_EQ(run("search --out " + base + "/good" + kTiny).exit_code, 0);
  ASSERT_EQ(shell("cp -r " + base + "/good " + base + "/closed && cp -r " + base + "/good " + base + "/noconfig && "
                  "mkdir -p " + base + "/deeper && cp -r " + base + "/good " + base + "/deeper/hidden && "
                  "chmod 000 " + base + "/closed " + base + "/noconfig/config.ini " +
                  base + "/deeper").exit_code, 0);
  std::string as_user;
  if (::geteuid() == 0) {
    as_user = "setpriv --bounding-set=-dac_override,-dac_read_search ";
    const Result probe = gnas::testing::run_shell(as_user + "true");
    ASSERT_EQ(probe.exit_code, 0) << "setpriv (util-linux) must drop capabilities here: " << probe.output;
  }
  const Result r = gnas::testing::run_shell(as_user + gnas() + " runs --csv " + base);
  shell("chmod -R u+rwX " + base);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, "good," + base + "/good,search,finished,");
  EXPECT_CONTAINS(r.output, "closed," + base + "/closed,,unreadable,cannot read the directory: Permission denied");
  EXPECT_CONTAINS(r.output, "deeper," + base + "/deeper,,unreadable,cannot read the directory: Permission denied");
  EXPECT_CONTAINS(r.output, "noconfig," + base + "/noconfig,search,unreadable,cannot read '" + base +
                                "/noconfig/config.ini': Permission denied");
  EXPECT_EQ(r.output.find("hidden"), std::string::npos) << r.output;
}

// A full disk while writing a checkpoint: a clear error, exit 1, no temporary file, and the last
// good checkpoint intact (a copy of the run resumes elsewhere). Needs a small tmpfs.
TEST(CheckpointTest, DiskFullKeepsTheLastGoodCheckpoint) {
  const std::string mnt = temp_dir();
  // The size of one checkpoint of this run, from the same run elsewhere: the tmpfs holds one
  // and a half, so the first fits and the second does not fit beside it.
  const std::string probe = temp_dir() + "/probe";
  ASSERT_EQ(run("search --out " + probe + kTiny).exit_code, 0);
  struct stat st {};
  ASSERT_EQ(::stat((probe + "/checkpoints/latest.pt").c_str(), &st), 0);
  const long kib = long(st.st_size) * 3 / 2 / 1024 + 64;
  const Result m = gnas::testing::run_shell("mount -t tmpfs -o size=" + std::to_string(kib) + "k tmpfs " + mnt);
  if (m.exit_code != 0) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root): " << m.output;
  const Result r = run("search --out " + mnt + "/run" + kTiny);
  const Result files = gnas::testing::run_shell("ls -a " + mnt + "/run/checkpoints");
  const bool latest_intact = run("export --genome " + mnt + "/run --format text").exit_code == 0;
  gnas::testing::run_shell("mkdir -p " + mnt + ".copy && cp -r " + mnt + "/run " + mnt + ".copy/");
  gnas::testing::run_shell("umount " + mnt);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, "No space left on device (the disk is full)");
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  EXPECT_EQ(files.output.find(".tmp"), std::string::npos) << files.output;
  EXPECT_CONTAINS(files.output, "latest.pt");
  EXPECT_TRUE(latest_intact);
  const Result resumed = run("search --resume --out " + mnt + ".copy/run --no-progress");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_CONTAINS(resumed.output, "resuming " + mnt + ".copy/run from " + mnt + ".copy/run/checkpoints/latest.pt at epoch 2");
}

// `gnas tabular --out` on a full disk (issue 29's attack: the message did not say the disk was
// full, a partial tabular.h5 stayed, and once space was freed the rerun was refused as if a result
// existed). Needs a small tmpfs.
TEST(TabularTest, DiskFullSaysSoLeavesNothingAndTheRerunWorks) {
  const std::string mnt = temp_dir();
  const Result m = gnas::testing::run_shell("mount -t tmpfs -o size=256k tmpfs " + mnt);
  if (m.exit_code != 0) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root): " << m.output;
  // 3 strategies x 2 matrices x 40 runs x 1000 cells of float32: about 1 MB, more than the disk.
  const std::string table = " --table data/nasbench201/nasbench201_cifar10.csv --budget 1000 --seed 3";
  const Result full = run("tabular --runs 40 --out " + mnt + "/t" + table);
  const Result files = gnas::testing::run_shell("ls -a " + mnt + "/t");
  // 2 runs: about 50 KB, which fits.
  const Result rerun = run("tabular --runs 2 --out " + mnt + "/t" + table);
  const Result after = gnas::testing::run_shell("ls -a " + mnt + "/t");
  gnas::testing::run_shell("umount " + mnt);
  EXPECT_EQ(full.exit_code, 1) << full.output;
  EXPECT_CONTAINS(full.output, "(the disk is full)");
  EXPECT_CONTAINS(full.output, "is as it was");
  EXPECT_EQ(files.output.find("tabular.h5"), std::string::npos) << "a partial result was left:\n" << files.output;
  EXPECT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_CONTAINS(after.output, "tabular.h5");
  EXPECT_EQ(after.output.find(".tmp"), std::string::npos) << after.output;
}

// The disk fills up while a search trains (attack N24: a segfault in libhdf5's exit handler, the
// status left "running"). The run must end with exit 1 and status "failed" naming the full disk,
// and its log must stay readable with its GA rows aligned. Needs a small tmpfs.
TEST(RunStatusTest, DiskFullMidRunFailsCleanly) {
  const std::string mnt = temp_dir();
  const Result m = gnas::testing::run_shell("mount -t tmpfs -o size=24m tmpfs " + mnt);
  if (m.exit_code != 0) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root): " << m.output;
  // The disk is filled to the last byte once the first epoch is logged (its GA rows written),
  // while the second trains (3,000 images: several seconds an epoch).
  std::string args = tiny_epochs(3);
  const std::string from = "--data.synthetic_train 256";
  args.replace(args.find(from), from.size(), "--data.synthetic_train 3000");
  const Result r = gnas::testing::run_shell(
      "(" + gnas() + " search --out " + mnt + "/run" + args + " 2>&1; echo \"rc=$?\") & "
      "for i in $(seq 1 1200); do grep -q '\"epochs_done\": 1' " + mnt + "/run/status.json 2>/dev/null && break; "
      "sleep 0.05; done; dd if=/dev/zero of=" + mnt + "/fill bs=64k 2>/dev/null; wait");
  const std::string status = slurp(mnt + "/run/status.json");
  const Result files = gnas::testing::run_shell("ls -a " + mnt + "/run");
  std::vector<std::vector<hsize_t>> shapes;
  bool log_opens = false;
  {
    const H5 h(mnt + "/run/log.h5");
    log_opens = h.file >= 0;
    for (const char* d : {"/ga/generation/genome", "/ga/generation/fitness", "/ga/generation/epoch",
                          "/ga/generation/n_new", "/ga/population/genome", "/ga/population/fitness",
                          "/ga/population/rescored_fitness"})
      if (log_opens) shapes.push_back(h.shape(d));
  }
  gnas::testing::run_shell("umount " + mnt);
  EXPECT_CONTAINS(r.output, "rc=1");
  EXPECT_CONTAINS(r.output, "(the disk is full)");
  EXPECT_CONTAINS(status, "\"status\": \"failed\"");
  EXPECT_CONTAINS(status, "the disk is full");
  EXPECT_EQ(files.output.find(".tmp"), std::string::npos) << files.output;
  EXPECT_EQ(files.output.find(".gnas.reserve"), std::string::npos) << files.output;
  ASSERT_TRUE(log_opens);
  for (const auto& s : shapes) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s[0], shapes[0][0]) << "GA datasets of unequal lengths";
  }
  EXPECT_GE(shapes[0][0], 2u) << "the first epoch's two generations are in the log";
}

// srun without a PMI plugin starts N tasks that each see an MPI world of 1: refused, nothing written.
TEST(LauncherTest, SrunWithoutPmiIsRefused) {
  const std::string d = temp_dir() + "/run";
  const Result r = gnas::testing::run_shell("env SLURM_PROCID=0 SLURM_STEP_NUM_TASKS=2 " + gnas() + " search --out " +
                                            d + kTiny);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "srun started 2 tasks but MPI sees a world of 1");
  EXPECT_CONTAINS(r.output, "srun --mpi=pmix");
  EXPECT_FALSE(exists(d));
}

// evaluate refuses data other than the model's: a synthetic-trained model on CIFAR-10 used to score
// 7-12% without a word.
TEST(EvaluateTest, RefusesAModelOfAnotherDataset) {
  const std::string base = temp_dir();
  const std::string genome = "'0 1 3 4 2 0 0 1 0 0 1 2 0 0 0 0 0 1 2 1 | 0 1 0 1 0 1 1 2 0 1 0 0 0 1 2 2 0 1 1 1 | "
                             "0 0 4 0 0 0 2 2 0 0 2 2 0 0 2 2 0 0 2 2'";
  ASSERT_EQ(run("retrain --genome " + genome + " --out " + base + "/r --net.channels 4 --net.cells 1 --train.epochs 1 "
                "--train.batch 32 --data.synthetic_train 64 --data.synthetic_test 20 --threads 1 --no-progress")
                .exit_code,
            0);
  // A small CIFAR-10 directory in the official format.
  const std::string cifar = base + "/cifar";
  gnas::testing::run_shell("mkdir -p " + cifar);
  for (const char* name : {"data_batch_1.bin", "test_batch.bin"}) {
    std::ofstream f(cifar + "/" + name, std::ios::binary);
    for (int i = 0; i < 20; ++i) f << char(i % 10) << std::string(3072, char(i * 7));
  }
  const Result r = run("evaluate --model " + base + "/r --data " + cifar);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "was trained on synthetic10 but --data '" + cifar + "' is cifar10");
  EXPECT_EQ(run("evaluate --model " + base + "/r").exit_code, 0);
}

}  // namespace
