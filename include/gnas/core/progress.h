#pragma once
/// The step progress line drawn on a terminal during long epochs (never into logs or pipes).
#include <chrono>

namespace gnas {

class Progress {
 public:
  /// enabled: draw at all (stdout is a terminal and --no-progress was not given).
  Progress(bool enabled, int epoch, int epochs, int steps);
  /// True when a redraw is due for `step` (at most 4 per second, and always for the last step).
  bool due(int step);
  void draw(int step, double loss, double accuracy) const;
  /// Erases the line.
  void clear() const;

 private:
  bool enabled_;
  int epoch_, epochs_, steps_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace gnas
