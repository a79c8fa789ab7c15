#!/usr/bin/env bash
# The lab's throwaway Prometheus and the Postgres exporter, kept in .lab/prometheus (git-ignored),
# like scripts/pg.sh keeps Postgres: Debian's `prometheus` and `prometheus-postgres-exporter`
# (installed by scripts/setup.sh), configured from monitoring/.
#
#   scripts/prometheus.sh start    start both (idempotent); Postgres must be up
#   scripts/prometheus.sh stop     stop both (idempotent)
#   scripts/prometheus.sh status   say whether they run
#   scripts/prometheus.sh url      print Prometheus's base URL
#   scripts/prometheus.sh pids     print "prometheus PID" and "exporter PID" (for CPU accounting)
#   scripts/prometheus.sh register JOB HOST:PORT [LABEL=VALUE...]
#                                  scrape HOST:PORT as JOB (todo-service, latency-proxy) from now on,
#                                  its series labelled LABEL=VALUE (e.g. run=..., arm=shared)
#   scripts/prometheus.sh unregister JOB   stop scraping JOB's target
#   scripts/prometheus.sh destroy  stop both and delete the stored series
#   scripts/prometheus.sh exporter-start | exporter-stop
#                                  the exporter alone: how scripts/netns.sh runs one beside the
#                                  system-under-test host's Postgres (LAB_PROM_EXPORTER_LISTEN)
#
# Prometheus listens on 127.0.0.1:$LAB_PROM_PORT (default 59090) with the remote-write receiver on
# (k6 sends its samples there) and native histograms on; the exporter on $LAB_PROM_EXPORTER_PORT
# (default 59187; LAB_PROM_EXPORTER_LISTEN sets the whole address), connected to the lab's Postgres
# (`scripts/pg.sh url`, or DATABASE_URL's server). Register's JOB names the target file: a file
# named postgres-<anything> is scraped as job postgres too (a second host's exporter).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${LAB_PROM_PORT:-59090}"
exporter_port="${LAB_PROM_EXPORTER_PORT:-59187}"
exporter_listen="${LAB_PROM_EXPORTER_LISTEN:-127.0.0.1:$exporter_port}"
dir="$(realpath -m "${LAB_PROM_DIR:-$root/.lab/prometheus}")"
targets="$dir/targets"
# Long enough to rebuild a report from a past run's window; short enough not to fill a disk.
retention="${LAB_PROM_RETENTION:-15d}"

say() { echo "[prometheus] $*" >&2; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Writes JOB's file-discovery target list atomically (Prometheus re-reads it on change): one
# target, its labels given as LABEL=VALUE words. No target at all when HOST:PORT is empty.
write_target() { # job host:port [label=value...]
  mkdir -p "$targets"
  local tmp="$targets/.$1.json.tmp"
  python3 - "$@" >"$tmp" <<'PY'
import json, sys
job, address, *labels = sys.argv[1:]
pairs = dict(label.split("=", 1) for label in labels)
print(json.dumps([{"targets": [address], "labels": pairs}] if address else []))
PY
  mv "$tmp" "$targets/$1.json"
}

wait_http() { # url name
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  say "$2 did not answer on $1 within 10 s (log: $dir/$2.log)"; exit 1
}

admin_url() {
  if [[ -n "${DATABASE_URL:-}" ]]; then
    # The server of DATABASE_URL, its maintenance database: the exporter must never hold a
    # connection to the lab's database, which each run drops and recreates.
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/postgres")))' "$DATABASE_URL"
  else
    "$root/scripts/pg.sh" url
  fi
}

start_exporter() {
  command -v prometheus-postgres-exporter >/dev/null || {
    say "prometheus-postgres-exporter is not installed (scripts/setup.sh installs it)"; exit 1; }
  mkdir -p "$dir"
  if pid_alive "$dir/exporter.pid"; then
    say "the Postgres exporter already runs on $exporter_listen"
  else
    say "starting the Postgres exporter on $exporter_listen (log: $dir/exporter.log)"
    DATA_SOURCE_NAME="$(admin_url)?sslmode=disable" setsid prometheus-postgres-exporter \
      --web.listen-address="$exporter_listen" \
      --disable-default-metrics --disable-settings-metrics --no-collector.database --no-collector.bgwriter \
      --extend.query-path="$root/monitoring/postgres-exporter-queries.yaml" \
      >"$dir/exporter.log" 2>&1 </dev/null &
    echo $! >"$dir/exporter.pid"
    wait_http "http://$exporter_listen/metrics" exporter
  fi
}

start() {
  command -v prometheus >/dev/null || { say "prometheus is not installed (scripts/setup.sh installs it)"; exit 1; }
  mkdir -p "$dir/data" "$targets"
  cp "$root/monitoring/prometheus.yml" "$dir/prometheus.yml"
  for job in todo-service latency-proxy; do
    [[ -f "$targets/$job.json" ]] || write_target "$job" ""
  done
  write_target postgres "$exporter_listen"
  write_target prometheus "127.0.0.1:$port"
  start_exporter

  if pid_alive "$dir/prometheus.pid"; then
    say "already running on 127.0.0.1:$port"
  else
    say "starting on 127.0.0.1:$port (data: $dir/data, log: $dir/prometheus.log)"
    setsid prometheus \
      --config.file="$dir/prometheus.yml" \
      --storage.tsdb.path="$dir/data" \
      --storage.tsdb.retention.time="$retention" \
      --web.listen-address="127.0.0.1:$port" \
      --web.enable-remote-write-receiver \
      --enable-feature=native-histograms \
      >"$dir/prometheus.log" 2>&1 </dev/null &
    echo $! >"$dir/prometheus.pid"
    wait_http "http://127.0.0.1:$port/-/ready" prometheus
  fi
}

stop_one() { # pidfile name
  if pid_alive "$1"; then
    say "stopping $2"
    local pid; pid="$(cat "$1")"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$1"
}

case "${1:-start}" in
  start) start ;;
  exporter-start) start_exporter ;;
  exporter-stop) stop_one "$dir/exporter.pid" "the Postgres exporter" ;;
  stop)
    stop_one "$dir/prometheus.pid" prometheus
    stop_one "$dir/exporter.pid" "the Postgres exporter"
    ;;
  status)
    if pid_alive "$dir/prometheus.pid" && pid_alive "$dir/exporter.pid"; then
      echo "running on 127.0.0.1:$port (exporter on $exporter_listen)"
    else
      echo "stopped"; exit 3
    fi
    ;;
  url) echo "http://127.0.0.1:$port" ;;
  pids)
    for name in prometheus exporter; do
      if pid_alive "$dir/$name.pid"; then echo "$name $(cat "$dir/$name.pid")"; fi
    done
    ;;
  register)
    [[ $# -ge 3 ]] || { echo "usage: $0 register JOB HOST:PORT [LABEL=VALUE...]" >&2; exit 2; }
    shift; write_target "$@" ;;
  unregister)
    [[ $# -eq 2 ]] || { echo "usage: $0 unregister JOB" >&2; exit 2; }
    write_target "$2" "" ;;
  destroy)
    "$0" stop
    rm -rf "$dir"
    say "destroyed"
    ;;
  *) echo "usage: $0 start|stop|status|url|pids|register|unregister|destroy|exporter-start|exporter-stop" >&2; exit 2 ;;
esac
