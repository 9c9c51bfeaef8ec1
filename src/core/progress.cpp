#include "gnas/core/progress.h"

#include <cstdio>

namespace gnas {

Progress::Progress(bool enabled, int epoch, int epochs, int steps)
    : enabled_(enabled), epoch_(epoch), epochs_(epochs), steps_(steps) {}

bool Progress::due(int step) {
  if (!enabled_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (step + 1 < steps_ && std::chrono::duration<double>(now - last_).count() < 0.25) return false;
  last_ = now;
  return true;
}

void Progress::draw(int step, double loss, double accuracy) const {
  std::printf("\r  epoch %d/%d  step %d/%d  loss %.4f  acc %5.1f%%  ", epoch_ + 1, epochs_, step + 1, steps_, loss,
              accuracy);
  std::fflush(stdout);
}

void Progress::clear() const {
  if (!enabled_) return;
  std::printf("\r%*s\r", 72, "");
  std::fflush(stdout);
}

}  // namespace gnas
