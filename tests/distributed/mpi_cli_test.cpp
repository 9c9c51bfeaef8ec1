// End-to-end MPI tests: launch `mpirun -np N gnas ...` and check exit codes, messages and logs.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/h5_reader.h"
#include "support/process.h"
#include "support/search_log_checks.h"

namespace {

using gnas::testing::env_or;
using gnas::testing::Result;
using gnas::testing::run_shell;

Result run(const std::string& command) { return run_shell(command); }
std::string mpirun(int np) {
  return gnas::testing::mpiexec() + " --allow-run-as-root --oversubscribe -np " + std::to_string(np) + " ";
}
std::string gnas() { return gnas::testing::gnas_exe(); }
std::string temp_dir() { return gnas::testing::make_temp_dir("gnas_mpi"); }

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

using gnas::testing::H5;
using gnas::testing::kTiny;

TEST(MpiSearchTest, TwoAndThreeRanksStayInSyncAndWriteOneLog) {
  const std::string dir = temp_dir();
  for (int np : {2, 3}) {
    const std::string out = dir + "/np" + std::to_string(np);
    const Result r = run(mpirun(np) + gnas() + " search --debug.check_sync --out " + out + kTiny);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // 2 epochs x 8 steps genome checks + 2 x 2 population checks.
    EXPECT_CONTAINS(r.output, "--debug.check_sync: 20 checks, all " + std::to_string(np) + " rank(s) agreed");
    EXPECT_EQ(count(r.output, "epoch 1/2"), 1) << "INFO lines come from rank 0 only";
    EXPECT_CONTAINS(r.output, "[0/" + std::to_string(np) + "]");
    const H5 h(out + "/log.h5");
    ASSERT_GE(h.file, 0);
    EXPECT_EQ(h.attr_int("world_size"), np);
    EXPECT_EQ(h.shape("/epoch/train_loss"), std::vector<hsize_t>({2}));
    EXPECT_EQ(h.shape("/ga/generation/genome"), std::vector<hsize_t>({4, 6, 60}));
    EXPECT_EQ(h.shape("/ga/population/fitness"), std::vector<hsize_t>({4, 4}));
  }
}

// The whole default run (built-in defaults: 3 epochs x 46 steps, N_p = N_g = 20, 2 generations per
// epoch) under GNAS_TEST_RANKS ranks: every step's genome must leave exactly the allreduced
// parameters with gradients, over many genomes, and the log must pass the one-rank checks.
// Registered once per rank count (CTest sets GNAS_TEST_RANKS); skipped when it is not set.
TEST(MpiDefaultRunTest, WholeDefaultSearchRunsToTheEnd) {
  const char* ranks = std::getenv("GNAS_TEST_RANKS");
  if (!ranks) GTEST_SKIP() << "GNAS_TEST_RANKS is not set (CTest registers this test once per rank count)";
  const int np = std::atoi(ranks);
  const std::string out = temp_dir() + "/default";
  const Result r = run(mpirun(np) + gnas() + " search --out " + out + " > " + out + ".txt 2>&1; rc=$?; cat " + out +
                       ".txt; exit $rc");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "epoch 3/3");
  EXPECT_EQ(count(r.output, "ERROR"), 0) << r.output;
  // Ranks get a pseudo-terminal from mpirun, but the output is a file: plain, timestamped progress
  // lines, no carriage returns.
  EXPECT_EQ(r.output.find('\r'), std::string::npos) << "a carriage-return progress line reached the file";
  EXPECT_CONTAINS(r.output, "Z [0/" + std::to_string(np) + "]   epoch 1/3  step 4/46  loss ");
  gnas::testing::SearchLogShape shape;
  shape.epochs = 3;
  shape.population = 20;
  shape.generation = 20;
  shape.world_size = np;
  shape.steps_per_epoch = 46;  // 3,000 images in batches of 64; a /step row every 4 steps and at step 46
  gnas::testing::check_search_log(out + "/log.h5", shape);
  // Rank 0 recorded the end: finished, on np ranks.
  const Result listed = run(gnas() + " runs --csv " + out);
  EXPECT_CONTAINS(listed.output, ",search,finished,,3,3,1,ga,");
  std::ifstream status_file(out + "/status.json");
  const std::string status((std::istreambuf_iterator<char>(status_file)), {});
  EXPECT_CONTAINS(status, "\"world_size\": " + std::to_string(np));
  EXPECT_CONTAINS(status, "\"end\": \"finished\"");
}

