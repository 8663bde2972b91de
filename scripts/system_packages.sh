#!/usr/bin/env bash
# Debian packages that the tests and tools need beside the venv, installed once by `make setup` when missing (as root,
# like CI and the sessions; never at run time): PostgreSQL's server for `omnilake publish` and its tests (`make
# postgres-up`), Chromium for the dashboard's browser tests and `make screenshot`.
# usage: scripts/system_packages.sh CHECK=PACKAGE ...   CHECK: a command on the PATH, or an absolute path glob
# Exit 0 when everything is there or was installed; not root and something missing: says what to install, exit 1
# (make setup goes on without its stamp, so it checks again next time; the tests that need it fail naming it).
set -euo pipefail
missing=()
for pair in "$@"; do
  check=${pair%%=*}
  package=${pair#*=}
  if [[ $check == /* ]]; then
    compgen -G "$check" >/dev/null && continue
  else
    command -v "$check" >/dev/null && continue
  fi
  missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]}; as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
