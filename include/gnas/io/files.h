#pragma once
/// Run-directory handling and crash-safe file writes. Plain C++.
#include <string>

namespace gnas::io {

/// Creates the run directory `dir` (and its parents). An existing non-empty directory is refused
/// with ConfigError unless `force`; a directory that cannot be created or written gives IoError.
void prepare_run_dir(const std::string& dir, bool force);

/// Writes `content` to `path` atomically: a temporary file beside it, fsync, rename. Throws IoError.
void write_file_atomic(const std::string& path, const std::string& content);

/// Reads a whole file; throws IoError naming the path when it cannot.
std::string read_file(const std::string& path);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

}  // namespace gnas::io
