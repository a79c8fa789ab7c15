#!/usr/bin/env bash
# Runs the experiment: the same bursty load against Act I (one shared pool), Act III (a pool per
# endpoint, same connections) and a control (one pool, 3x bigger), then writes the report. The
# rates are calibrated first: multiples of what the shared pool can serve on this machine.
#
#   scripts/experiment.sh [--profile quick|default] [--repeat N] [--delay-ms D] [--out DIR] [--no-record]
#                         [--pin | --no-pin] [--base-rps R --burst-rps R]
#
# Results go to results/<UTC timestamp>/ (and results/latest) unless --out is given: report.html,
# summary.md, summary.json, charts/, post/, and the raw data of every run under arms/.
# Set-up is idempotent: the virtualenv .lab/venv and experiment/requirements.txt, a release build of
# the service and the latency proxy, the throwaway Postgres (scripts/pg.sh; skipped when
# DATABASE_URL is set: then its server is used, through a database named lab_experiment), k6, and
# (unless --no-record) the web UI's build for the recording, when web/ is there.
# Any other option is passed to `python -m experiment` (see `--help` there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.lab/venv"
say() { echo "[experiment.sh] $*" >&2; }

if [[ ! -x "$venv/bin/python" ]]; then
  say "creating the virtualenv $venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r experiment/requirements.txt >&2; then
  say "pip install -r experiment/requirements.txt failed"; exit 1
fi

say "building the service and the latency proxy (cargo build --release)"
cargo build --release --quiet -p todo-service -p latency-proxy

pg_args=()
if [[ -n "${DATABASE_URL:-}" ]]; then
  # The admin URL is the same server's `postgres` database; the runner creates lab_experiment there.
  admin_url="$("$venv/bin/python" -c 'import sys; from experiment.lab import with_database; print(with_database(sys.argv[1], "postgres"))' "$DATABASE_URL")"
  say "using the Postgres server of DATABASE_URL"
else
  scripts/pg.sh start
  admin_url="$(scripts/pg.sh url)"
  pg_args=(--pg-data-dir "$root/.lab/pg/data")
fi

K6="$(scripts/install-k6.sh)"

# The UI recording is optional: build the UI when it is there (only what is stale); without it the
# runner skips the recording with a note.
recording=true
for arg in "$@"; do [[ "$arg" == --no-record ]] && recording=false; done
if $recording && [[ -x web/scripts/install.sh ]]; then
  say "preparing the web UI for the recording (web/scripts/install.sh)"
  web/scripts/install.sh >&2 || say "the web UI could not be prepared: the runs will not be recorded"
fi

exec "$venv/bin/python" -m experiment --k6 "$K6" --admin-url "$admin_url" "${pg_args[@]}" "$@"
