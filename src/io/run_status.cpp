#include "gnas/io/run_status.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <cmath>
#include <limits>
#include <type_traits>
#include <random>
#include <sstream>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/git_commit.h"
#include "gnas/io/files.h"
#include "gnas/io/run_dir.h"

namespace gnas::io {
namespace {
using nlohmann::json;

json segment_json(const RunSegment& g) {
  json j = {{"started_at", g.started_at}, {"ended_at", g.ended_at}, {"end", g.end},
            {"host", g.host},             {"pid", g.pid},           {"device", g.device},
            {"world_size", g.world_size}, {"version", g.version},   {"git_commit", g.git_commit},
            {"epochs_at_start", g.epochs_at_start}, {"epochs_at_end", g.epochs_at_end}};
  if (!g.slurm_job_id.empty()) j["slurm_job_id"] = g.slurm_job_id;
  return j;
}

template <class T>
T get_or(const json& j, const char* key, T fallback) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T>) {
    // nlohmann converts any number to an integer with a plain cast: a value out of T's range (or a
    // fraction) is undefined behaviour (found by tests/fuzz/status_json_fuzz.cpp: 2.3e47 as an int).
    GNAS_CHECK_AS(IoError, it->is_number(), "\"", key, "\" is not a number: ", it->dump());
    const double v = it->get<double>();
    GNAS_CHECK_AS(IoError,
                  std::isfinite(v) && v == std::floor(v) && v >= double(std::numeric_limits<T>::min()) &&
                      v <= double(std::numeric_limits<T>::max()),
                  "\"", key, "\" is ", it->dump(), ", not an integer of this field's range");
    if (it->is_number_integer()) return it->get<T>();  // exact, also beyond a double's 53 bits
    return static_cast<T>(v);
  } else {
    return it->get<T>();
  }
}
}  // namespace

std::string new_run_id() {
  std::random_device device;  // the kernel's entropy: two runs started in the same second differ
  std::ostringstream id;
  for (int i = 0; i < 4; ++i) id << std::hex << std::setw(8) << std::setfill('0') << std::uint32_t(device());
  return id.str();
}

std::string run_status_path(const std::string& dir) { return dir + "/status.json"; }

std::string segments_json(const RunStatus& s) {
  json a = json::array();
  for (const auto& g : s.segments) a.push_back(segment_json(g));
  return a.dump();
}

std::string to_json(const RunStatus& s) {
  json j = {{"format", 1},
            {"command", s.command},
            {"run_id", s.run_id},
            {"status", s.status},
            {"reason", s.reason},
            {"epochs_done", s.epochs_done},
            {"epochs_planned", s.epochs_planned},
            {"updated_at", s.updated_at},
            {"stale_rule", {{"min_s", s.stale_min_s}, {"longest_epochs", s.stale_epochs}}},
            {"segments", json::parse(segments_json(s))}};
  return j.dump(2) + "\n";
}

