# Sourced by the gnas job scripts: runs one srun step that can be preempted, and requeues the job
# when gnas stopped on a signal after writing a checkpoint (exit code 3).
#
#   run_requeueable srun [srun options] build/gnas ARGS...
#
# Slurm sends SIGUSR1 to the batch shell (--signal=B:USR1@300); it is forwarded to srun, which
# passes it to every rank. gnas finishes its step, checkpoints and exits 3; the job is requeued and
# the next start (same job id, same run directory) passes --resume.
run_requeueable() {
  "$@" &
  local step=$! rc
  trap 'kill -USR1 "$step" 2>/dev/null' USR1 TERM
  while true; do
    wait "$step"
    rc=$?
    # wait returns early (rc > 128) when a trapped signal arrives; keep waiting for srun itself.
    kill -0 "$step" 2>/dev/null || break
  done
  trap - USR1 TERM
  if [ "$rc" -eq 3 ]; then
    echo "$(date -u +%FT%TZ) checkpointed on a signal; requeueing job ${SLURM_JOB_ID:-?}"
    scontrol requeue "${SLURM_JOB_ID}"
  fi
  return "$rc"
}

# Prints --resume when the run directory $1 holds a checkpoint.
resume_flag() {
  if [ -f "$1/checkpoints/latest.pt" ] || [ -f "$1/checkpoints/previous.pt" ]; then echo --resume; fi
}
