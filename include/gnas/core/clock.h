#pragma once
/// Seconds on the monotonic clock, for timing phases (the step profile, gnas bench). Plain C++.
#include <chrono>

namespace gnas {

/// Seconds since an arbitrary fixed point of std::chrono::steady_clock: only differences mean anything.
inline double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace gnas
