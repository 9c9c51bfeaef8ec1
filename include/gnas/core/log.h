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

/// True when stdout is a terminal (progress indicators are drawn only then).
bool stdout_is_tty();

}  // namespace gnas

#define GNAS_LOG(level) ::gnas::LogLine(::gnas::LogLevel::k##level)
