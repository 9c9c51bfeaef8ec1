#pragma once
/// A run's status (DIR/status.json, and the log's status attributes): running, finished, stopped
/// (by a signal, resumable) or failed, with the reason; epochs done and planned; and one segment per
/// process that worked on the run (a resume appends one), with where and what it ran on.
/// Written by rank 0 only, atomically. Plain C++ (nlohmann-json).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gnas::io {

/// One process's part of a run: from its start to its end (or its last sign of life).
struct RunSegment {
  std::string started_at, ended_at;  ///< ISO-8601 UTC; ended_at "" while it runs
  std::string end;                   ///< "" while running; then finished | stopped | failed | died
  std::string host, device, slurm_job_id, version, git_commit;
  long pid = 0;
  int world_size = 1;
  int epochs_at_start = 0, epochs_at_end = 0;
};

struct RunStatus {
  std::string command;  ///< search | retrain
  std::string run_id;   ///< the run's identity (LogAttributes::run_id); "": a run made before
  std::string status;   ///< running | finished | stopped | failed
  std::string reason;   ///< why it ended ("" while running)
  int epochs_done = 0, epochs_planned = 0;
  std::string updated_at;  ///< the last sign of life: start, every epoch's end, the end
  /// The rule by which a reader calls a silent "running" run "running or died": nothing logged for
  /// max(stale_min_s, stale_epochs x its longest epoch). Written into status.json, so that every
  /// reader (gnas runs, gnas-analysis) applies the writer's rule.
  double stale_min_s = 1800, stale_epochs = 3;
  std::vector<RunSegment> segments;
};

/// A new run's identity: 128 random bits as 32 hex digits.
std::string new_run_id();

/// The status file of run directory `dir`.
std::string run_status_path(const std::string& dir);
/// Reads DIR/status.json; nullopt when there is none. Throws IoError when it exists but is not a
/// status file (the message names the path and the problem).
std::optional<RunStatus> read_run_status(const std::string& dir);
void write_run_status(const std::string& dir, const RunStatus& s);
std::string to_json(const RunStatus& s);
RunStatus run_status_from_json(const std::string& text, const std::string& where);
/// The segments as a JSON array (the log's `segments` attribute).
std::string segments_json(const RunStatus& s);

/// What this process knows about where it runs (host, pid, SLURM_JOB_ID, version, git commit).
RunSegment this_process_segment(const std::string& device, int world_size, int epochs_done, const std::string& now);

/// A new run, or a resumed one (`previous`): appends this process's segment, marks a previous
/// segment that never ended (its process was killed) as "died" at its last sign of life, and sets
/// the status to running.
RunStatus begin_run(std::optional<RunStatus> previous, const std::string& command, const RunSegment& segment,
                    int epochs_planned);

/// How a tool shows a status: "running" becomes "running or died" when the writer is known to be
/// gone (same host, its PID does not exist) or nothing was logged for `stale_after_s` seconds.
struct StatusView {
  std::string label;   ///< running | running or died | finished | stopped | failed
  std::string reason;  ///< the run's reason, or why it is shown as running or died
};
StatusView view_status(const RunStatus& s, std::int64_t now_epoch_s, double stale_after_s, const std::string& this_host);
/// The silence after which `s` reads "running or died": the status's own rule (stale_min_s,
/// stale_epochs) applied to the run's longest epoch so far.
double stale_after_s(const RunStatus& s, double longest_epoch_s);
/// Seconds since 1970 of an ISO-8601 UTC time written by gnas ("YYYY-MM-DDTHH:MM:SSZ"); -1 if unparsable.
std::int64_t parse_utc(const std::string& iso);

}  // namespace gnas::io
