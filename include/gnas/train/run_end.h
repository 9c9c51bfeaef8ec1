#pragma once
/// How a command's end is recorded in its run directory (status.json and the log's status
/// attributes). No torch: the CLI's dispatch calls record_run_end whatever the command was.
#include <string>

#include "gnas/io/hdf5_log.h"
#include "gnas/io/run_status.h"

namespace gnas::train {

/// The log's status attributes of a run's status.
io::RunStatusAttributes status_attributes(const io::RunStatus& s);

/// open_log, rank 0: this process began `segment` of the run in `dir`; only it will record the end.
void note_segment_begun(const std::string& dir, const io::RunSegment& segment);

/// Rank 0, when the command ends (its log closed): status.json and the log's status attributes
/// become `status` (finished | stopped | failed) with `reason`. Only a run whose current segment
/// this process began is changed (an error before open_log leaves another run's status alone).
/// Never throws: a failure to record the status is a warning.
void record_run_end(const std::string& dir, const std::string& status, const std::string& reason);

}  // namespace gnas::train
