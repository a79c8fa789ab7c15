#!/usr/bin/env bash
# Runs the experiment: the same bursty load against Act I (one shared pool), Act III (a pool per
# endpoint, same connections) and a control (one pool, 3x bigger), then writes the report. The
# rates are calibrated first: multiples of what the shared pool can serve on this machine.
#
#   scripts/experiment.sh [--profile quick|default] [--repeat N] [--delay-ms D] [--out DIR] [--no-record]
#                         [--pin | --no-pin] [--base-rps R --burst-rps R] [--hosts local|netns] [--k6-processes N]
#   scripts/experiment.sh --sweep [--regimes room,db-limited] [--db-cpu C] [--db-delay-ms D] [--profile sweep|sweep-quick]
#
# --hosts netns puts the system under test (its own Postgres, the latency proxy, the service) in a
# network namespace joined to the load side by a veth pair (scripts/netns.sh, created before the
# runs and removed after them), and splits the load over 2 k6 processes unless --k6-processes says.
#
# Results go to results/<UTC timestamp>/ (and results/latest) unless --out is given: report.html,
# summary.md, summary.json, charts/, post/, and the raw data of every run under arms/; a sweep to
# results/<UTC timestamp>-sweep/ (a folder per regime, the sweep's report beside them).
# Set-up (scripts/setup.sh, idempotent) is what this run needs: psql and, unless DATABASE_URL is
# set, PostgreSQL and the throwaway cluster (scripts/pg.sh; with DATABASE_URL its server is used,
# through a database named lab_experiment); the lab's Prometheus and Postgres exporter
# (scripts/prometheus.sh); the virtualenv with experiment/requirements.txt; a
# release build of the service and the latency proxy; k6; and (unless --no-record) Chromium,
# ffmpeg and the web UI's build for the recording.
# Any other option is passed to `python -m experiment` (see `--help` there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${LAB_VENV:-$root/.lab/venv}"
say() { echo "[experiment.sh] $*" >&2; }
recording=true
netns=false
previous=""
for arg in "$@"; do
  [[ "$arg" == --no-record ]] && recording=false
  [[ "$arg" == --hosts=netns || ( "$previous" == --hosts && "$arg" == netns ) ]] && netns=true
  previous="$arg"
done

packages=(postgresql-client)  # psql: the runner recreates its database with it
[[ -n "${DATABASE_URL:-}" ]] || packages+=(postgresql)
scripts/setup.sh packages "${packages[@]}"
scripts/setup.sh python
scripts/setup.sh build
scripts/setup.sh postgres
scripts/setup.sh prometheus  # scrapes every run's service, proxy and database; k6 writes to it
K6="$(scripts/setup.sh k6)"
# The recording is optional: without what it needs the runner skips it (or the GIFs) with a note.
if $recording; then
  scripts/setup.sh packages chromium ffmpeg || say "the recording may be skipped or lack its GIFs"
  scripts/setup.sh web >&2 || say "the web UI could not be prepared: the runs will not be recorded"
fi

pg_args=()
if [[ -n "${DATABASE_URL:-}" ]]; then
  # The admin URL is the same server's `postgres` database; the runner creates lab_experiment there.
  admin_url="$("$venv/bin/python" -c 'import sys; from experiment.lab import with_database; print(with_database(sys.argv[1], "postgres"))' "$DATABASE_URL")"
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
