#!/usr/bin/env bash
# Fuzzes the release service with schemathesis, driven by the service's own OpenAPI document:
# every response must be no 5xx, of a documented status, content type, schema and headers
# (Retry-After, Set-Cookie). Then the service's own counters must show at least 1,000 requests
# answered and no 5xx.
#
#   TEST_ADMIN_DATABASE_URL=postgres://postgres@127.0.0.1:54329/postgres tests/fuzz/run.sh [schemathesis options]
#
# Builds nothing: it runs target/release/todo-service and the virtualenv's schemathesis (.lab/venv,
# or LAB_VENV), both made by scripts/setup.sh. Extra options go to `schemathesis run` (e.g.
# --seed N to replay a run).
# Works on a fresh database that it drops at the end, with the service on free ports.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
service="$root/target/release/todo-service"
schemathesis="${LAB_VENV:-$root/.lab/venv}/bin/schemathesis"
admin="${TEST_ADMIN_DATABASE_URL:?set TEST_ADMIN_DATABASE_URL (a URL with rights to create databases)}"
# Per operation: with three operations and the examples and coverage phases, about 3,000
# requests in 15 to 30 s on 2 cores. Half of that never met a NUL byte inside a title; this many
# did in every run tried.
max_examples="${FUZZ_MAX_EXAMPLES:-1000}"
min_requests=1000
cheap_hashing=(--argon2-memory-kib 256 --argon2-iterations 1)
say() { echo "[fuzz] $*" >&2; }

for tool in "$service" "$schemathesis"; do
  [[ -x "$tool" ]] || { say "missing $tool: run scripts/setup.sh"; exit 1; }
done

database="fuzz_$(date +%s)_$$"
database_url="${admin%/*}/$database"
work="$(mktemp -d)"
service_pid=""
cleanup() {
  if [[ -n "$service_pid" ]]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  psql -q "$admin" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT

say "database $database: create, migrate and seed (cheap hashing)"
psql -q "$admin" -c "CREATE DATABASE \"$database\""
"$service" --database-url "$database_url" "${cheap_hashing[@]}" seed --users 3 --todos-per-user 5 >&2

say "starting $service on free ports"
NO_COLOR=1 "$service" --database-url "$database_url" "${cheap_hashing[@]}" serve \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 >"$work/addresses" 2>"$work/service.log" &
service_pid=$!
for _ in $(seq 100); do grep -q '^metrics on ' "$work/addresses" && break; sleep 0.1; done
api="$(sed -n 's/^listening on //p' "$work/addresses")"
metrics="$(sed -n 's/^metrics on //p' "$work/addresses")"
[[ -n "$api" && -n "$metrics" ]] || { say "the service did not start:"; cat "$work/service.log" >&2; exit 1; }
say "API at $api, metrics and OpenAPI document at $metrics"

say "logging in as the demo account"
token="$(curl -sf -H 'Content-Type: application/json' \
  -d '{"email": "demo@lab.test", "password": "demo-password"}' "$api/login" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
[[ -n "$token" ]] || { say "demo login failed"; exit 1; }

say "schemathesis $("$schemathesis" --version | awk '{print $NF}'): up to $max_examples examples per operation"
# Run from a scratch directory: schemathesis and hypothesis keep caches in the working directory.
# --continue-on-failure keeps fuzzing an operation after a failure, so every failing case is
# reported and the request count does not depend on when the first one turned up. The timeout
# only stops a hung run; a normal one takes 15 to 30 s.
status=0
(cd "$work" && timeout 170 "$schemathesis" run "$metrics/openapi.json" \
  --url "$api" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "$max_examples" \
  --continue-on-failure \
  --request-timeout 10 \
  --generation-database none \
  --no-color \
  "$@") || status=$?

# The service's own count, not schemathesis's: what actually reached it and how it answered.
scrape="$(curl -sf "$metrics/metrics")"
count_of() { awk -v class="$1" '/^http_requests_total\{/ && index($0, class) { n += $2 } END { print n + 0 }' <<<"$scrape"; }
requests="$(count_of 'status_class=')"
server_errors="$(count_of 'status_class="5xx"')"
say "the service answered $requests requests, $server_errors of them 5xx"

if ((status != 0 || server_errors > 0)); then
  say "the service's first logged errors:"
  grep -m 5 'ERROR' "$work/service.log" >&2 || true
fi
if ((status != 0)); then say "schemathesis reported failures (exit $status)"; exit 1; fi
if ((requests < min_requests)); then say "fewer than $min_requests requests"; exit 1; fi
if ((server_errors > 0)); then say "the service answered 5xx"; exit 1; fi
say "passed"
