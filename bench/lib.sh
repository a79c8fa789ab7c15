# Steps the login benchmarks share. Sourced (not run) by a script that set `set -euo pipefail`
# and changed to the repository root.
#
# ADMIN_DATABASE_URL picks the PostgreSQL server (default: the lab's, 127.0.0.1:54329); each
# benchmark recreates its own database there, so runs never see each other's data.

admin_url="${ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:54329/postgres}"
service_bin=target/release/todo-service

say() { echo "[bench] $*" >&2; }

build_service() {
  say "building the release binary"
  cargo build --release --quiet -p todo-service
}

# Drops and creates database $1 on the admin server; prints its URL.
fresh_database() {
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >&2
  echo "${admin_url%/*}/$1"
}

# Runs `todo-service ARGS...` (ending in `serve --listen 127.0.0.1:0 ...`) in the background and
# waits for its port; sets service_pid and base_url. Callers trap EXIT to stop_service.
start_service() {
  service_log="$(mktemp)"
  "$service_bin" "$@" >"$service_log" 2>&1 &
  service_pid=$!
  for _ in $(seq 200); do grep -q '^listening on' "$service_log" && break; sleep 0.1; done
  base_url="$(sed -n 's/^listening on //p' "$service_log")"
  if [[ -z "$base_url" ]]; then cat "$service_log" >&2; exit 1; fi
}

stop_service() {
  if [[ -n "${service_pid:-}" ]]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
}

# A /proc/<pid>/status memory field ($2: VmRSS, VmHWM = peak RSS) of process $1, in MiB.
proc_mib() {
  awk -v field="$2:" '$1 == field { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

# Logs in as email $1 with password $2 at $base_url; prints the session token (exits if it fails).
login_token() {
  local token
  token="$(curl -sf --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"$2\"}" "$base_url/login" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
  [[ -n "$token" ]] || { say "login as $1 failed"; exit 1; }
  echo "$token"
}
