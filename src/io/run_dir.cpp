#include "gnas/io/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/io/files.h"
#include "gnas/io/run_status.h"

namespace gnas::io {
namespace fs = std::filesystem;

namespace {
constexpr const char* kLockName = ".gnas.lock";

bool writable_dir(const fs::path& p) { return ::access(p.c_str(), W_OK | X_OK) == 0; }
}  // namespace

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

const char* const* run_output_names() {
  static const char* const names[] = {"config.ini",  "log.h5",         "best_genome.json", "last_genome.json",
                                      "cells.dot",   "genome.json",    "model_best.pt",    "model_best_test.pt", "model_last.pt",
                                      "checkpoints", "status.json",    ".gnas.reserve", nullptr};
  return names;
}

void check_new_run_dir(const std::string& dir, bool force) {
  GNAS_CHECK_AS(ConfigError, !dir.empty(), "--out: the run directory must not be empty");
  std::error_code ec;
  const fs::path p(dir);
  if (fs::exists(p, ec)) {
    GNAS_CHECK_AS(IoError, fs::is_directory(p, ec), "--out '", dir, "' exists and is not a directory");
    GNAS_CHECK_AS(ConfigError, force || fs::is_empty(p, ec), "run directory '", dir,
                  "' already exists; choose a new --out, continue it with --resume, or pass --force to replace "
                  "its run");
    GNAS_CHECK_AS(IoError, writable_dir(p), "run directory '", dir, "' is not writable: ", std::strerror(errno));
    return;
  }
  // The directory will be created later: its nearest existing ancestor must let us.
  fs::path parent = fs::absolute(p, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
  GNAS_CHECK_AS(IoError, fs::is_directory(parent, ec), "cannot create run directory '", dir, "': '",
                parent.string(), "' is not a directory");
  GNAS_CHECK_AS(IoError, writable_dir(parent), "cannot create run directory '", dir, "': '", parent.string(),
                "' is not writable: ", std::strerror(errno));
}

void check_resumable_run_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(fs::path(dir) / "checkpoints", ec)) return;
  // Starting over there needs --force when the directory holds anything (a run that died before
  // its first checkpoint).
  const bool empty = !fs::exists(dir, ec) || fs::is_empty(dir, ec);
  throw ConfigError(detail::concat("--resume: '", dir, "' has no checkpoints/ to resume from (",
                                   empty ? "start it without --resume" : "start it again with --force instead of --resume",
                                   ")"));
}

RunDirLock::RunDirLock(const std::string& dir, bool clear_old_run) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  GNAS_CHECK_AS(IoError, !ec, "cannot create run directory '", dir, "': ", ec.message());
  const std::string lock_path = (fs::path(dir) / kLockName).string();
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  GNAS_CHECK_AS(IoError, fd_ >= 0, "cannot open the lock file '", lock_path, "': ", std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    std::ifstream in(lock_path);
    std::getline(in, holder);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw IoError(detail::concat("run directory '", dir, "' is in use by another gnas process (",
                                   holder.empty() ? std::string("holder unknown") : holder,
                                   "); wait for it to end, or choose another --out"));
    throw IoError(detail::concat("cannot lock '", lock_path, "': ", std::strerror(err)));
  }
  const std::string me = detail::concat("host ", host_name(), ", pid ", ::getpid(), ", since ", utc_timestamp());
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, me.data(), me.size(), 0) < 0) {
    // The record only improves the message a second writer gets; the lock itself is held.
  }
  if (clear_old_run)
    for (const char* const* n = run_output_names(); *n; ++n) {
      fs::remove_all(fs::path(dir) / *n, ec);
      GNAS_CHECK_AS(IoError, !ec, "--force: cannot remove '", (fs::path(dir) / *n).string(), "': ", ec.message());
    }
}

RunDirLock::~RunDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

std::string with_genome_provenance(const std::string& json, const std::string& run_id, int epoch) {
  const std::size_t open = json.find('{');
  if (open == std::string::npos) return json;
  const std::string entry = "\n  \"run\": {\"run_id\": " + nlohmann::json(run_id).dump() +
                            ", \"epoch\": " + std::to_string(epoch) + "},";
  const std::size_t eol = json.find('\n', open);
  return json.substr(0, open + 1) + entry + (eol == open + 1 ? json.substr(eol) : "\n" + json.substr(open + 1));
}

GenomeSource genome_source(const std::string& genome_arg) {
  GenomeSource s;
  std::error_code ec;
  if (genome_arg.empty() || !fs::exists(genome_arg, ec)) return s;  // genome text
  const bool dir = fs::is_directory(genome_arg, ec);
  const fs::path file = dir ? fs::path(genome_arg) / "best_genome.json" : fs::path(genome_arg);
  const fs::path run = dir ? fs::path(genome_arg) : file.parent_path().empty() ? fs::path(".") : file.parent_path();
  // A search's run directory only (a retrain's genome.json names no search).
  std::optional<RunStatus> status;
  try {
    status = read_run_status(run.string());
  } catch (const std::exception&) {
  }
  if (!status || status->command != "search") return s;
  s.run_dir = fs::weakly_canonical(fs::absolute(run, ec), ec).string();
  try {
    const auto doc = nlohmann::json::parse(read_file(file.string(), std::uint64_t(1) << 20));
    const auto entry = doc.find("run");
    if (entry != doc.end() && entry->is_object()) {
      s.run_id = entry->value("run_id", std::string());
      s.epoch = entry->value("epoch", 0);
    }
  } catch (const std::exception&) {  // a text genome file, or one written before the entry existed
  }
  if (s.run_id.empty()) s.run_id = status->run_id;
  return s;
}

}  // namespace gnas::io
