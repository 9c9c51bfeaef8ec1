// io: INI reading and the crash-safe file writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>
#include <fstream>

#include "gnas/core/error.h"
#include "gnas/io/files.h"
#include "gnas/io/ini.h"
#include "gnas/io/run_status.h"

namespace gnas::io {
namespace {

namespace fs = std::filesystem;

TEST(IniTest, SectionsKeysCommentsAndDifferences) {
  const auto kv = parse_ini("seed = 1\n# comment\n[train]\n lr = 0.05 \n; other\n\n[net]\ncompat=reference\n");
  EXPECT_EQ(kv.at("seed"), "1");
  EXPECT_EQ(kv.at("train.lr"), "0.05");
  EXPECT_EQ(kv.at("net.compat"), "reference");
  EXPECT_EQ(kv.size(), 3u);
  // A line without a key is skipped like a line without '=' (fuzzing found "" and "train." keys).
  EXPECT_TRUE(parse_ini("= 3\n[train]\n  = 4\n").empty());
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

/// Every -o/--out file writer goes through write_file_atomic. Issue 29's attack: `gnas export -o P`
/// renamed its temporary file over P when P was a FIFO, a symbolic link or a device node (as root,
/// -o /dev/full replaced the device). Now a link is written through and the rest are refused.
TEST(FilesTest, AtomicWritesFollowLinksAndNeverReplaceSpecialFiles) {
  const fs::path dir = fs::path(::testing::TempDir()) / "gnas_io_special";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // A symbolic link to a regular file: the target gets the content, the link stays a link.
  const fs::path target = dir / "target.json", link = dir / "link.json";
  std::ofstream(target) << "old";
  fs::create_symlink(target.filename(), link);  // relative, as `ln -s` is usually used
  write_file_atomic(link.string(), "new");
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_file(target.string()), "new");
  EXPECT_FALSE(path_exists(link.string() + ".tmp"));
  // A dangling link: its target is created, as cp does.
  const fs::path dangling = dir / "dangling.json";
  fs::create_symlink(dir / "made.json", dangling);
  write_file_atomic(dangling.string(), "made");
  EXPECT_TRUE(fs::is_symlink(dangling));
  EXPECT_EQ(read_file((dir / "made.json").string()), "made");
  // A FIFO is refused by name and kind, and stays a FIFO (without the check this would block or replace it).
  const fs::path fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT([&] { write_file_atomic(fifo.string(), "x"); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("fifo' exists and is not a regular file (a FIFO)")));
  EXPECT_TRUE(fs::is_fifo(fifo));
  // A link to a device (a link, so that a broken check replaces the link here, never /dev/null).
  const fs::path device = dir / "device";
  fs::create_symlink("/dev/null", device);
  EXPECT_THAT([&] { write_file_atomic(device.string(), "x"); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("(a device)")));
  EXPECT_TRUE(fs::is_symlink(device));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  // A directory.
  fs::create_directories(dir / "sub");
  EXPECT_THAT([&] { write_file_atomic((dir / "sub").string(), "x"); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("(a directory)")));
  EXPECT_FALSE(path_exists((dir / "sub.tmp").string()));
  fs::remove_all(dir);
}

/// status.json's numbers are range-checked before they become integers (fuzzing found 2.3e47 read
/// into an int: undefined behaviour, which UBSan reported).
TEST(RunStatusJsonTest, NumbersOutOfTheirFieldsRangeAreRefusedByName) {
  const auto status = [](const std::string& epochs_done) {
    return "{\"status\": \"running\", \"epochs_done\": " + epochs_done + ", \"segments\": [{\"pid\": 42}]}";
  };
  EXPECT_EQ(run_status_from_json(status("3"), "s.json").epochs_done, 3);
  EXPECT_EQ(run_status_from_json(status("3.0"), "s.json").epochs_done, 3);
  EXPECT_EQ(run_status_from_json(status("3"), "s.json").segments.at(0).pid, 42);
  for (const char* bad : {"2.3e47", "-2.3e47", "2.5", "4294967296", "\"3\""})
    EXPECT_THAT([&] { run_status_from_json(status(bad), "dir/status.json"); },
                ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("dir/status.json: ")))
        << bad;
  EXPECT_THAT([&] { run_status_from_json(status("1e40"), "dir/status.json"); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("\"epochs_done\" is 1e+40, not an integer")));
}

}  // namespace
}  // namespace gnas::io
