#pragma once
// What every fuzz harness shares. A harness is one libFuzzer entry point over one reader of bytes
// that a user, another tool or a crash can hand gnas. The contract it checks: the reader either
// accepts the bytes, and then what it read survives a round trip where the reader has a writer, or
// refuses them with a gnas::Error (the message a user sees). Anything else (a crash, a sanitizer
// report, a foreign exception such as std::out_of_range, a hang) is a finding.
//
// Built two ways (tests/fuzz/CMakeLists.txt): with libFuzzer (scripts/fuzz), and, in every build,
// against replay_main.cpp, which runs the stored corpus once (ctest -L fuzz).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "gnas/core/error.h"

namespace gnas::fuzz {

/// The input as a string.
inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// A file holding the input, for the readers that take a path: one per process and harness,
/// rewritten for each input and removed at exit.
inline std::string input_file(const std::uint8_t* data, std::size_t size, const char* name) {
  static std::string path;
  if (path.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp && *tmp ? tmp : "/tmp") + "/gnas-fuzz-" + std::to_string(::getpid()) + "-" + name;
    static struct Remover {
      const std::string* p;
      ~Remover() { std::remove(p->c_str()); }
    } remover{&path};
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();  // the harness's own failure, not the reader's
  }
  return path;
}

/// A failed invariant of an accepted input: report it and stop, as a crash would.
[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

}  // namespace gnas::fuzz

// Every harness runs its reader inside this: a gnas::Error is the reader's refusal, anything else
// escapes to libFuzzer (an uncaught exception is reported as a crash).
#define GNAS_FUZZ_REFUSALS_OK(...) \
  try {                             \
    __VA_ARGS__                     \
  } catch (const gnas::Error&) {    \
  }
