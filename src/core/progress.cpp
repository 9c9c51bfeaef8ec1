#include "gnas/core/progress.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "gnas/core/log.h"

namespace gnas {

std::string format_duration(double seconds) {
  const long t = std::lround(seconds);
  std::ostringstream o;
  if (t >= 3600)
    o << t / 3600 << "h" << std::setw(2) << std::setfill('0') << (t % 3600) / 60 << "m";
  else if (t >= 60)
    o << t / 60 << "m" << std::setw(2) << std::setfill('0') << t % 60 << "s";
  else
    o << t << "s";
  return o.str();
}

Progress::Progress(bool enabled, int epoch, int epochs, int steps, int start_step)
    : enabled_(enabled),
      terminal_(log_settings().interactive),
      epoch_(epoch),
      epochs_(epochs),
      steps_(steps),
      start_step_(start_step) {}

bool Progress::due(int step) {
  if (!enabled_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (!terminal_) {
    if (step + 1 >= steps_) return false;  // the epoch line reports the last step
    const int every = steps_ >= 10 ? steps_ / 10 : 1;
    const bool by_clock = std::chrono::duration<double>(now - last_).count() >= log_settings().progress_seconds;
    if ((step + 1) % every != 0 && !by_clock) return false;
    last_ = now;
    return true;
  }
  if (step + 1 < steps_ && std::chrono::duration<double>(now - last_).count() < 0.25) return false;
  last_ = now;
  return true;
}

void Progress::draw(int step, double loss, double accuracy, double samples_per_step) const {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? (step + 1 - start_step_) * samples_per_step / seconds : 0;
  if (!terminal_) {
    std::ostringstream line;
    line << std::fixed << "  epoch " << epoch_ + 1 << "/" << epochs_ << "  step " << step + 1 << "/" << steps_
         << "  loss " << std::setprecision(4) << loss << "  acc " << std::setprecision(1) << accuracy << "%  "
         << std::setprecision(0) << rate << " img/s";
    GNAS_LOG(INFO) << line.str();
    return;
  }
  std::printf("\r  epoch %d/%d  step %d/%d  loss %.4f  acc %5.1f%%  %.0f img/s  ", epoch_ + 1, epochs_, step + 1,
              steps_, loss, accuracy, rate);
  std::fflush(stdout);
}

void Progress::stage(const std::string& what) const {
  if (!enabled_) return;
  if (!terminal_) {
    GNAS_LOG(INFO) << "  epoch " << epoch_ + 1 << "/" << epochs_ << "  " << what;
    return;
  }
  std::printf("\r%*s\r  epoch %d/%d  %s", 80, "", epoch_ + 1, epochs_, what.c_str());
  std::fflush(stdout);
}

void Progress::clear() const {
  if (!enabled_ || !terminal_) return;
  std::printf("\r%*s\r", 80, "");
  std::fflush(stdout);
}

}  // namespace gnas
