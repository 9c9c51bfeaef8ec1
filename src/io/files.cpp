#include "gnas/io/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "gnas/core/error.h"

namespace gnas::io {

DiskReserve::DiskReserve(std::string path, std::size_t bytes) : path_(std::move(path)) {
  // Not zeros: a compressing or deduplicating file system (ZFS, btrfs) would store them in no space.
  std::string data(bytes, '\0');
  std::uint32_t x = 0x9E3779B9u;
  for (auto& c : data) x = x * 1664525u + 1013904223u, c = char(x >> 24);
  write_file_synced(path_, data);
}

DiskReserve::~DiskReserve() { ::unlink(path_.c_str()); }

bool path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  GNAS_CHECK_AS(IoError, fd >= 0, "cannot open '", path, "' to sync it: ", std::strerror(errno));
  const int rc = ::fsync(fd), err = errno;
  ::close(fd);
  GNAS_CHECK_AS(IoError, rc == 0, "cannot fsync '", path, "': ", std::strerror(err));
}

void write_file_synced(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GNAS_CHECK_AS(IoError, fd >= 0, "cannot write '", path, "': ", std::strerror(errno));
  // On any failure the half-written file goes.
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw IoError(detail::concat("cannot ", what, " '", path, "': ", std::strerror(err),
                                 err == ENOSPC ? " (the disk is full)" : ""));
  };
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw IoError(detail::concat("cannot close '", path, "': ", std::strerror(err)));
  }
}

void rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    throw IoError(detail::concat("cannot rename '", from, "' to '", to, "': ", std::strerror(err)));
  }
}

std::string output_file_target(const std::string& path) {
  std::error_code ec;
  std::string target = path;
  struct stat st {};
  // Written through, as cp does: the link stays, its target gets the content (and is created when
  // the link dangles). Followed link by link, since a dangling one has no canonical path.
  for (int hops = 0; ::lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode); ++hops) {
    GNAS_CHECK_AS(IoError, hops < 40, "cannot resolve the symbolic link '", path, "': too many levels of links");
    const std::filesystem::path to = std::filesystem::read_symlink(target, ec);
    GNAS_CHECK_AS(IoError, !ec, "cannot resolve the symbolic link '", path, "': ", ec.message());
    target = (to.is_absolute() ? to : std::filesystem::path(target).parent_path() / to).lexically_normal().string();
  }
  if (::stat(target.c_str(), &st) == 0)
    GNAS_CHECK_AS(IoError, S_ISREG(st.st_mode), "'", path, "' exists and is not a regular file (a ",
                  S_ISFIFO(st.st_mode)  ? "FIFO"
                  : S_ISDIR(st.st_mode) ? "directory"
                  : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device"
                  : S_ISSOCK(st.st_mode)                       ? "socket"
                                                               : "special file",
                  "); gnas replaces only regular files: give another path, or remove it first");
  return target;
}

void write_file_atomic(const std::string& given, const std::string& content) {
  const std::string path = output_file_target(given);
  const std::string tmp = path + ".tmp";
  write_file_synced(tmp, content);
  try {
    rename_file(tmp, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  // The rename itself survives a power loss once the directory is synced.
  const auto parent = std::filesystem::path(path).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
}

void check_regular_file(const std::string& path, std::uint64_t max_bytes) {
  struct stat st {};
  GNAS_CHECK_AS(IoError, ::stat(path.c_str(), &st) == 0, "cannot read '", path, "': ", std::strerror(errno));
  GNAS_CHECK_AS(IoError, S_ISREG(st.st_mode), "'", path, "' is not a regular file (a ",
                S_ISFIFO(st.st_mode) ? "FIFO" : S_ISDIR(st.st_mode) ? "directory" : S_ISCHR(st.st_mode) ? "device"
                                                                                     : "special file",
                "); gnas reads only regular files there");
  GNAS_CHECK_AS(IoError, std::uint64_t(st.st_size) <= max_bytes, "'", path, "' is ", st.st_size,
                " bytes, more than the ", max_bytes, " such a file can have; is it the right file?");
}

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
  check_regular_file(path, max_bytes);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  GNAS_CHECK_AS(IoError, in.good(), "cannot read '", path, "': ", errno ? std::strerror(errno) : "unknown error");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string running_executable() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "gnas";
  const auto cwd = std::filesystem::current_path(ec);
  if (ec) return exe.string();
  const auto rel = exe.lexically_relative(cwd);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return exe.string();
}

}  // namespace gnas::io
