// The run directory's checks and its lock (io/run_dir.h), and where a retrain's genome came from.
// Real directories under a temporary one; no run is started.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unistd.h>

#include "gnas/core/error.h"
#include "gnas/io/run_dir.h"
#include "gnas/io/run_status.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "gnas_run_dir_XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + t);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
};

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

TEST(RunDirTest, ANewRunNeedsAnAbsentOrEmptyDirectoryOrForce) {
  TempDir t;
  EXPECT_NO_THROW(gnas::io::check_new_run_dir((t.path / "a/b/c").string(), false));  // created later
  fs::create_directories(t.path / "empty");
  EXPECT_NO_THROW(gnas::io::check_new_run_dir((t.path / "empty").string(), false));
  touch(t.path / "empty/log.h5");
  EXPECT_THAT([&] { gnas::io::check_new_run_dir((t.path / "empty").string(), false); },
              ThrowsMessage<gnas::ConfigError>(HasSubstr("already exists; choose a new --out, continue it with --resume")));
  EXPECT_NO_THROW(gnas::io::check_new_run_dir((t.path / "empty").string(), true));
  touch(t.path / "file");
  EXPECT_THAT([&] { gnas::io::check_new_run_dir((t.path / "file").string(), true); },
              ThrowsMessage<gnas::IoError>(HasSubstr("exists and is not a directory")));
  EXPECT_THAT([&] { gnas::io::check_new_run_dir((t.path / "file/run").string(), false); },
              ThrowsMessage<gnas::IoError>(HasSubstr("is not a directory")));
  EXPECT_THROW(gnas::io::check_new_run_dir("", false), gnas::ConfigError);
  EXPECT_FALSE(fs::exists(t.path / "a"));  // the checks write nothing
}

TEST(RunDirTest, AResumeNeedsCheckpointsAndSaysWhatToDoInstead) {
  TempDir t;
  EXPECT_THAT([&] { gnas::io::check_resumable_run_dir((t.path / "none").string()); },
              ThrowsMessage<gnas::ConfigError>(HasSubstr("start it without --resume")));
  touch(t.path / "config.ini");  // a run that died before its first checkpoint
  EXPECT_THAT([&] { gnas::io::check_resumable_run_dir(t.path.string()); },
              ThrowsMessage<gnas::ConfigError>(HasSubstr("start it again with --force instead of --resume")));
  fs::create_directories(t.path / "checkpoints");
  EXPECT_NO_THROW(gnas::io::check_resumable_run_dir(t.path.string()));
}

TEST(RunDirTest, OneWriterAtATimeNamedToTheSecondAndForceClearsOnlyRunOutputs) {
  TempDir t;
  const std::string dir = (t.path / "run").string();
  {
    gnas::io::RunDirLock first(dir, false);
    EXPECT_THAT([&] { gnas::io::RunDirLock second(dir, false); },
                ThrowsMessage<gnas::IoError>(HasSubstr("is in use by another gnas process (host " +
                                                       gnas::io::host_name() + ", pid " +
                                                       std::to_string(::getpid()))));
  }
  gnas::io::RunDirLock again(dir, false);  // released when the first went
  touch(fs::path(dir) / "best_genome.json");
  touch(fs::path(dir) / "notes.txt");  // the user's own file
  fs::create_directories(fs::path(dir) / "checkpoints");
  {
    TempDir other;
    const std::string d2 = (other.path / "run").string();
    fs::create_directories(d2 + "/checkpoints");
    touch(d2 + "/best_genome.json");
    touch(d2 + "/notes.txt");
    gnas::io::RunDirLock forced(d2, true);
    EXPECT_FALSE(fs::exists(d2 + "/best_genome.json"));
    EXPECT_FALSE(fs::exists(d2 + "/checkpoints"));
    EXPECT_TRUE(fs::exists(d2 + "/notes.txt"));
  }
}

TEST(RunDirTest, AGenomeFileRecordsTheSearchAndEpochThatChoseIt) {
  TempDir t;
  const std::string json = "{\n  \"space\": \"nb201\",\n  \"genes\": [1, 2, 3, 4, 0, 1]\n}\n";
  const std::string with = gnas::io::with_genome_provenance(json, "abc123", 7);
  const auto doc = nlohmann::json::parse(with);
  EXPECT_EQ(doc["run"]["run_id"], "abc123");
  EXPECT_EQ(doc["run"]["epoch"], 7);
  EXPECT_EQ(doc["space"], "nb201");
  // A search's directory names it; the same file outside a run names nothing.
  const fs::path run = t.path / "search";
  fs::create_directories(run);
  std::ofstream(run / "best_genome.json") << with;
  gnas::io::RunStatus s;
  s.command = "search";
  s.status = "finished";
  s.run_id = "abc123";
  gnas::io::write_run_status(run.string(), s);
  for (const auto& arg : {run.string(), (run / "best_genome.json").string()}) {
    const auto src = gnas::io::genome_source(arg);
    EXPECT_EQ(src.run_dir, fs::weakly_canonical(run).string()) << arg;
    EXPECT_EQ(src.run_id, "abc123");
    EXPECT_EQ(src.epoch, 7);
  }
  std::ofstream(t.path / "loose.json") << with;
  EXPECT_EQ(gnas::io::genome_source((t.path / "loose.json").string()).run_dir, "");
  EXPECT_EQ(gnas::io::genome_source("0 1 2 3 4 0").run_dir, "");  // genome text
}

}  // namespace
