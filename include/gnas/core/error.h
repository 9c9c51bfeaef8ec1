#pragma once
/// Error types of gnas. Every message says who, what, expected vs actual, and context.
#include <sstream>
#include <stdexcept>
#include <string>

namespace gnas {

/// Exit codes of the `gnas` executable.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;       ///< any error: bad input, I/O, divergence
constexpr int kExitUsage = 2;       ///< bad command line or config
constexpr int kExitRequeue = 3;     ///< stopped by SIGTERM/SIGUSR1 after a checkpoint: requeue me

/// Base of all gnas errors; `main` catches it once, prints it and exits with exit_code().
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// The exit code a run that ends with this error returns.
  virtual int exit_code() const noexcept { return kExitError; }
};
/// A bad option, config key or value given by the user.
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitUsage; }
};
/// A file or directory that cannot be read or written.
class IoError : public Error {
 public:
  using Error::Error;
};
/// A dataset file that is missing, short, corrupt or holds out-of-range labels.
class DataError : public Error {
 public:
  using Error::Error;
};
/// A collective operation failed, or ranks disagree.
class CommError : public Error {
 public:
  using Error::Error;
};
/// Training diverged (NaN or infinite loss).
class TrainingError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

/// The one failure policy: the exit code of a run that ends with `e` (a gnas::Error says its own;
/// anything else, e.g. std::bad_alloc or a libtorch error, is kExitError).
inline int exit_code_for(const std::exception& e) noexcept {
  const auto* error = dynamic_cast<const Error*>(&e);
  return error ? error->exit_code() : kExitError;
}

}  // namespace gnas

/// Throws gnas::Error (or the given subclass with GNAS_CHECK_AS) with file:line when cond is false.
#define GNAS_CHECK(cond, ...)                                                                \
  do {                                                                                       \
    if (!(cond))                                                                             \
      throw ::gnas::Error(::gnas::detail::concat(__VA_ARGS__, " [", __FILE__, ":", __LINE__, "]")); \
  } while (0)
#define GNAS_CHECK_AS(ErrorType, cond, ...)                      \
  do {                                                           \
    if (!(cond)) throw ErrorType(::gnas::detail::concat(__VA_ARGS__)); \
  } while (0)
