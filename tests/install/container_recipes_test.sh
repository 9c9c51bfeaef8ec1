#!/usr/bin/env bash
# The container recipes (containers/Containerfile, containers/gnas.def) against scripts/bootstrap:
# both start from the Debian release the bootstrap is for, install packages only through
# `scripts/bootstrap --run-only` (its build-and-run list, so the image cannot drift from the bare
# machine), build with scripts/build, and put gnas on PATH; the GNAS_ENV example points the job
# scripts at the wrapper. These machines cannot build the images (no registry but Debian's and
# PyPI's is reachable, so neither debian:12 nor Apptainer's docker bootstrap can be pulled), so
# this checks the recipes as text, and the wrapper's refusals by running it.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
no() { echo "FAIL: $*"; fail=1; }
# The bootstrap's lists, as it defines them.
eval "$(sed -n '/^run_packages=(/,/^)/p; /^test_packages=(/,/^)/p' scripts/bootstrap)"
[ ${#run_packages[@]} -ge 10 ] || no "could not read run_packages from scripts/bootstrap"
[ ${#test_packages[@]} -ge 3 ] || no "could not read test_packages from scripts/bootstrap"
for t in "${test_packages[@]}"; do
  for r in "${run_packages[@]}"; do [ "$t" != "$r" ] || no "$t is in both lists"; done
done
grep -q 'Debian 12' scripts/bootstrap || no "scripts/bootstrap no longer says which Debian it is for"
for recipe in containers/Containerfile containers/gnas.def; do
  [ -f "$recipe" ] || { no "$recipe is missing"; continue; }
  body=$(grep -v '^[[:space:]]*#' "$recipe")
  grep -Eq '(FROM docker.io/library/debian:12|From: debian:12)$' <<<"$body" || no "$recipe: not based on Debian 12"
  grep -q 'scripts/bootstrap --run-only' <<<"$body" || no "$recipe: does not install through scripts/bootstrap --run-only"
  grep -q 'scripts/build' <<<"$body" || no "$recipe: does not build with scripts/build"
  grep -q 'PATH=/opt/gnas/build' <<<"$body" || no "$recipe: gnas is not on PATH"
  # Packages named in the recipe itself would be a second list: none (apt-get update only).
  if grep -Eq 'apt-get( -[a-z-]+)* install' <<<"$body"; then no "$recipe: installs packages of its own"; fi
  for t in "${test_packages[@]}"; do
    if grep -qw -- "$t" <<<"$body"; then no "$recipe: names the test-only package $t"; fi
  done
done
# The job scripts' hook: the example GNAS_ENV sets GNAS to the wrapper, which refuses clearly.
out=$(bash -c 'source containers/env.example; echo "$GNAS"')
[ "$out" = "$PWD/containers/gnas-apptainer" ] || no "containers/env.example sets GNAS to '$out'"
rc=0; msg=$(env -u GNAS_SIF containers/gnas-apptainer --help 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "GNAS_SIF" <<<"$msg" || no "the wrapper without GNAS_SIF: exit $rc, '$msg'"
rc=0; msg=$(GNAS_SIF=/nonexistent.sif containers/gnas-apptainer --help 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "no such image" <<<"$msg" || no "the wrapper with a missing image: exit $rc, '$msg'"
# The job scripts read GNAS after sourcing GNAS_ENV (requeue.sh), so the example's GNAS is used.
for job in jobs/slurm/search.sbatch jobs/slurm/retrain.sbatch; do
  src=$(grep -n 'source jobs/slurm/requeue.sh' "$job" | cut -d: -f1)
  def=$(grep -n '^GNAS="${GNAS:-' "$job" | cut -d: -f1)
  [ -n "$src" ] && [ -n "$def" ] && [ "$src" -lt "$def" ] || no "$job: GNAS is not taken from GNAS_ENV"
done
[ "$fail" = 0 ] && echo "container recipes: consistent with scripts/bootstrap (${#run_packages[@]} build-and-run packages)"
exit $fail
