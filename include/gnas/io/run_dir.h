#pragma once
/// The run directory's life: checks that write nothing, then one exclusive writer per directory.
/// Plain C++ (std::filesystem, flock).
#include <string>

namespace gnas::io {

/// Checks, creating and writing nothing, that `dir` can hold a new run: it does not exist yet (and
/// its nearest existing parent is a writable directory), or it is an empty directory, or `force`.
/// Throws ConfigError (exists, no --force) or IoError (not a directory, not writable).
void check_new_run_dir(const std::string& dir, bool force);

/// Checks, writing nothing, that `dir` holds a run that --resume can continue (checkpoints/).
void check_resumable_run_dir(const std::string& dir);

/// The files and folders a run writes into its directory; --force removes exactly these, so nothing
/// of an earlier run (a best genome, a checkpoint) can be mistaken for the new run's.
const char* const* run_output_names();

/// Holds an exclusive lock on a run directory for the life of the object: one writer per run.
/// The lock is flock(2) on DIR/.gnas.lock, so the kernel releases it when the process dies (also
/// by SIGKILL); the file records the holder's host, PID and start time for the message a second
/// writer gets.
class RunDirLock {
 public:
  /// Creates `dir` (and its parents) when missing and takes the lock. With `clear_old_run` (--force)
  /// it then removes the outputs of an earlier run (run_output_names). Throws IoError naming the
  /// holder's host and PID when another process holds the lock.
  RunDirLock(const std::string& dir, bool clear_old_run);
  ~RunDirLock();
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;

 private:
  int fd_ = -1;
};

/// This machine's host name.
std::string host_name();

}  // namespace gnas::io
