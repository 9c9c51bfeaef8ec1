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

/// Where a retrain's genome came from: the search run that wrote it, when --genome names a search's
/// run directory or a genome file inside one (its status.json says "search").
struct GenomeSource {
  std::string run_dir;  ///< absolute and normalised; "" when the genome was text or a file outside a run
  std::string run_id;   ///< the search's run id (its genome file's "run" entry, else its status.json)
  int epoch = 0;        ///< 1-based epoch of the search that chose the genome; 0: not recorded
};
/// The source of `genome_arg` (text, a genome file, a run directory). Never throws: what cannot be
/// read is left empty (the genome itself was read and checked before).
GenomeSource genome_source(const std::string& genome_arg);
/// `json` (a genome file, as space::Space::to_json writes it) with its provenance added: a "run"
/// entry with the search's run id and the 1-based epoch that chose the genome.
std::string with_genome_provenance(const std::string& json, const std::string& run_id, int epoch);

}  // namespace gnas::io
