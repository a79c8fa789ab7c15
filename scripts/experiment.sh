#!/usr/bin/env bash
# Runs the experiment: the same bursty load against Act I (one shared pool), Act III (a pool per
# endpoint, same connections) and a control (one pool, 3x bigger), then writes the report. The
# rates are calibrated first: multiples of what the shared pool can serve on this machine.
#
#   scripts/experiment.sh [OPTION...]          every option goes to `python -m experiment`
#   scripts/experiment.sh --help               this text, and the options with their defaults
#   scripts/experiment.sh --report-only DIR    redo a results folder's report from its raw data
#   scripts/experiment.sh --sweep [--regimes room,db-limited] [--db-cpu C] [--db-delay-ms D] [--profile sweep|sweep-quick]
#
# Exit status: 0 for a finished run, whatever its verdicts. With --check, for a pipeline to gate on:
# 3 when an expected sign that is not a *may* did not hold (or could not be judged) in some repeat,
# 4 when a trust check failed (CPU to spare, k6 measured the service, the load was offered, the
# monitoring stayed small; 4 wins over 3); the last lines name the failed checks, and verdicts.xml
# (JUnit XML, in every results folder) holds every verdict. 5: no delay fits the CPU budget (below).
# 1: the lab could not start or nothing to report; 2: bad arguments; 130: interrupted.
#
# The database delay is chosen by the CPU budget (experiment/analyse/budget.py): the smallest from 5 ms up
# at which the bursts are predicted to use under 60% of the CPU the lab may use (the affinity mask
# and any cgroup CPU quota: experiment/run/cpulimit.py). When none fits, it stops before the acts with
# exit status 5, unless --force; --delay-ms or --base-rps/--burst-rps choose by hand.
#
# Results go to results/<UTC timestamp>/ (and results/latest) unless --out is given: report.html,
# summary.md, summary.json, verdicts.xml, charts/, post/, and the raw data of every run under arms/
# (k6's own HTML report of each k6 process among them).
# Set-up first (`scripts/setup.sh lab`, idempotent): psql and, unless DATABASE_URL is set,
# PostgreSQL and the throwaway cluster (scripts/pg.sh; with DATABASE_URL its server is used,
# through a database named lab_experiment); the lab's Prometheus and Postgres exporter
# (scripts/prometheus.sh); the virtualenv with experiment/requirements.txt; a release build of the
# service and the latency proxy; k6; and (unless --no-record) Chromium, ffmpeg and the web UI's
# build for the recording. --help and --report-only need none of it (only the virtualenv).
# --hosts netns puts the system under test (its own Postgres, the latency proxy, the service) in a
# network namespace joined to the load side by a veth pair (scripts/netns.sh, created before the
# runs and removed after them), and splits the load over 2 k6 processes unless --k6-processes says.
#
# A sweep writes to results/<UTC timestamp>-sweep/ (a folder per regime, the sweep's report beside them).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${LAB_VENV:-$root/.lab/venv}"
say() { echo "[experiment.sh] $*" >&2; }
recording=true
netns=false
previous=""
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      if [[ -x "$venv/bin/python" ]]; then
        echo; exec "$venv/bin/python" -m experiment --help
      fi
      echo "The options and their defaults (argparse's list, experiment/run/cli.py): this --help again once the"
      echo "virtualenv exists (any run makes it, or scripts/setup.sh python); README.md's options table."
      exit 0
      ;;
    --report-only | --report-only=*)
      # The raw data is all a report needs: no packages, build, Postgres or Prometheus.
      [[ -x "$venv/bin/python" ]] || scripts/setup.sh python
      exec "$venv/bin/python" -m experiment "$@"
      ;;
  esac
  [[ "$arg" == --no-record ]] && recording=false
  [[ "$arg" == --hosts=netns || ( "$previous" == --hosts && "$arg" == netns ) ]] && netns=true
  previous="$arg"
done

scripts/setup.sh lab
K6="$(scripts/setup.sh k6)"
# The recording is optional: without what it needs the runner skips it (or the GIFs) with a note.
if $recording; then
  scripts/setup.sh packages chromium ffmpeg || say "the recording may be skipped or lack its GIFs"
  scripts/setup.sh web >&2 || say "the web UI could not be prepared: the runs will not be recorded"
fi

pg_args=()
if [[ -n "${DATABASE_URL:-}" ]]; then
  # The admin URL is the same server's `postgres` database; the runner creates lab_experiment there.
  admin_url="$("$venv/bin/python" -c 'import sys; from experiment.run.lab import with_database; print(with_database(sys.argv[1], "postgres"))' "$DATABASE_URL")"
  say "using the Postgres server of DATABASE_URL"
else
  admin_url="$(scripts/pg.sh url)"
  pg_args=(--pg-data-dir "$root/.lab/pg/data")
fi

if $netns; then
  # The system under test's host: created now, removed when the runner ends, however it ends.
  scripts/netns.sh up
  trap 'scripts/netns.sh down' EXIT
  "$venv/bin/python" -m experiment --k6 "$K6" "$@"
else
  exec "$venv/bin/python" -m experiment --k6 "$K6" --admin-url "$admin_url" "${pg_args[@]}" "$@"
fi
