#pragma once
/// Step progress during long epochs. On a person's terminal (LogSettings::interactive) one line is
/// redrawn in place; anywhere else (job output files, pipes, MPI ranks) a plain, timestamped log
/// line is printed every tenth of an epoch, so a Slurm .out file shows progress without carriage
/// returns.
#include <chrono>
#include <string>

namespace gnas {

/// A duration for people: "58s", "12m30s", "1h05m" (rounded to whole seconds).
std::string format_duration(double seconds);

class Progress {
 public:
  /// enabled: show progress at all (rank 0 and --no-progress not given).
  /// start_step: the step this process starts the epoch at (a resumed epoch starts later).
  Progress(bool enabled, int epoch, int epochs, int steps, int start_step = 0);
  /// True when an update is due after `step` (0-based): on a terminal at most 4 per second and
  /// always for the last step; otherwise every max(1, steps / 10) steps, and whenever
  /// LogSettings::progress_seconds have passed since the last line (a slow epoch never goes quiet).
  bool due(int step);
  /// samples_per_step: global batch, for the images/s figure.
  void draw(int step, double loss, double accuracy, double samples_per_step) const;
  /// A stage after the training steps (e.g. "evaluating generation 1/2"): redrawn in place on a
  /// terminal, one plain log line elsewhere, so the output never sits at the last step silently.
  void stage(const std::string& what) const;
  /// Erases the terminal line (nothing to do for plain lines).
  void clear() const;

 private:
  bool enabled_, terminal_;
  int epoch_, epochs_, steps_, start_step_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

}  // namespace gnas