RunStatus run_status_from_json(const std::string& text, const std::string& where) {
  RunStatus s;
  try {
    const json j = json::parse(text);
    GNAS_CHECK_AS(IoError, j.is_object() && j.contains("status") && j.contains("segments"),
                  where, ": not a gnas status file (no \"status\" and \"segments\")");
    s.command = get_or<std::string>(j, "command", "");
    s.run_id = get_or<std::string>(j, "run_id", "");
    s.status = j.at("status").get<std::string>();
    s.reason = get_or<std::string>(j, "reason", "");
    s.epochs_done = get_or<int>(j, "epochs_done", 0);
    s.epochs_planned = get_or<int>(j, "epochs_planned", 0);
    s.updated_at = get_or<std::string>(j, "updated_at", "");
    const auto rule = j.find("stale_rule");  // absent in status files written before it: the defaults
    if (rule != j.end() && rule->is_object()) {
      s.stale_min_s = get_or<double>(*rule, "min_s", s.stale_min_s);
      s.stale_epochs = get_or<double>(*rule, "longest_epochs", s.stale_epochs);
    }
    for (const auto& g : j.at("segments")) {
      RunSegment r;
      r.started_at = get_or<std::string>(g, "started_at", "");
      r.ended_at = get_or<std::string>(g, "ended_at", "");
      r.end = get_or<std::string>(g, "end", "");
      r.host = get_or<std::string>(g, "host", "");
      r.pid = get_or<long>(g, "pid", 0);
      r.device = get_or<std::string>(g, "device", "");
      r.world_size = get_or<int>(g, "world_size", 1);
      r.version = get_or<std::string>(g, "version", "");
      r.git_commit = get_or<std::string>(g, "git_commit", "");
      r.slurm_job_id = get_or<std::string>(g, "slurm_job_id", "");
      r.epochs_at_start = get_or<int>(g, "epochs_at_start", 0);
      r.epochs_at_end = get_or<int>(g, "epochs_at_end", 0);
      s.segments.push_back(r);
    }
  } catch (const json::exception& e) {
    throw IoError(where + ": not a valid gnas status file (" + e.what() + ")");
  } catch (const IoError& e) {  // a field out of range (get_or): the file named once
    const std::string what = e.what();
    throw IoError(what.rfind(where, 0) == 0 ? what : where + ": " + what);
  }
  return s;
}

std::optional<RunStatus> read_run_status(const std::string& dir) {
  const std::string path = run_status_path(dir);
  if (!path_exists(path)) return std::nullopt;
  return run_status_from_json(read_file(path), path);
}

void write_run_status(const std::string& dir, const RunStatus& s) { write_file_atomic(run_status_path(dir), to_json(s)); }

RunSegment this_process_segment(const std::string& device, int world_size, int epochs_done, const std::string& now) {
  RunSegment g;
  g.started_at = now;
  g.host = host_name();
  g.pid = long(::getpid());
  g.device = device;
  g.world_size = world_size;
  g.version = GNAS_VERSION;
  g.git_commit = GNAS_GIT_COMMIT;
  if (const char* id = std::getenv("SLURM_JOB_ID")) g.slurm_job_id = id;
  g.epochs_at_start = g.epochs_at_end = epochs_done;
  return g;
}

RunStatus begin_run(std::optional<RunStatus> previous, const std::string& command, const RunSegment& segment,
                    int epochs_planned) {
  RunStatus s = previous ? *previous : RunStatus{};
  if (!s.segments.empty() && s.segments.back().ended_at.empty()) {
    RunSegment& dead = s.segments.back();  // its process never wrote an end: killed, or its node died
    dead.ended_at = s.updated_at;
    dead.end = "died";
  }
  s.command = command;
  s.status = "running";
  s.reason = "";
  s.epochs_done = segment.epochs_at_start;
  s.epochs_planned = epochs_planned;
  s.updated_at = segment.started_at;
  s.segments.push_back(segment);
  return s;
}

std::int64_t parse_utc(const std::string& iso) {
  std::tm tm{};
  const char* end = ::strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return -1;
  return std::int64_t(::timegm(&tm));
}

double stale_after_s(const RunStatus& s, double longest_epoch_s) {
  return std::max(s.stale_min_s, s.stale_epochs * longest_epoch_s);
}

StatusView view_status(const RunStatus& s, std::int64_t now, double stale_after_s, const std::string& this_host) {
  if (s.status != "running") return {s.status, s.reason};
  if (!s.segments.empty()) {
    const RunSegment& g = s.segments.back();
    if (g.host == this_host && g.pid > 0 && ::kill(pid_t(g.pid), 0) != 0 && errno == ESRCH)
      return {"running or died", "its process (pid " + std::to_string(g.pid) + " on " + g.host + ") is gone"};
  }
  const std::int64_t last = parse_utc(s.updated_at);
  if (last >= 0 && double(now - last) > stale_after_s)
    return {"running or died", "nothing logged for " + std::to_string((now - last) / 60) + " min"};
  return {"running", ""};
}

}  // namespace gnas::io
