#!/usr/bin/env bash
# Runs jobs/slurm/search.sbatch outside Slurm, with stand-ins for srun and scontrol: a SIGUSR1 to
# the batch shell must make gnas checkpoint and exit 3 and the script requeue the job; the second
# start must resume from the checkpoint and finish.
# Usage: requeue_test.sh GNAS_EXE   (run from the repository root)
set -euo pipefail
gnas="$1"
work="$(mktemp -d /tmp/gnas_slurmXXXXXX)"
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
cat > "$work/tiny.ini" <<'INI'
[net]
channels = 4
cells = 1
[train]
epochs = 2
batch = 16
[ga]
population = 4
generation = 4
n_v = 40
[data]
synthetic_train = 1600
synthetic_val = 80
INI

export PATH="$work/bin:$PATH" SLURM_JOB_ID=4242 SLURM_SUBMIT_DIR="$PWD" GNAS="$gnas" CONFIG="$work/tiny.ini" \
  OUT="$work/run"
run_job() { bash jobs/slurm/search.sbatch >> "$work/job.log" 2>&1; }

bash jobs/slurm/search.sbatch >> "$work/job.log" 2>&1 &   # $! is the batch shell itself
job=$!
for _ in $(seq 1 300); do  # wait until training has started
  grep -q "gnas search:" "$work/job.log" 2>/dev/null && break
  sleep 0.1
done
sleep 1
kill -USR1 "$job"
rc=0
wait "$job" || rc=$?
cat "$work/job.log"
[ "$rc" -eq 3 ] || { echo "FAIL: first start exited $rc, expected 3"; exit 1; }
grep -q "requeue 4242" "$work/requeued" || { echo "FAIL: the job was not requeued"; exit 1; }
[ -f "$work/run/checkpoints/latest.pt" ] || { echo "FAIL: no checkpoint"; exit 1; }

rc=0
run_job || rc=$?
tail -4 "$work/job.log"
[ "$rc" -eq 0 ] || { echo "FAIL: the requeued start exited $rc"; exit 1; }
grep -q -- "--resume" "$work/job.log" || { echo "FAIL: the second start did not pass --resume"; exit 1; }
grep -q "resuming" "$work/job.log" || { echo "FAIL: gnas did not resume"; exit 1; }
grep -q "epoch 2/2" "$work/job.log" || { echo "FAIL: the run did not finish"; exit 1; }
echo "PASS: SIGUSR1 -> checkpoint, exit 3, requeue; second start resumed and finished"
