#!/usr/bin/env bash
# Issue 31: a user without root builds gnas against the torch of a Python venv (PyPI's wheel, no
# apt-get, no sudo) and runs the quick start's first epoch, which must print the README's figures.
#
# Usage: nonroot_build_test.sh SOURCE_DIR BUILD_DIR
#   BUILD_DIR is the build this test belongs to (configured by scripts/build with a venv's torch:
#   its CMakeCache names the Python, GNAS_TORCH_PYTHON); the test repeats that build with
#   scripts/build into BUILD_DIR/nonroot/, only the gnas target (with the precompiled header,
#   about 3.5 minutes on 2 cores).
#
# Run as root (CI), it drops to the user `nobody` (setpriv). Where the checkout and the venv are
# root's files that others cannot read (a cluster user would own them), `nobody` is given only
# CAP_DAC_READ_SEARCH to read them (no write anywhere but its own build directory, and apt-get
# refuses it: no dpkg lock). As another user, it runs as that user. apt-get and sudo on PATH are traps that fail the test if called.
set -euo pipefail
src=$(cd "$1" && pwd)
own=$(cd "$2" && pwd)
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$own/CMakeCache.txt"; }
py=$(cache_value GNAS_TORCH_PYTHON)
cuda=$(cache_value GNAS_WITH_CUDA)
[ -n "$py" ] || { echo "FAIL: $own was not configured with a venv's torch (GNAS_TORCH_PYTHON is empty)"; exit 1; }
[ -x "$py" ] || { echo "FAIL: GNAS_TORCH_PYTHON=$py is not an executable"; exit 1; }

work="$own/nonroot"
rm -rf "$work"
mkdir -p "$work/traps" "$work/home" "$work/tmp"
for trap_cmd in apt-get apt sudo dpkg; do
  printf '#!/bin/sh\necho "TRAP: %s called by the non-root build: $*" >> "%s/traps.log"\nexit 1\n' \
    "$trap_cmd" "$work" > "$work/traps/$trap_cmd"
  chmod +x "$work/traps/$trap_cmd"
done

# No compiler cache: each build directory compiles its own precompiled header, whose bytes differ,
# and every torch file includes it, so another build's cache entries would hardly ever match.
ccache_env=(CCACHE_DISABLE=1)
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || { echo "FAIL: root, but no setpriv (util-linux) to drop to a user"; exit 1; }
  group=$(id -gn nobody)  # nogroup on Debian, nobody elsewhere
  chown -R "nobody:$group" "$work"
  # $own (root's) must let nobody reach its own directory inside it.
  chmod o+x "$own"
  plain=(setpriv --reuid=nobody --regid="$group" --clear-groups --)
  with_read=(setpriv --reuid=nobody --regid="$group" --clear-groups
             --inh-caps=+dac_read_search --ambient-caps=+dac_read_search --)
  if "${plain[@]}" test -r "$src/scripts/build" -a -r "$py" -a -x "$src/include"; then
    as_user=("${plain[@]}")  # the checkout and the venv are readable by anyone: no capability
  elif "${with_read[@]}" test -r "$src/scripts/build" 2>/dev/null; then
    as_user=("${with_read[@]}")
    echo "nonroot: the checkout is root's; nobody reads it with CAP_DAC_READ_SEARCH only"
  else
    echo "FAIL: nobody cannot read $src or $py, and this kernel refused CAP_DAC_READ_SEARCH to it;"
    echo "      make the checkout and the venv readable (chmod o+rX on their directories) and rerun"
    exit 1
  fi
fi
# A clean environment, but for what picks the toolchain the build it repeats was made with.
keep=()
for v in CC CXX CUDACXX CUDA_HOME CUDA_PATH LD_LIBRARY_PATH CMAKE_PREFIX_PATH; do
  [ -n "${!v:-}" ] && keep+=("$v=${!v}")
done
run_as_user() {
  "${as_user[@]}" env -i HOME="$work/home" PATH="$work/traps:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
    "${keep[@]}" "${ccache_env[@]}" "$@"
}
uid=$(run_as_user id -u)
[ "$uid" -ne 0 ] || { echo "FAIL: the build would run as root"; exit 1; }
echo "nonroot: building as uid $uid ($(run_as_user id -un)) against $py ($("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null))"

# The build: scripts/build as the user documents it (docs/install.md), only what running needs.
build_args=()
[ "$cuda" = ON ] && build_args=(--cuda)
start=$(date +%s)
if ! run_as_user GNAS_TORCH_PYTHON="$py" GNAS_BUILD_DIR="$work" GNAS_BUILD_TARGET=gnas \
     "$src/scripts/build" "${build_args[@]}" > "$work/build.log" 2>&1; then
  echo "FAIL: scripts/build as uid $uid failed; the end of $work/build.log:"; tail -30 "$work/build.log"; exit 1
fi
built=$(( $(date +%s) - start ))
if [ -f "$work/traps.log" ]; then echo "FAIL: the build called a root tool:"; cat "$work/traps.log"; exit 1; fi
[ -x "$work/gnas" ] || { echo "FAIL: no $work/gnas after the build"; exit 1; }
owner=$(stat -c %u "$work/gnas")
[ "$owner" = "$uid" ] || { echo "FAIL: $work/gnas belongs to uid $owner, not $uid"; exit 1; }
compiled=$(grep -c 'Building CXX object' "$work/build.log" || true)
echo "nonroot: built $work/gnas in ${built}s ($compiled compile commands, no compiler cache)"

# The quick start's first epoch, 2 threads as the README quotes it (OMP_WAIT_POLICY=PASSIVE: CTest
# may run another test beside it). The digits are the README's for the CUDA build (libtorch 2.11);
# another torch version computes with other kernels, and then the line must only be there.
out="$work/first"
set +e
run_as_user OMP_WAIT_POLICY=PASSIVE "$work/gnas" search --out "$out" --train.epochs 1 --threads 2 --device cpu --no-progress \
  > "$work/search.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { echo "FAIL: the quick start exited $rc as uid $uid:"; tail -20 "$work/search.log"; exit 1; }
line=$(grep -m1 -E '(^| )epoch 1/1  ' "$work/search.log" || true)  # after the line's timestamp
[ -n "$line" ] || { echo "FAIL: no epoch line in the quick start's output:"; tail -20 "$work/search.log"; exit 1; }
echo "nonroot: $line"
want=$(sed -n 's/.*prints `epoch 1\/3  lr 0.1000  \(loss [^`]*\)`.*/\1/p' "$src/README.md" | head -1)
version=$(run_as_user "$py" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
if [[ "$version" == 2.11* ]]; then
  [ -n "$want" ] || { echo "FAIL: README.md no longer quotes the CUDA build's first epoch line"; exit 1; }
  case "$line" in
    *"$want"*) echo "nonroot: the README's figures: $want" ;;
    *) echo "FAIL: the first epoch printed '$line', the README says '$want'"; exit 1 ;;
  esac
else
  echo "nonroot: torch $version is not the README's 2.11: its digits are not compared"
fi
[ -f "$out/log.h5" ] && [ -f "$out/best_genome.json" ] || { echo "FAIL: the run wrote no log.h5 or best_genome.json"; exit 1; }
rm -rf "$work"
echo "ok: built and ran as uid $uid without root"