// The same for the NAS-Bench-201 space, with its ground truth and the ranking set (100 cells after
// the last epoch) scored across the ranks. Registered for 1, 2 and 3 ranks.
TEST(MpiDefaultNb201RunTest, WholeDefaultNb201SearchRunsToTheEnd) {
  const char* ranks = std::getenv("GNAS_TEST_RANKS");
  if (!ranks) GTEST_SKIP() << "GNAS_TEST_RANKS is not set (CTest registers this test once per rank count)";
  const int np = std::atoi(ranks);
  const std::string out = temp_dir() + "/nb201";
  const Result r = run(mpirun(np) + gnas() + " search --space nb201 --debug.table_on_synthetic --nb201.table "
                       "data/nasbench201/nasbench201_cifar10.csv --debug.check_sync --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "epoch 3/3");
  EXPECT_CONTAINS(r.output, "all " + std::to_string(np) + " rank(s) agreed");
  EXPECT_CONTAINS(r.output, "NAS-Bench-201 table: the found cell (index ");
  EXPECT_CONTAINS(r.output, "supernet ranking of 100 cells against the table's test_acc (after epoch 3)");
  gnas::testing::SearchLogShape shape;
  shape.epochs = 3;
  shape.population = 20;
  shape.generation = 20;
  shape.world_size = np;
  shape.genome_length = 6;
  shape.n_rank = 100;
  shape.rankings = 1;
  shape.steps_per_epoch = 46;
  gnas::testing::check_search_log(out + "/log.h5", shape);
  const H5 h(out + "/log.h5");
  for (double v : h.read<double>("/epoch/gt_chosen_test", H5T_NATIVE_DOUBLE)) EXPECT_TRUE(v >= 10 && v <= 95) << v;
  const Result listed = run(gnas() + " runs --csv " + out);
  EXPECT_CONTAINS(listed.output, ",search,finished,,3,3,1,ga,");
}

TEST(MpiFailureTest, OneRankThrowingStopsTheJobQuickly) {
  const std::string dir = temp_dir();
  const Result r = run(mpirun(2) + gnas() + " search --debug.fail_rank 1 --debug.fail_after_steps 3 --out " + dir +
                       "/run" + kTiny);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(r.seconds, 30.0);
  EXPECT_CONTAINS(r.output, "injected failure on rank 1");
}

// MPMD launches give rank 1 other options than rank 0 (as different config files per node would):
// refused before any collective that depends on them (they used to corrupt the heap or hang), with
// one error line, and nothing written.
TEST(MpiFailureTest, DifferentConfigsOnDifferentRanksAreRefused) {
  const std::string dir = temp_dir();
  for (const std::string& other :
       {" --out " + dir + "/run --data " + dir + "/missing", " --out " + dir + "/run --ga.p_m 0.05",
        " --out " + dir + "/other"}) {
    const std::string cmd = gnas::testing::mpiexec() + " --allow-run-as-root --oversubscribe -np 1 " +
                            gnas() + " search --out " + dir + "/run" + kTiny + " : -np 1 " + gnas() +
                            " search" + kTiny + other;
    const Result r = run(cmd);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_LT(r.seconds, 30.0);
    EXPECT_EQ(count(r.output, "ERROR"), 1) << r.output;
    EXPECT_CONTAINS(r.output, "[1/2] ERROR: gnas search: rank 1's resolved configuration (options, config files and --out) "
                              "differs from rank 0's");
    EXPECT_FALSE(std::ifstream(dir + "/run/config.ini").good()) << "a refused start wrote the run directory";
    EXPECT_FALSE(std::ifstream(dir + "/other/config.ini").good()) << "a refused start wrote the run directory";
  }
}

// A stopped rank (SIGSTOP) used to hang the job forever: with --dist.timeout the ranks waiting for
// it report the stuck collective and end, the launcher stops the job, and the run resumes later.
TEST(MpiFailureTest, DistTimeoutEndsAJobWithAStoppedRank) {
  const std::string d = temp_dir() + "/run";
  std::string tiny = kTiny;
  tiny.replace(tiny.find("--train.epochs 2"), 16, "--train.epochs 40");
  const std::string script =
      mpirun(2) + gnas() + " search --dist.timeout 5 --out " + d + tiny + " > " + d + ".txt 2>&1 & launcher=$!; "
      "for i in $(seq 600); do [ -f " + d + "/checkpoints/latest.pt ] && break; sleep 0.1; done; "
      "victim=$(pgrep -P $launcher | head -n 1); kill -STOP $victim; echo \"stopped $victim\"; start=$(date +%s); "
      "wait $launcher; echo \"launcher_rc=$? after $(( $(date +%s) - start )) s\"; "
      // mpirun's SIGCONT + SIGTERM wake the stopped rank, which ends by itself (its peer is gone).
      "for i in $(seq 40); do case \"$(ps -o stat= -p $victim)\" in \"\"|Z*) break;; esac; sleep 0.25; done; "
      "case \"$(ps -o stat= -p $victim)\" in \"\"|Z*) ;; *) echo victim_alive; kill -KILL $victim;; esac; "
      "cat " + d + ".txt";
  const Result r = run("bash -c '" + script + "'");
  EXPECT_CONTAINS(r.output, "stopped ");
  EXPECT_EQ(r.output.find("launcher_rc=0 "), std::string::npos) << r.output;
  EXPECT_CONTAINS(r.output, "ERROR: --dist.timeout 5: MPI_");
  EXPECT_CONTAINS(r.output, "for the other ranks (one is stopped, dead or far behind)");
  EXPECT_EQ(r.output.find("victim_alive"), std::string::npos) << "the stopped rank outlived the job by 10 s";
  const auto at = r.output.find("launcher_rc=");
  ASSERT_NE(at, std::string::npos) << r.output;
  const int seconds = std::atoi(r.output.c_str() + r.output.find("after ", at) + 6);
  EXPECT_LT(seconds, 30) << r.output;
  const Result resumed = run(mpirun(2) + gnas() + " search --resume --out " + d + " --train.epochs 3 --no-progress");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
}

// `gnas retrain` under mpirun: data-parallel, one log; stopped by SIGTERM in epoch 2 and resumed on
// 2 ranks, it ends bit-identical to an uninterrupted 2-rank run (every generator, every rank's
// shard and the checkpointed partial-epoch totals continue exactly).
TEST(MpiRetrainTest, TwoRanksTrainAndResumeBitIdentically) {
  const std::string dir = temp_dir();
  const std::string tiny =
      " --genome configs/genomes/paper_cifar10.txt --net.channels 4 --net.cells 1 --train.epochs 2 --train.batch 30"
      " --data.synthetic_train 240 --data.synthetic_test 100 --data.eval_batch 20 --no-progress";
  const Result a = run(mpirun(2) + gnas() + " retrain --out " + dir + "/a" + tiny);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_CONTAINS(a.output, "on cpu x 2 ranks");
  EXPECT_EQ(count(a.output, "epoch 2/2"), 1) << "INFO lines come from rank 0 only";
  Result b = run(mpirun(2) + gnas() + " retrain --out " + dir + "/b --debug.stop_after_steps 11" + tiny);
  ASSERT_EQ(b.exit_code, 3) << b.output;
  EXPECT_CONTAINS(b.output, "checkpoint written at epoch 2 step 3");
  b = run(mpirun(2) + gnas() + " retrain --out " + dir + "/b --resume --no-progress");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_CONTAINS(b.output, "resuming " + dir + "/b from " + dir + "/b/checkpoints/latest.pt at epoch 2, step 3");
  const H5 ha(dir + "/a/log.h5"), hb(dir + "/b/log.h5");
  EXPECT_EQ(ha.attr_int("world_size"), 2);
  for (const char* name : {"/epoch/train_loss", "/epoch/train_acc", "/epoch/test_acc", "/epoch/lr"})
    EXPECT_EQ(ha.read<double>(name, H5T_NATIVE_DOUBLE), hb.read<double>(name, H5T_NATIVE_DOUBLE)) << name;
  EXPECT_EQ(ha.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE).size(), 2u);
  // The final models hold the same weights: evaluate prints the same figures. (The test split is
  // evaluated in 5 chunks of 20, split between the 2 ranks.)
  const Result ea = run(gnas() + " evaluate --model " + dir + "/a --threads 1");
  const Result eb = run(gnas() + " evaluate --model " + dir + "/b --threads 1");
  ASSERT_EQ(ea.exit_code, 0) << ea.output;
  EXPECT_EQ(ea.output, eb.output);
}

