#pragma once
// Test helper: runs a shell command and captures its exit code, output and duration.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gnas/test_paths.h"  // generated: GNAS_TEST_EXE, GNAS_TEST_MPIEXEC

namespace gnas::testing {

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  double seconds = 0;
};

inline Result run_shell(const std::string& command) {
  Result r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

/// An environment variable, or `fallback` when unset.
inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

/// The gnas executable under test: this build's, or GNAS_EXE when set (an installed gnas, say).
inline std::string gnas_exe() { return env_or("GNAS_EXE", GNAS_TEST_EXE); }

/// The MPI launcher this build found, or GNAS_MPIEXEC when set; empty in a build without MPI.
inline std::string mpiexec() { return env_or("GNAS_MPIEXEC", GNAS_TEST_MPIEXEC); }

/// A fresh directory under /tmp.
inline std::string make_temp_dir(const char* prefix) {
  std::string tmpl = std::string("/tmp/") + prefix + "XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : std::string("/tmp");
}

}  // namespace gnas::testing

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing '" << (needle) << "' in:\n" << (haystack)
