#!/usr/bin/env bash
# The system under test on a host of its own, on this one machine: a Linux network namespace
# joined to the load side (this machine's own namespace, where the runner, k6, the UI, the
# recorder and the lab's Prometheus run) by a veth pair with an address at each end. Everything
# the load sends crosses that interface, never the loopback. `scripts/experiment.sh --hosts netns`
# uses it.
#
#   scripts/netns.sh up        create the namespace and the veth pair, and start the system under
#                              test's own Postgres and Postgres exporter in it (idempotent)
#   scripts/netns.sh down      stop them and remove the veth pair and the namespace (idempotent)
#   scripts/netns.sh status    say whether it is up
#   scripts/netns.sh env       print what the runner needs to reach it, as KEY=VALUE lines
#   scripts/netns.sh pids      print "exporter-sut PID" (for CPU accounting)
#   scripts/netns.sh exec CMD  run CMD on the system-under-test host
#
#   load side (this namespace)          system under test (namespace $LAB_NETNS)
#   <ns>-load  10.77.0.1/24  <--veth-->  <ns>-sut  10.77.0.2/24, lo: Postgres on 127.0.0.1:54329,
#   and k6's source addresses            exporter on 10.77.0.2:59187; the service and the latency
#   10.77.0.11-10.77.0.18                proxy are started there by the runner for each run
#
# Why k6 gets 8 source addresses: the load opens a new connection per request, ~1,000 a second in
# a burst, and k6 closes them, so each one's local port then waits 60 s in TIME_WAIT. Linux reuses
# such ports at once only on the loopback (net.ipv4.tcp_tw_reuse=2, its default); across the veth
# a single source address ran out of ports mid-burst (k6 stalled ~2 s and dropped 141-645
# iterations per quick-profile arm; 0 with tcp_tw_reuse=1). Spreading the connections over
# several source addresses (k6's --local-ips) is what a load host does, without changing a kernel
# setting of this machine.
#
# LAB_NETNS names the namespace (default lab-sut, at most 10 characters: the interfaces are named
# after it) and LAB_NETNS_NET the /24's first three octets (default 10.77.0), so two checkouts can
# each have one. Needs root and iproute2 (scripts/setup.sh packages iproute2). Postgres's data is
# in .lab/netns/pg, the exporter's files in .lab/netns/exporter. DATABASE_URL is not supported
# here: a server of your own is already another host (run the runner against it locally).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ns="${LAB_NETNS:-lab-sut}"
net="${LAB_NETNS_NET:-10.77.0}"
load_if="$ns-load"
sut_if="$ns-sut"
load_addr="$net.1"
sut_addr="$net.2"
sources=(11 12 13 14 15 16 17 18)  # k6's source addresses: $net.11 to $net.18
state="$root/.lab/netns"
pg_port=54329  # inside the namespace: nothing else listens there
exporter_port=59187

say() { echo "[netns] $*" >&2; }

(( ${#ns} <= 10 )) || { say "LAB_NETNS must be at most 10 characters (interface names are 15)"; exit 2; }

ns_exists() { ip netns list | grep -qw "^$ns"; }

# Runs "$@" in the namespace with the variables that point the lab's scripts at its own files.
in_ns() {
  ip netns exec "$ns" env LAB_PG_DIR="$state/pg" LAB_PG_PORT="$pg_port" LAB_PROM_DIR="$state/exporter" \
    LAB_PROM_EXPORTER_LISTEN="$sut_addr:$exporter_port" "$@"
}

up() {
  [[ -z "${DATABASE_URL:-}" ]] || { say "DATABASE_URL is set: the netns host runs its own Postgres; unset it"; exit 2; }
  [[ "$(id -u)" == 0 ]] || { say "creating network namespaces needs root"; exit 1; }
  "$root/scripts/setup.sh" packages iproute2 prometheus-postgres-exporter
  if ! ns_exists; then
    say "creating namespace $ns: $load_if $load_addr/24 (k6 from $net.${sources[0]}-$net.${sources[-1]}) <-> $sut_if $sut_addr/24"
    ip netns add "$ns"
    ip link add "$load_if" type veth peer name "$sut_if"
    ip link set "$sut_if" netns "$ns"
    ip addr add "$load_addr/24" dev "$load_if"
    for n in "${sources[@]}"; do ip addr add "$net.$n/24" dev "$load_if"; done
    ip link set "$load_if" up
    ip -n "$ns" addr add "$sut_addr/24" dev "$sut_if"
    ip -n "$ns" link set "$sut_if" up
    ip -n "$ns" link set lo up
  fi
  in_ns "$root/scripts/pg.sh" start
  in_ns "$root/scripts/prometheus.sh" exporter-start
  # The lab's Prometheus (this side) scrapes the database's view across the veth, as job postgres.
  if "$root/scripts/prometheus.sh" status >/dev/null 2>&1; then
    "$root/scripts/prometheus.sh" register "postgres-$ns" "$sut_addr:$exporter_port" host=sut
  fi
  say "up: the system under test's host is $sut_addr (namespace $ns), the load side $load_addr"
}

down() {
  if ns_exists; then
    in_ns "$root/scripts/prometheus.sh" exporter-stop || true
    in_ns "$root/scripts/pg.sh" stop || true
    "$root/scripts/prometheus.sh" unregister "postgres-$ns" 2>/dev/null || true
    ip link del "$load_if" 2>/dev/null || true  # removes its peer too
    ip netns del "$ns"
    say "down: namespace $ns removed"
  else
    say "not up"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status)
    if ns_exists && in_ns "$root/scripts/pg.sh" status >/dev/null 2>&1; then
      echo "up: namespace $ns at $sut_addr, load side $load_addr"
    else
      echo "down"; exit 3
    fi
    ;;
  env)
    cat <<ENV
NETNS=$ns
SUT_ADDRESS=$sut_addr
LOAD_ADDRESS=$load_addr
LOAD_INTERFACE=$load_if
LOAD_SOURCE_IPS=$net.${sources[0]}-$net.${sources[-1]}
PG_URL=postgres://postgres@127.0.0.1:$pg_port/postgres
PG_DATA=$state/pg/data
ENV
    ;;
  pids)
    if [[ -f "$state/exporter/exporter.pid" ]]; then echo "exporter-sut $(cat "$state/exporter/exporter.pid")"; fi
    ;;
  exec)
    shift
    in_ns "$@"
    ;;
  *) echo "usage: $0 up|down|status|env|pids|exec CMD..." >&2; exit 2 ;;
esac
