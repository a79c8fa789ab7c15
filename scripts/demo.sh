#!/usr/bin/env bash
# Starts the lab by hand: Postgres, the service and the UI together, then waits (Ctrl-C stops all).
#
#   scripts/demo.sh [shared|isolated]      (default shared)
#
# Open the printed URL and log in as demo@lab.test / demo-password; /dashboard shows the service
# live. Load it from another terminal with k6 (see load/README.md), e.g.
#   PROFILE=quick "$(scripts/install-k6.sh)" run load/todo-load.js
# The database `lab_demo` is kept between runs (seeding is idempotent).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-shared}"
say() { echo "[demo] $*" >&2; }

scripts/setup.sh
if [[ -n "${DATABASE_URL:-}" ]]; then
  db_url="$DATABASE_URL"
else
  admin="$(scripts/pg.sh url)"
  db_url="${admin%/*}/lab_demo"
  psql -qAt "$admin" -c "SELECT 1 FROM pg_database WHERE datname = 'lab_demo'" | grep -q 1 ||
    psql -q "$admin" -c 'CREATE DATABASE lab_demo'
fi
target/release/todo-service --database-url "$db_url" seed --users 1000 --todos-per-user 20

mkdir -p .lab/logs
pids=()
trap 'say "stopping"; scripts/prometheus.sh unregister todo-service || true; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
target/release/todo-service --database-url "$db_url" serve --pool-mode "$mode" \
  --listen 127.0.0.1:8080 --metrics-listen 127.0.0.1:9090 >.lab/logs/demo-service.log 2>&1 &
pids+=($!)
# The dashboard reads the service's numbers from the lab's Prometheus (started by setup.sh).
scripts/prometheus.sh register todo-service 127.0.0.1:9090 source=demo
API_URL=http://127.0.0.1:8080 METRICS_URL=http://127.0.0.1:9090/metrics PORT=3000 \
  npm --prefix web run start >.lab/logs/demo-web.log 2>&1 &
pids+=($!)
for _ in $(seq 120); do
  curl -fsS -o /dev/null http://127.0.0.1:3000/login 2>/dev/null && break
  sleep 0.5
done
say "service (pool mode: $mode) on http://127.0.0.1:8080, metrics on http://127.0.0.1:9090/metrics"
say "open http://127.0.0.1:3000 and log in as demo@lab.test / demo-password (Ctrl-C stops)"
wait
