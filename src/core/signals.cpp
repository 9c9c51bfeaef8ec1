#include "gnas/core/signals.h"

#include <csignal>

namespace gnas {
namespace {
volatile std::sig_atomic_t g_stop_signal = 0;  // written by the handler only: async-signal-safe
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
}

int stop_requested() { return g_stop_signal; }
void clear_stop_request() { g_stop_signal = 0; }
void request_stop(int signal) { g_stop_signal = signal; }

}  // namespace gnas
