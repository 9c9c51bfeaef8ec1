#pragma once
/// Preemption: SIGTERM and SIGUSR1 (what Slurm sends before a time limit or preemption) only set
/// a flag; the training loop polls it at step boundaries, writes a checkpoint and exits with
/// kExitRequeue so the job script can requeue itself.

namespace gnas {

/// Installs the handlers (idempotent). Returns immediately.
void install_stop_handlers();
/// The signal number that asked us to stop, or 0.
int stop_requested();
/// Clears the flag (tests).
void clear_stop_request();
/// Asks to stop as if `signal` had arrived (tests, and --debug options).
void request_stop(int signal);

}  // namespace gnas
