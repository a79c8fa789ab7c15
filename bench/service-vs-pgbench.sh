#!/usr/bin/env bash
# How close the service comes to the database's own limit for GET /todos: the service's
# throughput under a closed-model load, next to pgbench running the very same statement over the
# same number of connections, and their ratio.
#
#   ADMIN_DATABASE_URL=postgres://postgres@127.0.0.1:54329/postgres bench/service-vs-pgbench.sh
#
# Service: release build, shared pool of POOL connections, no latency proxy, cheap hashing;
# wrk keeps CONNECTIONS HTTP connections busy with `GET /todos?limit=20` for DURATION seconds.
# pgbench: POOL clients, -M prepared, the statement the service ran (read back from
# pg_stat_activity, so it cannot drift from src/db/todos.rs) with the same session digest and
# limit 20. ROUNDS rounds, alternating which goes first; prints every round (with the CPU cores
# the service process used while loaded; wrk and Postgres share the rest) and the median ratio.
# Env: ROUNDS (5), DURATION (10), CONNECTIONS (32), POOL (4), DELAY_MS (0); without
# ADMIN_DATABASE_URL the lab's cluster is started (scripts/pg.sh). Run it on an otherwise idle
# machine.
#
# Two questions, two settings:
# - DELAY_MS=0 (database on localhost): both sides are CPU-bound on a small machine, and the
#   service also pays for HTTP, JSON and the load generator's CPU, which pgbench does not. The
#   ratio says how much of the machine the HTTP layer costs, not how well the pool is used.
# - DELAY_MS=5 (the experiment's delay): service and pgbench reach Postgres through the same
#   latency proxy (target/release/latency-proxy), so a connection's throughput is bounded by
#   round trips, not CPU. The ratio then says whether a request holds its connection for
#   anything beyond the one statement: the pool's limit is POOL / (round trip + statement).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-5}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
pool="${POOL:-4}"
delay_ms="${DELAY_MS:-0}"
cheap_hashing=(--argon2-memory-kib 256 --argon2-iterations 1)

scripts/setup.sh packages wrk postgresql postgresql-client  # wrk, pgbench, psql
pgbench="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench"
if [[ -z "${ADMIN_DATABASE_URL:-}" ]]; then
  scripts/pg.sh start
  ADMIN_DATABASE_URL="$(scripts/pg.sh url)"
fi
source bench/lib.sh
build_service
cargo build --release --quiet -p latency-proxy

database=bench_vs_pgbench
db_url="$(fresh_database "$database")"
work="$(mktemp -d)"
proxy_pid=""
cleanup() {
  stop_service
  if [[ -n "$proxy_pid" ]]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT

say "database $database: 100 users with 20 todos each"
NO_COLOR=1 "$service_bin" --database-url "$db_url" "${cheap_hashing[@]}" seed --users 100 --todos-per-user 20 >&2
# What the service and pgbench connect to: the database itself, or the latency proxy before it.
load_url="$db_url"
if [[ "$delay_ms" != 0 ]]; then
  hostport="${admin_url#*@}"; hostport="${hostport%%/*}"
  "$root/target/release/latency-proxy" --listen 127.0.0.1:0 --upstream "$hostport" \
    --delay-ms "$delay_ms" >"$work/proxy" 2>&1 &
  proxy_pid=$!
  for _ in $(seq 100); do grep -q '^proxying ' "$work/proxy" && break; sleep 0.1; done
  proxy_addr="$(sed -n 's/^proxying \([^ ]*\) .*/\1/p' "$work/proxy")"
  [[ -n "$proxy_addr" ]] || { say "the latency proxy did not start:"; cat "$work/proxy" >&2; exit 1; }
  load_url="${db_url/$hostport/$proxy_addr}"
  say "service and pgbench reach Postgres through the latency proxy at $proxy_addr (+$delay_ms ms each way)"
fi
NO_COLOR=1 start_service --database-url "$load_url" "${cheap_hashing[@]}" serve \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --pool-mode shared --pool-size "$pool"
token="$(login_token user1@lab.test lab-password)"
digest="\\x$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
url="$base_url/todos?limit=20"
curl -sf -H "Authorization: Bearer $token" "$url" >/dev/null

# The statement as the service sent it ($1 the digest, $2 the limit), as pgbench variables.
statement="$(psql -qAt "$db_url" -c "SELECT query FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%LATERAL%' LIMIT 1")"
[[ -n "$statement" ]] || { say "could not read the service's statement from pg_stat_activity"; exit 1; }
sed 's/\$1/:digest/; s/\$2/:limit/; s/$/;/' <<<"$statement" >"$work/list_todos.sql"
say "pgbench runs: $(cat "$work/list_todos.sql")"
# An unknown digest would make pgbench time an empty lookup: check it reads the 20 todos.
rows="$(psql -qAt "$db_url" -c "PREPARE list_todos(bytea, bigint) AS $statement" \
  -c "EXECUTE list_todos('$digest', 20)" | wc -l)"
[[ "$rows" == 20 ]] || { say "the statement returned $rows rows for the session, not 20"; exit 1; }

# CPU seconds the service process has used so far (utime + stime in /proc/PID/stat).
service_cpu_seconds() {
  awk -v tick="$(getconf CLK_TCK)" '{ print ($14 + $15) / tick }' "/proc/$service_pid/stat"
}
run_service() {
  wrk -t 2 -c "$connections" -d "${duration}s" -H "Authorization: Bearer $token" "$url" >"$work/wrk.out"
  if grep -q -e 'Non-2xx' -e 'Socket errors' "$work/wrk.out"; then
    say "wrk saw errors:"; grep -e 'Non-2xx' -e 'Socket errors' "$work/wrk.out" >&2; exit 1
  fi
  awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out"
}
run_pgbench() {
  "$pgbench" -n -M prepared -c "$pool" -j 2 -T "$duration" -f "$work/list_todos.sql" \
    -D "digest=$digest" -D limit=20 "$load_url" 2>&1 | awk '/^tps = / { print $3 }'
}

say "warming up both for 2 s each"
duration=2 run_service >/dev/null
duration=2 run_pgbench >/dev/null

say "$rounds rounds of ${duration} s each: service ($connections HTTP connections, pool of $pool) and pgbench ($pool connections), +$delay_ms ms each way"
printf '%-6s %12s %12s %12s %7s\n' round service_rps service_cpu pgbench_tps ratio
ratios=()
measure_service() {
  local before; before="$(service_cpu_seconds)"
  service_rps="$(run_service)"
  service_cores="$(awk -v a="$before" -v b="$(service_cpu_seconds)" -v d="$duration" 'BEGIN { printf "%.2f", (b - a) / d }')"
}
for round in $(seq "$rounds"); do
  if ((round % 2)); then
    measure_service; pgbench_tps="$(run_pgbench)"
  else
    pgbench_tps="$(run_pgbench)"; measure_service
  fi
  ratio="$(awk -v s="$service_rps" -v p="$pgbench_tps" 'BEGIN { printf "%.3f", s / p }')"
  ratios+=("$ratio")
  printf '%-6s %12.0f %12s %12.0f %7s\n' "$round" "$service_rps" "$service_cores" "$pgbench_tps" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{ r[NR] = $1 }
  END { m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
        printf "median ratio service/pgbench: %.3f (min %.3f, max %.3f)\n", m, r[1], r[NR] }'
