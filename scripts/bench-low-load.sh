#!/usr/bin/env bash
# What one request costs: the median latency of each endpoint at low load (10 requests/s each,
# 30 s), with the database on localhost and no added delay, for a given Argon2 cost.
#
#   scripts/bench-low-load.sh [owasp|cheap]     (default owasp: m=19456 KiB, t=2, p=1)
#
# Prints k6's summary; the `http_req_duration{endpoint:...}` lines hold the medians.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
case "${1:-owasp}" in
  owasp) argon=(--argon2-memory-kib 19456 --argon2-iterations 2) ;;
  cheap) argon=(--argon2-memory-kib 1024 --argon2-iterations 1) ;;
  *) echo "usage: $0 [owasp|cheap]" >&2; exit 2 ;;
esac

scripts/pg.sh start
cargo build --release --quiet -p todo-service
K6="$(scripts/install-k6.sh)"
admin="$(scripts/pg.sh url)"
db_url="${admin%/*}/bench_low_load"
psql -q "$admin" -c 'DROP DATABASE IF EXISTS bench_low_load' -c 'CREATE DATABASE bench_low_load'
target/release/todo-service --database-url "$db_url" "${argon[@]}" seed --users 100 --todos-per-user 20

log="$(mktemp)"
target/release/todo-service --database-url "$db_url" "${argon[@]}" serve \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 >"$log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^listening on' "$log" && break; sleep 0.1; done
base_url="$(sed -n 's/^listening on //p' "$log")"
echo "[bench] service at $base_url (shared pool, Argon2 ${argon[*]})" >&2
"$K6" run --quiet -e BASE_URL="$base_url" bench/low-load.js