TEST(MpiBenchTest, ReportsScaling) {
  const Result r = run(mpirun(2) + gnas() +
                       " bench --net.channels 4 --train.batch 32 --data.eval_batch 32 --bench.steps 2 --bench.warmup 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "\"ranks\":2");
  EXPECT_CONTAINS(r.output, "\"train_scaling_efficiency\":");
  EXPECT_EQ(count(r.output, "{\"bench\":"), 1);
  // The fixed (retrain) network of one genome.
  const Result f = run(mpirun(2) + gnas() +
                       " bench --net.channels 4 --train.batch 32 --data.eval_batch 32 --bench.steps 2 --bench.warmup 1"
                       " --bench.genome '0 1 3 4 2 0 0 1 0 0 1 2 0 0 0 0 0 1 2 1 | 0 1 0 1 0 1 1 2 0 1 0 0 0 1 2 2 0 1 1 1"
                       " | 0 0 4 0 0 0 2 2 0 0 2 2 0 0 2 2 0 0 2 2'");
  ASSERT_EQ(f.exit_code, 0) << f.output;
  EXPECT_CONTAINS(f.output, "{\"bench\":\"fixed\"");
  EXPECT_EQ(f.output.find("projected_search_epoch_s"), std::string::npos);
}

}  // namespace
