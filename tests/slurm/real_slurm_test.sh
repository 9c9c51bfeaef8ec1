#!/usr/bin/env bash
# The Slurm lifecycle of the job scripts on a real Slurm: starts a private munged, slurmctld and
# slurmd (one node, 4 CPUs configured, no GPUs) in a temporary directory, submits the jobs the way README's
# "Slurm" section says, and checks:
#   A  search.sbatch, scancel --signal=USR1 --batch (the time-limit warning): gnas checkpoints and
#      exits 3, the script requeues the job, the restart (Restarts=1) resumes and finishes;
#   B  a plain scancel: gnas checkpoints and exits 3, the job ends CANCELLED and is not requeued;
#      submitted again with OUT=<its run directory> it resumes and finishes;
#   D  a requeue before the first checkpoint (the step SIGKILLed, then scontrol requeue): the
#      restart passes --force and the run starts afresh and finishes;
#   P  pipeline.sh: a 2-task search (srun --mpi=pmix; the log's world_size is 2), then the retrain
#      that depends on it, reading the search's run directory, and the evaluation;
#   S  sweep.sbatch as a 2-task array: one run directory per seed, with that seed;
#   C  search.sbatch with --cpus-per-task=2 (Slurm 22.05's srun does not take it from the batch job):
#      the step gets 2 CPUs for its task, gnas runs 2 threads, and GNAS_ENV is sourced first;
#   C2 the same with 2 tasks x 2 CPUs: the step gets 4 CPUs for its 2 tasks, both ranks run 2 threads;
#   X  ablation.sbatch as a 2-task array (ga.p_m 0.02 and 0.3, one seed): one run directory per value,
#      with that value, drawn by gnas-analysis ablation; an array of the wrong size is refused;
#   E  preemption (PreemptMode=REQUEUE, GraceTime=5) by a job in a higher partition: gnas
#      checkpoints on the tasks' SIGTERM, the script waits for the end of the grace time, Slurm
#      requeues the job itself, the restart resumes and finishes.
# Exit 77 (skip) only when the daemons cannot be started; their logs are printed.
# Usage: real_slurm_test.sh GNAS_EXE   (run from the repository root, as root)
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 GNAS_EXE" >&2; exit 2; }
[ -f jobs/slurm/search.sbatch ] || { echo "FAIL: run from the repository root" >&2; exit 1; }
gnas="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
tests="$(cd "$(dirname "$0")" && pwd)"   # tiny.ini, small.ini
[ -x "$gnas" ] || { echo "FAIL: $1 is not an executable" >&2; exit 1; }

# A Slurm job's environment must not leak into this private cluster.
for v in $(compgen -e); do
  case "$v" in SLURM_* | SBATCH_* | SRUN_* | SALLOC_*) unset "$v" ;; esac
done

t_start=$SECONDS
say() { echo "[$((SECONDS - t_start))s] $*"; }

state="$(mktemp -d "${TMPDIR:-/tmp}/gnas_slurm.XXXXXX")"
chmod 755 "$state"   # munged wants every directory above its socket searchable
mkdir -p "$state/munge" "$state/run" "$state/log" "$state/ctld" "$state/spool" "$state/tmp" "$state/jobs"
chmod 700 "$state/munge"
chmod 755 "$state/run"
daemons=()     # "name:pid" of every daemon this script started, in start order
watchdog=""

