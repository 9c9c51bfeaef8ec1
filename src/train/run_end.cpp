// Recording how a command ended (run_end.h). Plain C++: no torch.
#include "gnas/train/run_end.h"

#include <chrono>
#include <ctime>
#include <thread>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/files.h"
#include "gnas/io/run_dir.h"

namespace gnas::train {
namespace {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

io::RunStatusAttributes status_attributes(const io::RunStatus& s) {
  io::RunStatusAttributes a;
  a.status = s.status;
  a.reason = s.reason;
  a.epochs_done = s.epochs_done;
  a.epochs_planned = s.epochs_planned;
  a.segments = io::segments_json(s);
  a.updated_at = s.updated_at;
  if (!s.segments.empty()) {
    const auto& g = s.segments.back();
    a.host = g.host, a.device = g.device, a.git_commit = g.git_commit, a.slurm_job_id = g.slurm_job_id;
  }
  return a;
}

BegunSegment begun_segment(const std::string& dir, const io::RunSegment& segment) {
  return {dir, segment.started_at, segment.host, segment.pid};
}

void record_run_end(const BegunSegment& me, const std::string& status, const std::string& reason) {
  if (me.dir.empty()) return;  // this process never began a run
  const std::string& dir = me.dir;
  try {
    // The command's lock is gone with its objects: take it again, so a resume or --force that
    // started meanwhile is not overwritten (it holds the lock: nothing is recorded).
    io::RunDirLock lock(dir, false);
    auto s = io::read_run_status(dir);
    if (!s || s->segments.empty()) return;
    auto& last = s->segments.back();
    if (last.pid != me.pid || last.host != me.host || last.started_at != me.started_at || !last.ended_at.empty())
      return;  // another process's segment
    const std::string now = utc_now();
    s->status = status;
    s->reason = reason;
    s->updated_at = now;
    last.ended_at = now;
    last.end = status;
    io::write_run_status(dir, *s);
    const std::string log = dir + "/log.h5";
    // A reader (gnas runs, a notebook) may hold the file for a moment: retry for a few seconds.
    for (int attempt = 0; io::path_exists(log); ++attempt) {
      try {
        io::Hdf5Log::write_status(log, status_attributes(*s));
        break;
      } catch (const IoError&) {
        if (attempt == 20) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    }
  } catch (const std::exception& e) {
    GNAS_LOG(WARN) << "cannot record the run's status (" << status << "): " << e.what();
  }
}

}  // namespace gnas::train
