#!/usr/bin/env bash
# What k6's Prometheus remote-write output (the experiment turns it on) costs the load generator:
# the quick profile of load/todo-load.js at fixed rates against the release service, ROUNDS times
# without and with `-o experimental-prometheus-rw` (alternating, so drift hits both alike), k6's
# CPU seconds (user + system, GNU time) and its own p95 per run, and the ratio with/without.
#
#   bench/k6-remote-write-cost.sh    ROUNDS (3), BASE_RPS (150), BURST_RPS (600) override
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
admin_url="${ADMIN_DATABASE_URL:-$(scripts/pg.sh url)}"
source bench/lib.sh

scripts/pg.sh start
scripts/prometheus.sh start
build_service
K6="${K6:-$(scripts/install-k6.sh)}"
prometheus="$(scripts/prometheus.sh url)"
db_url="$(fresh_database bench_k6_remote_write)"
"$service_bin" --database-url "$db_url" --argon2-memory-kib 1024 --argon2-iterations 1 \
  seed --users 1000 --todos-per-user 20 --password lab-password >&2
trap stop_service EXIT
start_service --database-url "$db_url" --argon2-memory-kib 1024 --argon2-iterations 1 serve \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
work="$(mktemp -d)"

# One k6 run; prints "cpu_seconds read_p95_ms" (GET /todos p95 from the script's own summary).
run_k6() { # label [k6 options...]
  local label="$1"; shift
  SUMMARY_PATH="$work/summary.json" /usr/bin/time -f "%U %S" -o "$work/time" \
    "$K6" run --quiet --address "" "$@" load/todo-load.js >/dev/null 2>"$work/$label.log" || true
  awk '{ printf "%.2f ", $1 + $2 }' "$work/time"
  python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["endpoints"]["list_todos"]["latency_ms"]["p95"], 2))' "$work/summary.json"
}

export PROFILE=quick BASE_RPS="${BASE_RPS:-150}" BURST_RPS="${BURST_RPS:-600}" BASE_URL="$base_url" \
  PASSWORD=lab-password K6_NO_USAGE_REPORT=true VU_CONNECTION_REUSE=false \
  K6_PROMETHEUS_RW_SERVER_URL="$prometheus/api/v1/write" K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true \
  K6_PROMETHEUS_RW_PUSH_INTERVAL=1s
echo "round  without rw: k6 CPU, read p95     with rw: k6 CPU, read p95     CPU ratio"
for round in $(seq "$rounds"); do
  read -r cpu_off p95_off < <(run_k6 "off-$round")
  read -r cpu_on p95_on < <(run_k6 "on-$round" -o experimental-prometheus-rw --tag "testid=bench-rw/$round")
  printf "%5d  %8s s %9s ms          %8s s %9s ms          %.3f\n" "$round" "$cpu_off" "$p95_off" \
    "$cpu_on" "$p95_on" "$(python3 -c "print($cpu_on / $cpu_off)")"
done
rm -rf "$work"
