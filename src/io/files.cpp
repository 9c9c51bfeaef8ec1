#include "gnas/io/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gnas/core/error.h"

namespace gnas::io {

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {
void make_dirs(const std::string& dir) {
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty() || is_directory(partial)) continue;
    if (::mkdir(partial.c_str(), 0777) != 0 && errno != EEXIST)
      throw IoError(detail::concat("cannot create directory '", partial, "' for --out '", dir,
                                   "': ", std::strerror(errno)));
  }
}

bool directory_is_empty(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}
}  // namespace

void prepare_run_dir(const std::string& dir, bool force) {
  GNAS_CHECK_AS(ConfigError, !dir.empty(), "--out: the run directory must not be empty");
  if (path_exists(dir)) {
    GNAS_CHECK_AS(IoError, is_directory(dir), "--out '", dir, "' exists and is not a directory");
    GNAS_CHECK_AS(ConfigError, force || directory_is_empty(dir), "run directory '", dir,
                  "' already exists; choose a new --out, or pass --force to overwrite its files");
  } else {
    make_dirs(dir);
  }
  GNAS_CHECK_AS(IoError, ::access(dir.c_str(), W_OK | X_OK) == 0, "run directory '", dir,
                "' is not writable: ", std::strerror(errno));
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  GNAS_CHECK_AS(IoError, fd >= 0, "cannot write '", tmp, "': ", std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw IoError(detail::concat("cannot write '", tmp, "': ", std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  GNAS_CHECK_AS(IoError, synced, "cannot fsync '", tmp, "': ", std::strerror(errno));
  GNAS_CHECK_AS(IoError, ::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path,
                "': ", std::strerror(errno));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GNAS_CHECK_AS(IoError, in.good(), "cannot read '", path, "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace gnas::io
