#!/usr/bin/env bash
# The workstation runners (scripts/ablation, ga-vs-random, nb201-study) refuse a PARALLEL or THREADS
# that is not a positive integer, naming it, and warn when PARALLEL x THREADS outnumber the CPUs.
# Nothing is run: GNAS points nowhere, so each runner stops (exit 2) right after its checks.
set -uo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() {  # expect WHAT RC PATTERN -- command...
  local what="$1" rc_want="$2" pattern="$3"; shift 4
  "$@" > "$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" != "$rc_want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
    echo "FAIL: $what: exit $rc (want $rc_want), output (want /$pattern/):"; sed 's/^/  /' "$tmp/out"; fail=1
  else
    echo "ok: $what"
  fi
}
cpus=$(nproc)
for script in ablation ga-vs-random nb201-study; do
  run=(env KEY=ga.p_m VALUES=0.1 DATA= GNAS="$tmp/no-gnas" scripts/$script "$tmp/out-$script")
  expect "$script PARALLEL=0" 2 "$script: PARALLEL must be a positive integer, got '0'" -- env PARALLEL=0 "${run[@]}"
  expect "$script THREADS=two" 2 "$script: THREADS must be a positive integer, got 'two'" -- env THREADS=two "${run[@]}"
  expect "$script PARALLEL=-1" 2 "PARALLEL must be a positive integer, got '-1'" -- env PARALLEL=-1 "${run[@]}"
  expect "$script too many threads" 2 "WARNING: PARALLEL=$((cpus + 1)) runs x THREADS=1 threads = $((cpus + 1)) threads on $cpus CPU(s)" \
    -- env PARALLEL=$((cpus + 1)) THREADS=1 "${run[@]}"
  # As many threads as CPUs: no warning (and then the missing gnas is what stops it).
  expect "$script as many threads as CPUs" 2 "no-gnas is not built" -- env PARALLEL=1 THREADS="$cpus" "${run[@]}"
  if grep -q WARNING "$tmp/out"; then echo "FAIL: $script warned with PARALLEL x THREADS = $cpus CPUs"; fail=1; fi
done
exit $fail
