#!/usr/bin/env bash
# A throwaway local PostgreSQL cluster for the lab, kept in .lab/pg (git-ignored).
#
#   scripts/pg.sh start    create the cluster if needed and start it (idempotent)
#   scripts/pg.sh stop     stop it (idempotent)
#   scripts/pg.sh restart  stop it (fast: open connections are cut) and start it again
#   scripts/pg.sh status   say whether it runs
#   scripts/pg.sh url      print the admin connection URL (postgres database)
#   scripts/pg.sh destroy  stop it and delete its data
#
# LAB_PG_PORT picks the port (default 54329, away from a system cluster's 5432); LAB_PG_DIR the
# folder (default .lab/pg), so the tests can run a second cluster they are free to restart.
# Set DATABASE_URL instead to use a server of your own; then this script is not needed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${LAB_PG_PORT:-54329}"
pg_dir="$(realpath -m "${LAB_PG_DIR:-$root/.lab/pg}")"
data="$pg_dir/data"
run_dir="$pg_dir/run"
log="$pg_dir/postgres.log"

say() { echo "[pg] $*" >&2; }

newest_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

# The server's binaries, Debian's package installed first when missing (scripts/setup.sh).
find_bindir() {
  local dir
  dir="$(newest_bindir)"
  if [[ -z "$dir" ]]; then
    "$root/scripts/setup.sh" packages postgresql >&2 || exit 1
    dir="$(newest_bindir)"
  fi
  [[ -n "$dir" ]] || { say "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }
  echo "$dir"
}

# initdb and postgres refuse to run as root: as root we run them as the postgres user.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

is_running() {
  [[ -f "$data/postmaster.pid" ]] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

init_cluster() {
  mkdir -p "$pg_dir"
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    chown postgres: "$pg_dir"
    # A checkout inside a private folder (mktemp -d makes mode 700) hides .lab/pg from the postgres
    # user: let it pass through (search only, no listing) each parent folder that blocks it.
    local dir="$pg_dir"
    while [[ "$dir" != / ]]; do
      dir="$(dirname "$dir")"
      if ! runuser -u postgres -- test -x "$dir"; then
        say "letting the postgres user pass through $dir (chmod o+x)"
        chmod o+x "$dir"
      fi
    done
    as_owner test -w "$pg_dir" || { say "the postgres user cannot write $pg_dir (check the parents' permissions)"; exit 1; }
  fi
  say "creating a throwaway cluster in $data"
  as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Sized for the lab: tests create a database each; the experiment opens up to ~40 connections.
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$run_dir'
max_connections = 300
shared_buffers = 256MB
log_min_messages = warning
CONF
}

cmd="${1:-start}"
bindir="$(find_bindir)"
case "$cmd" in
  start)
    [[ -f "$data/PG_VERSION" ]] || init_cluster
    if is_running; then
      say "already running on 127.0.0.1:$port"
    else
      mkdir -p "$run_dir"
      [[ "$(id -u)" == 0 ]] && chown postgres: "$run_dir"
      say "starting on 127.0.0.1:$port (log: $log)"
      as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -o "-p $port" -w -t 60 start >/dev/null
    fi
    ;;
  restart)
    "$0" stop
    "$0" start
    ;;
  stop)
    if is_running; then
      say "stopping"
      as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    else
      say "not running"
    fi
    ;;
  status)
    if is_running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 3; fi
    ;;
  url)
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  destroy)
    if is_running; then as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null; fi
    rm -rf "$pg_dir"
    say "destroyed"
    ;;
  *)
    echo "usage: $0 start|stop|restart|status|url|destroy" >&2; exit 2 ;;
esac
