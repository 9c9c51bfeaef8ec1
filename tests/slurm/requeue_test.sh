#!/usr/bin/env bash
# Runs jobs/slurm/search.sbatch outside Slurm, with stand-ins for srun and scontrol (the same cycle
# on a real Slurm is real_slurm_test.sh):
#   1. SIGUSR1 to the batch shell (the time-limit warning): gnas checkpoints and exits 3, the script
#      requeues the job; the restart resumes from the checkpoint and finishes.
#   2. SIGTERM to the batch shell (scancel): gnas checkpoints and exits 3, the script exits 3 and
#      does NOT requeue.
#   3. A restart whose run directory exists without a checkpoint passes --force and starts afresh;
#      a first start with such a directory does not (gnas refuses it).
# Usage: requeue_test.sh GNAS_EXE   (run from the repository root)
set -euo pipefail
gnas="$1"
work="$(mktemp -d "${TMPDIR:-/tmp}/gnas_slurmXXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cat > "$work/bin/srun" <<'SH'
#!/bin/sh
# One task, run in place: drop srun's own options, run the command.
while [ $# -gt 0 ]; do case "$1" in --*) shift ;; *) break ;; esac; done
exec "$@"
SH
printf '#!/bin/sh\necho "$@" >> "%s/requeued"\n' "$work" > "$work/bin/scontrol"
chmod +x "$work/bin/srun" "$work/bin/scontrol"
touch "$work/requeued"
cp "$(dirname "$0")/tiny.ini" "$work/tiny.ini"
cp "$(dirname "$0")/small.ini" "$work/small.ini"

export PATH="$work/bin:$PATH" SLURM_JOB_ID=4242 SLURM_SUBMIT_DIR="$PWD" GNAS="$gnas" CONFIG="$work/tiny.ini"
fail() { echo "FAIL: $*"; exit 1; }
# start_and_signal SIGNAL LOG: starts the job script in the background ($! is the batch shell
# itself), sends SIGNAL once training has started; sets rc to the script's exit code.
start_and_signal() {
  local job
  bash jobs/slurm/search.sbatch >> "$2" 2>&1 &
  job=$!
  for _ in $(seq 1 300); do
    grep -q "gnas search:" "$2" 2>/dev/null && break
    sleep 0.1
  done
  sleep 1
  kill "-$1" "$job"
  rc=0
  wait "$job" || rc=$?
  cat "$2"
}

# 1. USR1: checkpoint, exit 3, requeue; the restart resumes.
export OUT="$work/run1"
start_and_signal USR1 "$work/usr1.log"
[ "$rc" -eq 3 ] || fail "USR1: the first start exited $rc, expected 3"
grep -q "requeue 4242" "$work/requeued" || fail "USR1: expected 'scontrol requeue 4242', got: $(cat "$work/requeued")"
[ -f "$work/run1/checkpoints/latest.pt" ] || fail "USR1: no checkpoint"
rc=0
SLURM_RESTART_COUNT=1 bash jobs/slurm/search.sbatch >> "$work/usr1.log" 2>&1 || rc=$?
tail -4 "$work/usr1.log"
[ "$rc" -eq 0 ] || fail "USR1: the requeued start exited $rc, expected 0"
grep -q -- "--resume (job 4242, restart 1)" "$work/usr1.log" || fail "USR1: the restart did not pass --resume"
grep -q "resuming" "$work/usr1.log" || fail "USR1: gnas did not resume"
grep -q "epoch 2/2" "$work/usr1.log" || fail "USR1: the run did not finish"

# 2. TERM: checkpoint, exit 3, no requeue.
: > "$work/requeued"
export OUT="$work/run2"
start_and_signal TERM "$work/term.log"
[ "$rc" -eq 3 ] || fail "TERM: the script exited $rc, expected gnas's 3"
[ ! -s "$work/requeued" ] || fail "TERM: expected no requeue, got 'scontrol $(cat "$work/requeued")'"
grep -q "not requeued" "$work/term.log" || fail "TERM: the script did not say 'not requeued'"
[ -f "$work/run2/checkpoints/latest.pt" ] || fail "TERM: no checkpoint"

# 3. A run directory without a checkpoint (its first start died before the first epoch ended).
export OUT="$work/run3" CONFIG="$work/small.ini"
mkdir -p "$OUT"
cp "$work/small.ini" "$OUT/config.ini"
rc=0
bash jobs/slurm/search.sbatch > "$work/first.log" 2>&1 || rc=$?
cat "$work/first.log"
[ "$rc" -eq 2 ] || fail "a first start into an existing run directory exited $rc, expected gnas's 2 (refused)"
grep -q -- "--force (job" "$work/first.log" && fail "a first start passed --force"
rc=0
SLURM_RESTART_COUNT=1 bash jobs/slurm/search.sbatch > "$work/force.log" 2>&1 || rc=$?
cat "$work/force.log"
[ "$rc" -eq 0 ] || fail "the restart without a checkpoint exited $rc, expected 0"
grep -q -- "--force (job 4242, restart 1)" "$work/force.log" || fail "the restart without a checkpoint did not pass --force"
grep -q "resuming" "$work/force.log" && fail "the restart without a checkpoint resumed, expected a fresh start"
grep -q "epoch 1/1" "$work/force.log" || fail "the fresh start did not finish"
echo "PASS: USR1 -> checkpoint, exit 3, requeue, resume; TERM -> checkpoint, exit 3, no requeue;" \
  "restart without checkpoint -> --force"
