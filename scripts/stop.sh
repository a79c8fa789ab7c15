#!/usr/bin/env bash
# Stops everything the lab started from this checkout and left running, and nothing else:
#
#   1. a demo (scripts/demo.sh), through its pid file .lab/demo.pid: it stops its service, latency
#      proxy and UI itself;
#   2. what a run killed outright left behind (its own clean-up never ran): processes whose program
#      is this checkout's todo-service or latency-proxy build, or a Node process in its web/ (the UI);
#   3. the system under test's network namespace (scripts/netns.sh down: its Postgres, its exporter,
#      the veth pair), if this checkout's namespace Postgres runs in it;
#   4. the lab's Prometheus and Postgres exporter (scripts/prometheus.sh stop);
#   5. the tests' restartable Postgres (.lab/pg-restartable, port 54339, the database-loss test's);
#   6. the lab's Postgres (.lab/pg, port 54329; scripts/pg.sh stop).
#
# Everything is found through this checkout's own files (pid files, data folders, binaries), so the
# lab of another checkout on the same machine keeps running. Data stays: start again with the
# experiment, the tests or scripts/setup.sh; `scripts/pg.sh destroy` and `scripts/prometheus.sh
# destroy` delete it. Idempotent. LAB_PG_DIR, LAB_PROM_DIR and LAB_NETNS name other instances, as
# for the scripts they are passed to. A running scripts/experiment.sh or scripts/test.sh is better
# stopped with Ctrl-C: it stops its own children on the way out.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "[stop] $*" >&2; }

# TERM, then KILL after 10 s, for each pid given.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=()
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]})) || return 0
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# 1. The demo.
demo_pid_file="$root/.lab/demo.pid"
if [[ -f "$demo_pid_file" ]] && kill -0 "$(cat "$demo_pid_file")" 2>/dev/null; then
  say "stopping the demo (pid $(cat "$demo_pid_file"))"
  stop_pids "$(cat "$demo_pid_file")"
fi
rm -f "$demo_pid_file"

# 2. Leftovers, by the path of their program (or, for the UI's Node server, its folder).
leftovers=()
for proc in /proc/[0-9]*; do
  exe="$(readlink "$proc/exe" 2>/dev/null)" || continue
  case "$exe" in
    "$root"/target/release/todo-service | "$root"/target/release/latency-proxy | \
      "$root"/target/debug/todo-service | "$root"/target/debug/latency-proxy) ;;
    */node) [[ "$(readlink "$proc/cwd" 2>/dev/null)" == "$root/web" ]] || continue ;;
    *) continue ;;
  esac
  leftovers+=("${proc#/proc/}")
done
if ((${#leftovers[@]})); then
  for pid in "${leftovers[@]}"; do say "stopping $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"; done
  stop_pids "${leftovers[@]}"
fi

# 3. The network namespace, when its Postgres is this checkout's (the namespace's name is shared
# by every checkout on the machine).
netns_pid_file="$root/.lab/netns/pg/data/postmaster.pid"
if [[ -f "$netns_pid_file" ]] && kill -0 "$(head -n 1 "$netns_pid_file")" 2>/dev/null; then
  scripts/netns.sh down
elif command -v ip >/dev/null && ip netns list 2>/dev/null | grep -qw "^${LAB_NETNS:-lab-sut}"; then
  say "a namespace ${LAB_NETNS:-lab-sut} exists but runs no Postgres of this checkout: left alone (scripts/netns.sh down removes it)"
fi

# 4. Prometheus and the exporter (their pid files are this checkout's).
scripts/prometheus.sh stop

# 5. and 6. The Postgres clusters: pg.sh stops the cluster of its data folder, whatever its port.
for dir in "$root/.lab/pg-restartable" "${LAB_PG_DIR:-$root/.lab/pg}"; do
  if [[ -f "$dir/data/PG_VERSION" ]]; then
    say "Postgres in ${dir#"$root"/}"
    LAB_PG_DIR="$dir" scripts/pg.sh stop
  fi
done
say "done: nothing of this checkout's lab runs"
