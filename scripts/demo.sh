#!/usr/bin/env bash
# Tries the lab by hand, set up the way the experiment sets up a run (experiment/run/demo.py): one
# arm's service behind the latency proxy, with its cheap Argon2 cost, pool size and acquire
# timeout, on a freshly seeded database (lab_demo); the UI against it; and the k6 command that
# loads it as a run would: the delay and rates of this machine's newest calibrated run.
#
#   scripts/demo.sh [shared|isolated|shared-3x] [--profile default|quick]     (default: shared)
#
# It runs until Ctrl-C (or scripts/stop.sh) and then stops the service, proxy and UI. Postgres and
# the lab's Prometheus keep running, as after an experiment (scripts/stop.sh stops them).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${LAB_VENV:-$root/.lab/venv}"
if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then  # before any set-up
  if [[ -x "$venv/bin/python" ]]; then exec "$venv/bin/python" -m experiment.run.demo --help; fi
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit 0
fi

scripts/setup.sh lab
scripts/setup.sh web
K6="$(scripts/setup.sh k6)"
exec "$venv/bin/python" -m experiment.run.demo --k6 "$K6" "$@"
