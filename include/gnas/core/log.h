#pragma once
/// Text logging for people: GNAS_LOG(INFO) << ...; numbers for machines go to HDF5, not here.
#include <sstream>
#include <string>

namespace gnas {

enum class LogLevel {
  kDebug = 0, kInfo = 1, kWarn = 2, kError = 3,
  kDEBUG = kDebug, kINFO = kInfo, kWARN = kWarn, kERROR = kError  // spellings for GNAS_LOG(INFO)
};

/// Process-wide log settings, set once by the CLI before any work starts.
struct LogSettings {
  LogLevel min_level = LogLevel::kInfo;
  int rank = 0;
  int world_size = 1;
  bool all_ranks = false;  ///< INFO from every rank, not only rank 0
  /// stdout is a person's terminal (not a file, a pipe, or the pseudo-terminal an MPI launcher
  /// gives its ranks): the carriage-return progress line is drawn; otherwise every line starts
  /// with a UTC timestamp and progress is printed as plain lines.
  bool interactive = false;
  /// Off a terminal, a progress line at least this often (seconds), besides every tenth of an epoch.
  double progress_seconds = 30;
};
void set_log_settings(const LogSettings& s);
const LogSettings& log_settings();

/// One log line; written to stderr (WARN/ERROR) or stdout (INFO) when destroyed.
class LogLine {
 public:
  explicit LogLine(LogLevel level);
  ~LogLine();
  template <class T>
  LogLine& operator<<(const T& v) {
    if (enabled_) buf_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  bool enabled_;
  std::ostringstream buf_;
};

/// True when stdout is a terminal. Under an MPI launcher a rank's stdout may be a pseudo-terminal
/// that ends up in a job file: LogSettings::interactive is what decides how progress is shown.
bool stdout_is_tty();
/// UTC now as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_timestamp();

}  // namespace gnas

#define GNAS_LOG(level) ::gnas::LogLine(::gnas::LogLevel::k##level)
