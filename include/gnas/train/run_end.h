#pragma once
/// How a command's end is recorded in its run directory (status.json and the log's status
/// attributes). No torch: the CLI's dispatch calls record_run_end whatever the command was.
#include <string>

#include "gnas/io/hdf5_log.h"
#include "gnas/io/run_status.h"

namespace gnas::train {

/// The log's status attributes of a run's status.
io::RunStatusAttributes status_attributes(const io::RunStatus& s);

/// The segment of a run's status that this process began (open_log fills it, rank 0), so that
/// only it records the run's end. Owned by the CLI's dispatch, which passes it to the command and
/// records the end after the command has returned or failed: no process-wide state.
struct BegunSegment {
  std::string dir, started_at, host;  ///< dir "": this process began no run (an early error)
  long pid = 0;
};
/// open_log, rank 0: this process began `segment` of the run in `dir`.
BegunSegment begun_segment(const std::string& dir, const io::RunSegment& segment);

/// Rank 0, when the command ends (its log closed): status.json and the log's status attributes
/// become `status` (finished | stopped | failed) with `reason`. Only the run of `me`, and only while
/// its current segment is still `me`, is changed (an error before open_log leaves another run's
/// status alone; a resume or --force that started meanwhile is not overwritten).
/// Never throws: a failure to record the status is a warning.
void record_run_end(const BegunSegment& me, const std::string& status, const std::string& reason);

}  // namespace gnas::train
