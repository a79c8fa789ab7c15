#!/usr/bin/env bash
# What the experiment's UI recorder (web/scripts/record-ui.mjs: node and its Chromium) costs: the
# recorder at OLD_REF against the one in the work tree, alternating, ROUNDS rounds, each run
# MEASURE_S seconds after WARMUP_S of settling, against the release service with a light steady
# load (LOAD_RPS GET /todos per second, no bursts) and the production UI, its dashboard reading the
# lab's Prometheus. Prints per run the recorder tree's mean cores (bench/recorder_cost.py), what it
# spent after the window, and what the rest of the machine used meanwhile; keeps every run's frames
# under the printed folder (for experiment/report/postkit.py's GIFs).
#
#   bench/recorder-cost.sh [OLD_REF]     (default main)
#
# ROUNDS (3), MEASURE_S (60), WARMUP_S (15), FRAME_MS (1500), LOAD_RPS (4), UI_PORT (13000) and
# OUT (a new temporary folder) override. ADMIN_DATABASE_URL names a running PostgreSQL server (else
# the lab's cluster is started); TODO_SERVICE_BIN a built service (else it is built); LAB_VENV
# (.lab/venv) the Python with psutil; LAB_PROM_* another Prometheus (scripts/prometheus.sh), where
# this registers its service as the todo-service target meanwhile. Both recorders run against the
# work tree's UI build (built when missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
old_ref="${1:-main}"
rounds="${ROUNDS:-3}" measure_s="${MEASURE_S:-60}" warmup_s="${WARMUP_S:-15}"
frame_ms="${FRAME_MS:-1500}" load_rps="${LOAD_RPS:-4}" ui_port="${UI_PORT:-13000}"
python="${LAB_VENV:-$root/.lab/venv}/bin/python"
source bench/lib.sh
out="${OUT:-$(mktemp -d -t recorder-cost.XXXX)}"
mkdir -p "$out"

pids=()
old_web=""
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  stop_service
  scripts/prometheus.sh unregister todo-service || true
  [[ -n "$old_web" ]] && rm -rf "$old_web"
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS bench_recorder_cost WITH (FORCE)" >&2 || true
}
trap cleanup EXIT

# ADMIN_DATABASE_URL names a running server; else the lab's cluster (started when it is not).
if [[ -z "${ADMIN_DATABASE_URL:-}" ]]; then scripts/pg.sh start; fi
scripts/prometheus.sh start
if [[ -n "${TODO_SERVICE_BIN:-}" ]]; then service_bin="$TODO_SERVICE_BIN"; else build_service; fi
[[ -f web/.next/BUILD_ID ]] || { say "building the UI"; npm --prefix web run --silent build >&2; }

# The old recorder beside the new one in web/, so it finds the same node_modules.
old_web="$(mktemp -d "$root/web/.recorder-old.XXXX")"
git archive "$old_ref" web/scripts | tar -x -C "$old_web" --strip-components=1
say "old recorder: $old_ref ($(git rev-parse --short "$old_ref")), new: the work tree"

db_url="$(fresh_database bench_recorder_cost)"
"$service_bin" --database-url "$db_url" --argon2-memory-kib 1024 --argon2-iterations 1 \
  seed --users 100 --todos-per-user 20 --password lab-password >&2
start_service --database-url "$db_url" --argon2-memory-kib 1024 --argon2-iterations 1 serve \
  --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
metrics="$(sed -n 's/^metrics on //p' "$service_log")"
scripts/prometheus.sh register todo-service "${metrics#http://}" source=bench-recorder-cost

say "starting the UI on 127.0.0.1:$ui_port"
PORT="$ui_port" PROMETHEUS_URL="$(scripts/prometheus.sh url)" API_URL="$base_url" METRICS_URL="$metrics/metrics" \
  setsid npm --prefix web run start >"$out/ui.log" 2>&1 &
pids+=($!)
for _ in $(seq 180); do curl -fsS -o /dev/null "http://127.0.0.1:$ui_port/login" 2>/dev/null && break; sleep 0.5; done

# The light load: one user's list, LOAD_RPS times a second, for as long as the benchmark runs.
token="$(login_token user2@lab.test lab-password)"
pause="$(python3 -c "print(1 / $load_rps)")"
setsid bash -c 'while :; do curl -s -o /dev/null --max-time 5 -H "Authorization: Bearer $1" "$2/todos?limit=20"; sleep "$3"; done' \
  load "$token" "$base_url" "$pause" &
pids+=($!)

say "$rounds rounds of old and new, ${measure_s} s each after ${warmup_s} s; frames in $out"
echo "run      recorder tree (mean cores over ${measure_s} s, and by process)"
for round in $(seq "$rounds"); do
  for variant in old new; do
    script="$root/web/scripts/record-ui.mjs"
    [[ "$variant" == old ]] && script="$old_web/scripts/record-ui.mjs"
    PYTHONPATH="$root" "$python" bench/recorder_cost.py "$variant-$round" "$warmup_s" "$measure_s" -- \
      node "$script" --base-url "http://127.0.0.1:$ui_port" --out "$out/$variant-$round" \
      --seconds "$((warmup_s + measure_s))" --frame-ms "$frame_ms" 2>>"$out/record-ui.log"
  done
done
