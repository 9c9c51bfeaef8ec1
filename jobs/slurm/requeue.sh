# Sourced by the gnas job scripts: runs one job step that can be stopped by a signal, and decides
# from the signal whether the job is requeued.
#
#   run_requeueable srun [srun options] build/gnas ARGS...
#
# What a signal means:
#   SIGUSR1 to the batch shell: the time-limit warning (#SBATCH --signal=B:USR1@300). It is passed
#            to the step; gnas finishes its step, checkpoints and exits 3; the script runs
#            `scontrol requeue` and the next start (same job id, same run directory) passes --resume.
#   SIGTERM to the batch shell: scancel, a node shutdown, preemption without GraceTime. The step is
#            told to stop the same way (gnas checkpoints and exits 3), but the script does NOT
#            requeue: it exits with gnas's code. Slurm itself requeues a preempted job when
#            PreemptMode=REQUEUE. A SIGTERM after a SIGUSR1 still means "stop": no requeue.
#   SIGTERM to the step only: preemption with GraceTime > 0 (the batch shell is signalled only when
#            the grace time ends). gnas checkpoints and exits 3 at once; the script then waits for
#            Slurm's end-of-grace signal, so that Slurm requeues (or cancels) the job as its
#            PreemptMode says, instead of the job ending early as FAILED and never coming back.
# The step always gets SIGUSR1 from the script, never SIGTERM: srun answers a SIGTERM by killing
# its tasks (SIGKILL), and gnas treats both signals alike.

# mpirun (Open MPI 4.1) answers a SIGTERM, or a rank's non-zero exit, by waiting this many seconds,
# sending SIGTERM to every rank, waiting again, then SIGKILL. Its default of 1 s kills rank 0 while
# it writes the checkpoint; 10 s lets every rank finish its step and rank 0 its checkpoint, and
# mpirun is gone after 20 s, inside Slurm's default KillWait of 30 s. Only mpirun reads it (srun
# starts the ranks itself); keep 2 x this value below the cluster's KillWait.
export OMPI_MCA_odls_base_sigkill_timeout="${OMPI_MCA_odls_base_sigkill_timeout:-10}"

# srun from Slurm 22.05 on does not take --cpus-per-task from the batch job: without this, every task
# of a step would get one CPU while gnas runs --threads SLURM_CPUS_PER_TASK threads on it.
if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then export SRUN_CPUS_PER_TASK="${SRUN_CPUS_PER_TASK:-$SLURM_CPUS_PER_TASK}"; fi

# GNAS_ENV=FILE: the site's set-up (module load ..., a virtual environment), sourced before any step
# starts; srun passes the environment it makes to the tasks on every node.
if [ -n "${GNAS_ENV:-}" ]; then
  if [ ! -f "$GNAS_ENV" ]; then
    echo "GNAS_ENV=$GNAS_ENV: no such file (it should hold the site's module loads)" >&2
    exit 2
  fi
  # shellcheck disable=SC1090
  source "$GNAS_ENV"
fi

gnas_stop_signal=""   # USR1 or TERM: why the batch shell asked the step to stop (TERM wins)
_gnas_step=""

_gnas_log() { echo "$(date -u +%FT%TZ) $*"; }

_gnas_on_signal() {
  if [ "$gnas_stop_signal" != TERM ]; then gnas_stop_signal="$1"; fi
  _gnas_log "SIG$1 to the batch shell: asking the job step to checkpoint and stop"
  kill -USR1 "$_gnas_step" 2>/dev/null
}

# The job field $1 of `scontrol show job` for this job (empty when unknown).
_gnas_job_field() {
  scontrol show job "${SLURM_JOB_ID:-}" 2>/dev/null | grep -oE "(^|[[:space:]])$1=[^[:space:]]*" | head -n 1 | cut -d= -f2-
}

# Waits, at most until the preemption's end time plus a few minutes, for Slurm's signal to the batch
# shell at the end of the grace time (the trap exits 3), or returns after that.
_gnas_wait_for_preemption() {
  local endtime end deadline sleeper=""
  endtime=$(_gnas_job_field EndTime)
  if [ -z "$endtime" ] || ! end=$(date -d "$endtime" +%s 2>/dev/null); then end=$(($(date +%s) + 600)); fi
  deadline=$((end + 300))
  _gnas_log "job ${SLURM_JOB_ID:-?} is being preempted: gnas has checkpointed; waiting for Slurm to requeue or cancel it"
  trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 3' TERM USR1
  while [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 2 &
    sleeper=$!
    wait "$sleeper"
  done
  trap - TERM USR1
  _gnas_log "no signal from Slurm by the end of the grace time; exiting 3"
}

run_requeueable() {
  local rc preempt
  gnas_stop_signal=""
  "$@" &
  _gnas_step=$!
  trap '_gnas_on_signal USR1' USR1
  trap '_gnas_on_signal TERM' TERM
  while true; do
    wait "$_gnas_step"
    rc=$?
    # wait returns early (rc > 128) when a trapped signal arrives; keep waiting for the step itself.
    kill -0 "$_gnas_step" 2>/dev/null || break
  done
  trap - USR1 TERM
  if [ "$rc" -eq 3 ] && [ "$gnas_stop_signal" = USR1 ]; then
    _gnas_log "checkpointed at the time-limit warning; requeueing job ${SLURM_JOB_ID:-?}"
    scontrol requeue "${SLURM_JOB_ID}"
  elif [ "$rc" -eq 3 ] && [ -z "$gnas_stop_signal" ] && preempt=$(_gnas_job_field PreemptTime) \
    && [ -n "$preempt" ] && [ "$preempt" != None ]; then
    _gnas_wait_for_preemption
  elif [ "$rc" -eq 3 ]; then
    _gnas_log "checkpointed on ${gnas_stop_signal:+SIG}${gnas_stop_signal:-a signal to the step};" \
      "not requeued by this script (Slurm requeues a preemption with PreemptMode=REQUEUE itself;" \
      "otherwise submit again with OUT set to the run directory to continue)"
  fi
  return "$rc"
}

# Prints the gnas options for this start of the job, given its run directory $1:
#   --resume  when $1 holds a checkpoint;
#   --force   on a restart (SLURM_RESTART_COUNT > 0) when $1 exists without one: the previous start
#             was stopped before its first checkpoint, so the run starts afresh in the same
#             directory (gnas's lock on the directory keeps --force off a run that is still live);
#   nothing   otherwise (a first start; gnas refuses an existing directory).
start_flags() {
  if [ -f "$1/checkpoints/latest.pt" ] || [ -f "$1/checkpoints/previous.pt" ]; then
    echo --resume
  elif [ -e "$1" ] && [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
    echo --force
  fi
}
