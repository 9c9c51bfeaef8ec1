// io: INI reading and the crash-safe file writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gnas/core/error.h"
#include "gnas/io/files.h"
#include "gnas/io/ini.h"

namespace gnas::io {
namespace {

namespace fs = std::filesystem;

TEST(IniTest, SectionsKeysCommentsAndDifferences) {
  const auto kv = parse_ini("seed = 1\n# comment\n[train]\n lr = 0.05 \n; other\n\n[net]\ncompat=reference\n");
  EXPECT_EQ(kv.at("seed"), "1");
  EXPECT_EQ(kv.at("train.lr"), "0.05");
  EXPECT_EQ(kv.at("net.compat"), "reference");
  EXPECT_EQ(kv.size(), 3u);
  const auto changes = diff_ini("[train]\nlr = 0.1\nepochs = 3\n", "[train]\nlr = 0.05\n[net]\ncells = 2\n");
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].key, "net.cells");
  EXPECT_EQ(changes[0].before, "");
  EXPECT_EQ(changes[1].key, "train.epochs");
  EXPECT_EQ(changes[1].after, "");
  EXPECT_EQ(changes[2].key, "train.lr");
  EXPECT_EQ(changes[2].before, "0.1");
  EXPECT_EQ(changes[2].after, "0.05");
}

TEST(FilesTest, AtomicWritesReplaceWholeFilesAndLeaveNoTemporary) {
  const fs::path dir = fs::path(::testing::TempDir()) / "gnas_io_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "a.json").string();
  write_file_atomic(path, "first");
  write_file_atomic(path, "second, longer");
  EXPECT_EQ(read_file(path), "second, longer");
  EXPECT_FALSE(path_exists(path + ".tmp"));
  EXPECT_TRUE(path_exists(path));
  EXPECT_TRUE(is_directory(dir.string()));
  EXPECT_FALSE(is_directory(path));
  // A write into a missing directory fails with the path and leaves nothing.
  EXPECT_THAT([&] { write_file_atomic((dir / "missing" / "b.json").string(), "x"); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("missing/b.json.tmp")));
  EXPECT_THAT([&] { read_file((dir / "none").string()); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("cannot read")));
  EXPECT_THAT([&] { fsync_path((dir / "none").string()); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("none")));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gnas::io
