#!/usr/bin/env bash
# scripts/bootstrap for a user without root (issue 31): a missing test-only package is named and
# the bootstrap goes on (exit 0); a missing build-and-run package stops it (exit 1), naming it and
# the route without root. Run as root (CI), it runs the bootstrap as the unprivileged user `nobody`;
# as another user, as that user. Packages that no machine has stand for the missing ones, and
# --check keeps it from the analysis venv (the same check runs first in a plain bootstrap).
set -euo pipefail
cd "$(dirname "$0")/../.."
# A copy that any user can read (the checkout may be under /root).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp scripts/bootstrap "$tmp/scripts/"
chmod -R a+rX "$tmp"
cd "$tmp"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  command -v runuser >/dev/null || { echo "FAIL: root, but no runuser to drop to a user without root"; exit 1; }
  as_user=(runuser -u nobody --)
fi
fail=0
check() {  # check NAME WANT_RC PHRASE... -- ENV...
  local name=$1 want=$2; shift 2
  local phrases=()
  while [ "$1" != "--" ]; do phrases+=("$1"); shift; done
  shift
  local out rc=0
  out=$("${as_user[@]}" env "$@" scripts/bootstrap --check 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want"; echo "$out"; fail=1; return
  fi
  for p in "${phrases[@]}"; do
    if ! grep -qF -- "$p" <<<"$out"; then echo "FAIL $name: missing '$p' in:"; echo "$out"; fail=1; return; fi
  done
  echo "ok $name"
}
[ "$("${as_user[@]}" id -u)" -ne 0 ] || { echo "FAIL: the bootstrap would run as root"; exit 1; }
check test-package-missing 0 "needed only by the tests: gnas-test-no-such-package" "gnas builds and runs" \
  -- GNAS_BOOTSTRAP_EXTRA_TEST_PACKAGES=gnas-test-no-such-package
check run-package-missing 1 "needs these packages to build and run" "gnas-run-no-such-package" "docs/install.md" \
  "(only the tests need: gnas-test-no-such-package)" \
  -- GNAS_BOOTSTRAP_EXTRA_RUN_PACKAGES=gnas-run-no-such-package GNAS_BOOTSTRAP_EXTRA_TEST_PACKAGES=gnas-test-no-such-package
exit $fail
