#pragma once
/// Crash-safe file writes and small file queries. Plain C++ (std::filesystem; POSIX for fsync).
#include <cstddef>
#include <cstdint>
#include <string>

namespace gnas::io {

/// Writes `content` to `path` and fsyncs it; on failure the file is removed and IoError says why
/// (a full disk says so).
void write_file_synced(const std::string& path, const std::string& content);
/// rename(2), throwing IoError naming both paths.
void rename_file(const std::string& from, const std::string& to);

/// The file an output path names: `path`, or the target of the symbolic link `path` is (written
/// through, as cp does). Throws IoError naming `path` when that exists and is not a regular file (a
/// FIFO, a device, a directory, a socket): gnas never replaces one.
std::string output_file_target(const std::string& path);

/// Writes `content` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
/// directory. A symbolic link is written through, and an existing path that is not a regular file
/// is refused (output_file_target). Throws IoError (a full disk says so); on failure the temporary
/// file is removed and `path` is unchanged.
void write_file_atomic(const std::string& path, const std::string& content);

/// fsync(2) of a file or directory by path (POSIX: std::filesystem has no fsync). Throws IoError.
void fsync_path(const std::string& path);

/// Reads a whole regular file of at most `max_bytes`; throws IoError naming the path when it cannot,
/// when it is not a regular file (a FIFO would block, /dev/zero never end) or when it is larger.
std::string read_file(const std::string& path, std::uint64_t max_bytes = std::uint64_t(64) << 20);
/// Throws IoError naming the path unless it is a regular file (after symlinks) of at most `max_bytes`.
void check_regular_file(const std::string& path, std::uint64_t max_bytes);

/// Disk space held back for a run's last words: `bytes` of a file written at `path` (really
/// written, so that a full disk cannot take them), removed again by the destructor. A run holds
/// one from its start; when a write fails because the disk filled up, the reserve goes with the
/// run's objects before the log is closed and the status is recorded, which then find room.
/// Throws IoError (a full disk says so) when the space is not there to begin with.
class DiskReserve {
 public:
  DiskReserve(std::string path, std::size_t bytes);
  ~DiskReserve();
  DiskReserve(const DiskReserve&) = delete;
  DiskReserve& operator=(const DiskReserve&) = delete;

 private:
  std::string path_;
};

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
/// The running executable as a user can type it again from the current directory: relative when it
/// lies below it ("build/gnas"), else absolute; "gnas" when it cannot be found.
std::string running_executable();

}  // namespace gnas::io
