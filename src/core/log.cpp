#include "gnas/core/log.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

namespace gnas {
namespace {
LogSettings g_settings;  // process-wide by nature: one log per process
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_log_settings(const LogSettings& s) { g_settings = s; }
const LogSettings& log_settings() { return g_settings; }

LogLine::LogLine(LogLevel level) : level_(level) {
  enabled_ = level >= g_settings.min_level &&
             (level >= LogLevel::kWarn || g_settings.rank == 0 || g_settings.all_ranks);
}

LogLine::~LogLine() {
  if (!enabled_) return;
  std::ostringstream line;
  if (!g_settings.interactive) line << utc_timestamp() << " ";
  if (g_settings.world_size > 1) line << "[" << g_settings.rank << "/" << g_settings.world_size << "] ";
  if (level_ != LogLevel::kInfo) line << level_name(level_) << ": ";
  line << buf_.str() << "\n";
  auto& out = level_ >= LogLevel::kWarn ? std::cerr : std::cout;
  out << line.str() << std::flush;
}

bool stdout_is_tty() { return ::isatty(STDOUT_FILENO) == 1; }

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace gnas
