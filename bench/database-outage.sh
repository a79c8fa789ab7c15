#!/usr/bin/env bash
# What the service does while Postgres is down: GET /todos at 200 req/s for 12 s against the
# release binary, with Postgres stopped from 3 s to 8 s (a cluster of its own, the one the
# database-loss test restarts: .lab/pg-restartable), and RUST_BACKTRACE=1 set as a careless
# deployment would. Prints the answers by status and error code, how long after Postgres was back
# the first 200 came, and how much the service logged.
#
#   bench/database-outage.sh      RATE, DURATION, OUTAGE_S (5) and PORT (54339) override
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
outage_s="${OUTAGE_S:-5}"
export LAB_PG_DIR="$root/.lab/pg-restartable" LAB_PG_PORT="${PORT:-54339}"
scripts/pg.sh start
ADMIN_DATABASE_URL="postgres://postgres@127.0.0.1:$LAB_PG_PORT/postgres"
source bench/lib.sh

build_service
K6="${K6:-$(scripts/install-k6.sh)}"
db_url="$(fresh_database bench_database_outage)"
"$service_bin" --database-url "$db_url" --argon2-memory-kib 1024 --argon2-iterations 1 \
  seed --users 10 --todos-per-user 5 >&2
trap 'stop_service; scripts/pg.sh stop' EXIT  # the cluster is this bench's (and the test's): none left running
RUST_BACKTRACE=1 NO_COLOR=1 start_service --database-url "$db_url" serve \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
log_before="$(wc -c <"$service_log")"
work="$(mktemp -d)"

( sleep 3; say "stopping Postgres for $outage_s s"; scripts/pg.sh stop
  sleep "$outage_s"; scripts/pg.sh start; date +%s%3N >"$work/back_at" ) &
outage=$!
"$K6" run --quiet -e BASE_URL="$base_url" bench/database-outage.js 2>"$work/k6.log" >/dev/null
wait "$outage"

answers="$(grep -o 'answer [0-9]* [0-9]* [a-z_-]*' "$work/k6.log")"
echo "answers by status and error code:"
awk '{ print "  " $3, $4 }' <<<"$answers" | sort | uniq -c
awk -v back="$(cat "$work/back_at")" '$3 == 200 && $2 >= back { print "first 200 after Postgres was back: " $2 - back " ms"; exit }' <<<"$answers"
echo "service log during the run: $(($(wc -c <"$service_log") - log_before)) bytes," \
  "$(tail -c +"$((log_before + 1))" "$service_log" | wc -l) lines"
rm -rf "$work"