show_logs() {
  local f
  for f in "$state"/log/*; do
    [ -s "$f" ] || continue
    echo "---- $f (last 40 lines)"
    tail -n 40 "$f"
  done
}
show_jobs() {
  local f
  for f in "$state"/jobs/*.out; do
    [ -f "$f" ] || continue
    echo "---- $f"
    cat "$f"
  done
}
stop_pid() {  # stop_pid PID: SIGTERM, up to 15 s, then SIGKILL
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  local rc=$? i jobs t0=$SECONDS
  trap - EXIT INT TERM
  if [ ${#daemons[@]} -ge 3 ]; then
    # No job may outlive the cluster: cancel them all, and give their steps up to 20 s to end.
    jobs=$(timeout 5 squeue -h -o %i 2>/dev/null)
    if [ -n "$jobs" ]; then
      timeout 5 scancel --full --quiet $jobs 2>/dev/null
      while ((SECONDS - t0 < 20)) && [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null)" ]; do sleep 0.2; done
    fi
  fi
  [ -n "$watchdog" ] && stop_pid "$watchdog"
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do stop_pid "${daemons[i]#*:}"; done
  rm -rf "$state"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
skip() { echo "SKIP: $*"; show_logs; exit 77; }
fail() {
  echo "FAIL: $*"
  show_jobs
  timeout 10 scontrol show job 2>/dev/null | grep -E "JobId|JobState|Restarts|ExitCode"
  show_logs
  exit 1
}
# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.5 s; fails after SECONDS.
wait_until() {
  local limit="$1" what="$2" t0=$SECONDS
  shift 2
  until "$@"; do
    ((SECONDS - t0 < limit)) || fail "waited ${limit}s for $what"
    sleep 0.5
  done
}

# ---- the private cluster --------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs (this is uid $(id -u))"
for tool in munged munge slurmctld slurmd sbatch srun scontrol squeue scancel sinfo; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/bootstrap installs slurm-wlm and munge)"
done
command -v h5dump >/dev/null || fail "h5dump is not installed (hdf5-tools)"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if port_free "$p" && port_free "$((p + 1))"; then echo "$p"; return; fi
  done
  return 1
}
port=$(pick_port) || skip "no free TCP port pair found on 127.0.0.1"
host=$(hostname -s)

head -c 1024 /dev/urandom > "$state/munge/munge.key"
chmod 400 "$state/munge/munge.key"
sock="$state/run/munge.sock"
munged --foreground --socket="$sock" --key-file="$state/munge/munge.key" --pid-file="$state/run/munged.pid" \
  --seed-file="$state/munge/seed" --log-file="$state/log/munged.log" > "$state/log/munged.out" 2>&1 &
daemons+=("munged:$!")
for _ in $(seq 1 100); do
  munge -S "$sock" -n > /dev/null 2>&1 && break
  kill -0 "${daemons[0]#*:}" 2>/dev/null || break
  sleep 0.1
done
munge -S "$sock" -n > /dev/null 2>&1 || skip "munged exited or did not answer within 10 s"

export SLURM_CONF="$state/slurm.conf"
cat > "$SLURM_CONF" <<EOF
# Generated by tests/slurm/real_slurm_test.sh: one node, private state, files and ports.
ClusterName=gnastest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also holds a requeued job back (cred_expire + 1 s, default 121 s): 5 s is the minimum.
AuthInfo=socket=$sock,cred_expire=5
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
TmpFS=$state/tmp
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=$(command -v true)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
JobRequeue=1
ReturnToService=2
MinJobAge=3600
KillWait=30
# Start jobs within seconds of becoming eligible (the default passes are every 60 s and 30 s).
SchedulerParameters=sched_interval=2,bf_interval=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
# 4 CPUs on a 2-core machine (config_overrides, task/none: no binding), so that a job of 2 tasks x 2
# CPUs fits on the one node.
NodeName=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=500 State=UNKNOWN
# A job in "urgent" preempts jobs in "test" (5 s grace time), and Slurm requeues them.
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP PriorityTier=1 GraceTime=5
PartitionName=urgent Nodes=$host MaxTime=INFINITE State=UP PriorityTier=2
EOF

slurmctld -D -i > "$state/log/slurmctld.out" 2>&1 &
daemons+=("slurmctld:$!")
# wait_up CHECK DAEMON_INDEX: up to 30 s until CHECK succeeds, or the daemon has exited.
wait_up() {
  for _ in $(seq 1 60); do
    "$1" && return 0
    kill -0 "${daemons[$2]#*:}" 2>/dev/null || break
    sleep 0.5
  done
  "$1"
}
ctld_up() { timeout 5 scontrol ping 2>/dev/null | grep -q "is UP"; }
wait_up ctld_up 1 || skip "slurmctld exited or did not answer a ping within 30 s"

slurmd -D > "$state/log/slurmd.out" 2>&1 &
daemons+=("slurmd:$!")
node_idle() { [ "$(timeout 5 sinfo -h -n "$host" -o %t 2>/dev/null)" = idle ]; }
wait_up node_idle 2 || skip "slurmd exited or did not register node $host as idle within 30 s (sinfo: $(sinfo -h 2>&1))"

# If this script is killed outright (SIGKILL), the watchdog still stops the daemons.
(
  trap '' INT
  while kill -0 $$ 2>/dev/null; do sleep 1; done
  for d in "${daemons[@]}"; do kill -TERM "${d#*:}" 2>/dev/null; done
  sleep 5
  rm -rf "$state"
) > /dev/null 2>&1 &
watchdog=$!
say "cluster up: slurmctld on port $port, node $host (4 CPUs), state in $state"

# ---- helpers ---------------------------------------------------------------------------------------
field() { timeout 10 scontrol -o show job "$1" 2>/dev/null | grep -oE "(^| )$2=[^ ]*" | head -1 | cut -d= -f2-; }
state_is() { [ "$(field "$1" JobState)" = "$2" ]; }
restarts_is() { [ "$(field "$1" Restarts)" = "$2" ]; }
ended() {  # the batch script has ended: a final state, not COMPLETING
  local s
  s=$(field "$1" JobState)
  case "$s" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY) ;; *) return 1 ;; esac
  ! timeout 10 scontrol -o show job "$1" | grep -q "COMPLETING"
}
started_training() { grep -q "gnas search:" "$1" 2>/dev/null; }
expect_grep() {  # expect_grep FILE PATTERN WHAT
  grep -q -- "$2" "$1" || fail "$3: expected '$2' in $1, which says:
$(cat "$1" 2>/dev/null)"
}
expect_eq() {  # expect_eq GOT WANT WHAT
  [ "$1" = "$2" ] || fail "$3: expected $2, got '${1}'"
}

cpu=(--gpus-per-task=0 --ntasks-per-node=1 --cpus-per-task=1)   # README: CPU-only submission
cfg="$state/search.ini"    # ~20 s on one core: 2 epochs x 100 steps
cp "$tests/tiny.ini" "$cfg"
one="$state/one.ini"       # ~10 s on one core: 1 epoch x 100 steps
sed 's/^epochs = 2$/epochs = 1/' "$cfg" > "$one"
small="$state/small.ini"   # a few seconds: 1 epoch x 8 steps
cp "$tests/small.ini" "$small"
retrain_cfg="$state/retrain.ini"
cat > "$retrain_cfg" <<'INI'
[net]
channels = 4
cells = 1
[train]
epochs = 1
batch = 32
[data]
synthetic_train = 256
synthetic_val = 100
synthetic_test = 200
INI
submit() {  # submit NAME ENV... -- SBATCH-ARGS...: prints the job id; output in $state/jobs/NAME.out
  local name="$1" envs=() id
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  id=$(env GNAS="$gnas" "${envs[@]}" sbatch --parsable -o "$state/jobs/$name.out" "$@") || return 1
  echo "${id%%;*}"
}

# ---- A (USR1 -> requeue -> resume) and B (scancel -> cancelled), side by side ------------------------
A=$(submit A CONFIG="$cfg" OUT="$state/runA" -- "${cpu[@]}" jobs/slurm/search.sbatch) || fail "sbatch for job A failed"
B=$(submit B CONFIG="$one" OUT="$state/runB" -- "${cpu[@]}" jobs/slurm/search.sbatch) || fail "sbatch for job B failed"
say "submitted A=$A (USR1) and B=$B (scancel)"
wait_until 60 "job B to start training" started_training "$state/jobs/B.out"
sleep 2
scancel "$B"
say "scancel $B"
wait_until 60 "job A to start training" started_training "$state/jobs/A.out"
sleep 1
scancel --signal=USR1 --batch "$A"
say "scancel --signal=USR1 --batch $A"

wait_until 60 "job B to end after scancel" ended "$B"
say "B ended: $(field "$B" JobState), ExitCode $(field "$B" ExitCode)"
expect_eq "$(field "$B" JobState)" CANCELLED "B's state after scancel"
expect_eq "$(field "$B" Restarts)" 0 "B's restarts after scancel"
expect_grep "$state/jobs/B.out" "checkpoint written" "B: gnas checkpointed on scancel"
expect_grep "$state/jobs/B.out" "exiting with code 3" "B: gnas exited 3"
expect_grep "$state/jobs/B.out" "not requeued" "B: the script did not requeue"
[ -f "$state/runB/checkpoints/latest.pt" ] || fail "B: no checkpoints/latest.pt after scancel"

# ---- D: a requeue before the first checkpoint starts afresh ----------------------------------------
D=$(submit D CONFIG="$one" OUT="$state/runD" -- "${cpu[@]}" jobs/slurm/search.sbatch) || fail "sbatch for job D failed"
say "submitted D=$D (killed before its first checkpoint, then requeued)"
wait_until 90 "job D to start training" started_training "$state/jobs/D.out"
scancel --signal=KILL "$D.0"   # the job step only, like a crash: no checkpoint, the batch script fails
wait_until 60 "job D to fail" ended "$D"
say "D ended: $(field "$D" JobState), ExitCode $(field "$D" ExitCode)"
[ -e "$state/runD/checkpoints/latest.pt" ] && fail "D: the first epoch ended before the kill; the test needs a run dir without checkpoint"
[ -d "$state/runD" ] || fail "D: gnas had not created its run directory"
scontrol requeue "$D" || fail "scontrol requeue $D failed"
say "scontrol requeue $D"

# ---- B again: submitted with OUT=<its run directory>, it resumes ------------------------------------
B2=$(submit B2 CONFIG="$one" OUT="$state/runB" -- "${cpu[@]}" jobs/slurm/search.sbatch) || fail "sbatch for job B2 failed"
say "submitted B2=$B2 (continues B's run directory)"

# ---- A: requeued, resumed, finished --------------------------------------------------------------
wait_until 60 "job A to be requeued (Restarts=1)" restarts_is "$A" 1
t_requeue=$SECONDS
wait_until 60 "requeued job A to run again" state_is "$A" RUNNING
say "A requeued and running again after $((SECONDS - t_requeue))s"

# ---- P: pipeline, a 2-task search through srun --mpi=pmix, then a 2-task retrain ---------------------
pipe=$(GNAS="$gnas" SEARCH_CONFIG="$small" RETRAIN_CONFIG="$retrain_cfg" SEARCH_OUT="$state/pipe-search" \
  RETRAIN_OUT="$state/pipe-retrain" SEARCH_OPTS="--ntasks-per-node=2" RETRAIN_OPTS="--ntasks-per-node=2" \
  jobs/slurm/pipeline.sh --gpus-per-task=0 --cpus-per-task=1 -o "$state/jobs/%x-%j.out") || fail "pipeline.sh failed: $pipe"
echo "$pipe"
P1=$(echo "$pipe" | sed -n 's/^search  job \([0-9]*\).*/\1/p')
P2=$(echo "$pipe" | sed -n 's/^retrain job \([0-9]*\).*/\1/p')
[ -n "$P1" ] && [ -n "$P2" ] || fail "pipeline.sh did not print both job ids"
expect_eq "$(field "$P2" Dependency)" "afterok:${P1}(unfulfilled)" "the retrain job's dependency"

# ---- S: seed sweep, 2 array tasks ------------------------------------------------------------------
S=$(submit "sweep-%a" CONFIG="$small" SWEEP_DIR="$state/sweep" -- --array=1-2 "${cpu[@]}" jobs/slurm/sweep.sbatch) || fail "sbatch for job S failed"
X=$(submit "ablation-%a" CONFIG="$small" KEY=ga.p_m VALUES="0.02 0.3" SEEDS=1 ABLATION_DIR="$state/ablation" -- \
  --array=0-1 "${cpu[@]}" jobs/slurm/ablation.sbatch) || fail "sbatch for job X failed"
XW=$(submit "ablation-wrong-%a" CONFIG="$small" KEY=ga.p_m VALUES="0.02 0.3" SEEDS=1 \
  ABLATION_DIR="$state/ablation-wrong" -- --array=0-2 "${cpu[@]}" jobs/slurm/ablation.sbatch) \
  || fail "sbatch for job XW failed"
say "submitted P=$P1 -> $P2 (pipeline), S=$S (sweep), X=$X (ablation) and XW=$XW (ablation, wrong array size)"

# ---- checks, in the order the jobs end -------------------------------------------------------------
wait_until 180 "job A to finish" ended "$A"
say "A ended: $(field "$A" JobState), Restarts $(field "$A" Restarts)"
expect_eq "$(field "$A" JobState)" COMPLETED "A's final state"
expect_eq "$(field "$A" Restarts)" 1 "A's restarts"
expect_grep "$state/jobs/A.out" "SIGUSR1 to the batch shell" "A: the batch shell got USR1"
expect_grep "$state/jobs/A.out" "checkpoint written" "A: gnas checkpointed"
expect_grep "$state/jobs/A.out" "exiting with code 3" "A: gnas exited 3"
expect_grep "$state/jobs/A.out" "requeueing job $A" "A: the script requeued"
expect_grep "$state/jobs/A.out" "--resume (job $A, restart 1)" "A: the restart passed --resume"
expect_grep "$state/jobs/A.out" "resuming" "A: gnas resumed"
expect_grep "$state/jobs/A.out" "epoch 2/2" "A: the run finished"
expect_grep "$state/jobs/A.out" "wrote " "A: the run wrote its files"
[ -f "$state/runA/checkpoints/latest.pt" ] && [ -f "$state/runA/log.h5" ] \
  || fail "A: expected checkpoints/latest.pt and log.h5 in $state/runA, found: $(ls -R "$state/runA")"

wait_until 120 "job D to finish after its requeue" ended "$D"
say "D ended: $(field "$D" JobState), Restarts $(field "$D" Restarts)"
expect_eq "$(field "$D" JobState)" COMPLETED "D's final state after the requeue"
expect_eq "$(field "$D" Restarts)" 1 "D's restarts"
expect_grep "$state/jobs/D.out" "--force (job $D, restart 1)" "D: the restart passed --force"
expect_grep "$state/jobs/D.out" "epoch 1/1" "D: the fresh run finished"
grep -q "resuming" "$state/jobs/D.out" && fail "D: the restart resumed, expected a fresh start"

wait_until 120 "job B2 to finish" ended "$B2"
say "B2 ended: $(field "$B2" JobState)"
expect_eq "$(field "$B2" JobState)" COMPLETED "B2's final state"
expect_grep "$state/jobs/B2.out" "--resume (job $B2, restart 0)" "B2: resubmitted with OUT, it passed --resume"
expect_grep "$state/jobs/B2.out" "resuming" "B2: gnas resumed B's checkpoint"
expect_grep "$state/jobs/B2.out" "epoch 1/1" "B2: the run finished"
expect_eq "$(field "$B" JobState)/$(field "$B" Restarts)" CANCELLED/0 "B, long after scancel"

wait_until 120 "the pipeline's retrain job to finish" ended "$P2"
say "pipeline ended: search $(field "$P1" JobState), retrain $(field "$P2" JobState)"
expect_eq "$(field "$P1" JobState)" COMPLETED "the pipeline's search"
expect_eq "$(field "$P2" JobState)" COMPLETED "the pipeline's retrain"
p1_out="$state/jobs/gnas-search-$P1.out"
p2_out="$state/jobs/gnas-retrain-$P2.out"
expect_grep "$p1_out" "x 2 ranks" "pipeline search: 2 ranks through srun --mpi=pmix"
world=$(h5dump -a /world_size "$state/pipe-search/log.h5" 2>&1 | sed -n 's/^ *(0): *//p')
expect_eq "$world" 2 "world_size attribute of the 2-task search's log.h5"
expect_grep "$p2_out" "--genome $state/pipe-search" "retrain: reads the search's run directory"
expect_grep "$p2_out" "x 2 ranks" "pipeline retrain: 2 ranks through srun --mpi=pmix"
world=$(h5dump -a /world_size "$state/pipe-retrain/log.h5" 2>&1 | sed -n 's/^ *(0): *//p')
expect_eq "$world" 2 "world_size attribute of the 2-task retrain's log.h5"
expect_grep "$p2_out" "test top-1" "retrain: the evaluation ran"
[ -f "$state/pipe-retrain/model_last.pt" ] || fail "retrain: no model_last.pt in $state/pipe-retrain"
# The run status records the Slurm job and its end, and gnas runs lists both runs as finished.
expect_grep "$state/pipe-search/status.json" "\"slurm_job_id\": \"$P1\"" "search status: the Slurm job id"
expect_grep "$state/pipe-retrain/status.json" "\"slurm_job_id\": \"$P2\"" "retrain status: the Slurm job id"
expect_grep "$state/pipe-search/status.json" "\"world_size\": 2" "search status: 2 ranks"
runs_csv=$("$gnas" runs --csv "$state/pipe-search" "$state/pipe-retrain") || fail "gnas runs failed: $runs_csv"
[ "$(echo "$runs_csv" | grep -c ',finished,')" = 2 ] || fail "gnas runs: expected 2 finished runs, got: $runs_csv"

array_ended() {  # every task of array job $1 has ended
  # squeue -r lists each task still pending or running (a pending remainder of an array is not always
  # in scontrol's records of the array job while its other tasks end); then scontrol for COMPLETING.
  local queued lines
  queued=$(timeout 10 squeue -h -r -j "$1" 2>/dev/null) || return 1
  [ -z "$queued" ] || return 1
  lines=$(timeout 10 scontrol -o show job "$1" 2>/dev/null) || return 1
  [ -n "$lines" ] && ! echo "$lines" | grep -qE "JobState=(PENDING|RUNNING|REQUEUED|COMPLETING|CONFIGURING|SUSPENDED)|COMPLETING"
}
wait_until 120 "the sweep's tasks to finish" array_ended "$S"
for seed in 1 2; do
  out="$state/jobs/sweep-$seed.out"
  expect_grep "$out" "--seed $seed" "sweep task $seed"
  expect_grep "$out" "wrote $state/sweep/seed-$seed/" "sweep task $seed: its own run directory"
  got=$(h5dump -a /seed "$state/sweep/seed-$seed/log.h5" 2>&1 | sed -n 's/^ *(0): *//p')
  expect_eq "$got" "$seed" "seed attribute of sweep task $seed's log.h5"
done
expect_eq "$(timeout 10 scontrol -o show job "$S" | grep -c "JobState=COMPLETED")" 2 "completed sweep tasks"

wait_until 120 "the ablation's tasks to finish" array_ended "$X"
for value in 0.02 0.3; do
  run="$state/ablation/ga.p_m-$value-seed1"
  [ -f "$run/log.h5" ] || fail "ablation: no log.h5 in $run; $(cat "$state"/jobs/ablation-*.out)"
  grep -q "^p_m = $value\$" "$run/config.ini" || fail "ablation: $run/config.ini does not set p_m = $value"
done
expect_eq "$(timeout 10 scontrol -o show job "$X" | grep -c "JobState=COMPLETED")" 2 "completed ablation tasks"
analysis="$(dirname "$gnas")/gnas-analysis"
[ -x "$analysis" ] || fail "ablation: $analysis is missing (a Python with h5py is needed to draw the ablation)"
"$analysis" ablation "$state/ablation" --key ga.p_m --out "$state/ablation-figure" > "$state/ablation-figure.txt" 2>&1 \
  || fail "gnas-analysis ablation failed: $(cat "$state/ablation-figure.txt")"
[ -s "$state/ablation-figure/ablation.png" ] || fail "gnas-analysis ablation drew no ablation.png"
expect_grep "$state/ablation-figure.txt" "| 0.3 | 1 |" "gnas-analysis ablation: the row of ga.p_m = 0.3"
wait_until 60 "the wrong-size ablation's tasks to end" array_ended "$XW"
expect_grep "$state/jobs/ablation-wrong-0.out" "but 2 value(s) x SEEDS=1 = 2 runs; submit with --array=0-1" \
  "ablation with 3 tasks for 2 runs"
[ -e "$state/ablation-wrong" ] && fail "the wrong-size ablation created $state/ablation-wrong"

# ---- C: 2 CPUs per task reach the step and gnas's threads; the site hook runs ------------------------
# The hook also sets OMP_WAIT_POLICY=PASSIVE: this test's "node" is the 2 CPUs of a machine that runs
# other tests beside it, where spinning OpenMP threads ran job C at 6-12 img/s instead of 100-200 and
# timed it out (README, "Threads, measured"); a site that shares nodes would do the same.
echo 'echo "site hook sourced on $(hostname)"; export GNAS_SITE_HOOK=1; export OMP_WAIT_POLICY=PASSIVE' \
  > "$state/site-env.sh"
C=$(submit C CONFIG="$one" OUT="$state/runC" GNAS_ENV="$state/site-env.sh" -- --gpus-per-task=0 --ntasks-per-node=1 \
  --cpus-per-task=2 jobs/slurm/search.sbatch) || fail "sbatch for job C failed"
say "submitted C=$C (1 task x 2 CPUs)"
wait_until 60 "job C to start training" started_training "$state/jobs/C.out"
timeout 10 scontrol -o show step "$C.0" > "$state/stepC.txt" 2>&1
wait_until 120 "job C to finish" ended "$C"
expect_eq "$(field "$C" JobState)" COMPLETED "C's final state"
grep -qE "(TRES=cpu=2|CPUs=2)([, ]|$)" "$state/stepC.txt" || fail "C: the step did not get 2 CPUs: $(cat "$state/stepC.txt")"
expect_grep "$state/jobs/C.out" "--threads 2" "C: gnas was asked for 2 threads"
expect_grep "$state/jobs/C.out" "2 thread(s) on 2 CPU(s)" "C: gnas runs 2 threads on its 2 CPUs"
expect_grep "$state/jobs/C.out" "site hook sourced on" "C: GNAS_ENV was sourced"
grep -q "WARN: 2 torch threads" "$state/jobs/C.out" && fail "C: gnas warned of too few CPUs"

# ---- C2: 2 tasks x 2 CPUs: the step gets 4 CPUs, and each rank follows with 2 threads ----------------
C2=$(submit C2 CONFIG="$one" OUT="$state/runC2" ARGS="--log.all_ranks true" GNAS_ENV="$state/site-env.sh" -- \
  --gpus-per-task=0 --ntasks=2 \
  --ntasks-per-node=2 --cpus-per-task=2 jobs/slurm/search.sbatch) || fail "sbatch for job C2 failed"
say "submitted C2=$C2 (2 tasks x 2 CPUs)"
wait_until 60 "job C2 to start training" started_training "$state/jobs/C2.out"
timeout 10 scontrol -o show step "$C2.0" > "$state/stepC2.txt" 2>&1
wait_until 180 "job C2 to finish" ended "$C2"
expect_eq "$(field "$C2" JobState)" COMPLETED "C2's final state"
say "C2's step: $(grep -oE "(Tasks|CPUs|TRES)=[^ ]+" "$state/stepC2.txt" | tr '\n' ' ')"
grep -qE "(TRES=cpu=4|CPUs=4)([, ]|$)" "$state/stepC2.txt" || fail "C2: the step did not get 4 CPUs: $(cat "$state/stepC2.txt")"
grep -qE "Tasks=2( |$)" "$state/stepC2.txt" || fail "C2: the step did not run 2 tasks: $(cat "$state/stepC2.txt")"
expect_grep "$state/jobs/C2.out" "--threads 2" "C2: gnas was asked for 2 threads per rank"
for r in 0 1; do
  expect_grep "$state/jobs/C2.out" "\[$r/2\] gnas search: .* x 2 ranks .* 2 thread(s) on " "C2: rank $r runs 2 threads"
done
grep -q "\"world_size\": 2" "$state/runC2/status.json" || fail "C2: status.json does not record 2 ranks"

# ---- E: preemption with PreemptMode=REQUEUE and a grace time ----------------------------------------
# The tasks get SIGTERM at once, the batch shell only when the grace time is over (slurmctld checks
# that every 30 s): the script must wait for it, or the job would end FAILED and never come back.
# (Without a grace time the batch shell gets SIGTERM at once: the scancel path, and Slurm requeues.)
E=$(submit E CONFIG="$one" OUT="$state/runE" -- "${cpu[@]}" jobs/slurm/search.sbatch) || fail "sbatch for job E failed"
say "submitted E=$E (to be preempted)"
wait_until 60 "job E to start training" started_training "$state/jobs/E.out"
sleep 1
U=$(submit U -- -p urgent -n 4 --wrap "sleep 1") || fail "sbatch for job U failed"
say "submitted U=$U to partition urgent (all 4 CPUs; E's partition has GraceTime=5): preempts E"
wait_until 90 "job E to be requeued by the preemption" restarts_is "$E" 1
wait_until 120 "job E to finish after its preemption" ended "$E"
say "E ended: $(field "$E" JobState), Restarts $(field "$E" Restarts)"
expect_eq "$(field "$E" JobState)" COMPLETED "E's final state"
expect_eq "$(field "$E" Restarts)" 1 "E's restarts"
expect_eq "$(field "$U" JobState)" COMPLETED "the preempting job U"
expect_grep "$state/jobs/E.out" "exiting with code 3" "E: gnas checkpointed on the preemption's SIGTERM"
expect_grep "$state/jobs/E.out" "is being preempted" "E: the script waited for Slurm"
grep -q "requeueing job" "$state/jobs/E.out" && fail "E: the script requeued; Slurm was to do it"
expect_grep "$state/jobs/E.out" "--resume (job $E, restart 1)" "E: the restart passed --resume"
expect_grep "$state/jobs/E.out" "resuming" "E: gnas resumed"
expect_grep "$state/jobs/E.out" "epoch 1/1" "E: the run finished"

say "PASS: USR1 -> checkpoint, exit 3, requeue, resume, finish; scancel -> checkpoint, CANCELLED, not" \
  "requeued, resubmission resumes; requeue before the first checkpoint -> --force, fresh run;" \
  "pipeline (2 ranks via pmix, world_size 2) -> retrain -> evaluate; seed sweep; ablation array drawn;" \
  "wrong ablation array refused; 2 CPUs per task reach the step (1 task, and 2 tasks whose ranks run 2 threads each); preemption with" \
  "a grace time -> checkpoint, Slurm requeues, resume"
