"""Where the two roles of an experiment run, and how the runner controls the system under test.

The system under test (Postgres, the latency proxy, the service) and the load side (k6, the UI
and its recorder, the runner itself and its Prometheus) talk only through addresses: the service
listens on the system-under-test host's `address`, and everything on the load side reaches it
there. The lab-control steps the runner takes on the system-under-test host (recreate and seed
the database, start the proxy and the service: lab.py) run their commands through `command()`, so
they work the same on either kind of host:

- `LocalHost`: one machine, today's default. Commands run as they are; addresses are 127.0.0.1;
  the load crosses the loopback.
- `NetnsHost`: a network namespace with its own Postgres and exporter, joined to the load side by
  a veth pair (scripts/netns.sh sets it up and says its addresses). Commands run through
  `ip netns exec`; every request crosses the veth.

A host over SSH would be a third implementation (`ssh HOST -- argv`); it is not built: the runner
samples the system under test's CPU with psutil by pid, which needs a shared kernel.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from ..model.results import HostsRecord, NetworkRecord
from . import k6cmd, procs

HOST_MODES = ("local", "netns")


class SystemUnderTestHost(Protocol):
    """The host the system under test runs on, as the runner sees it."""

    mode: str
    address: str  # where its services listen, as the load side reaches them
    interface: str  # the load side's network interface towards it (its bytes: interface_counters)
    admin_url: str  # a Postgres URL, valid on that host, allowed to DROP/CREATE DATABASE
    pg_data_dir: Path | None  # its Postgres's data folder (postmaster.pid), None for a server of DATABASE_URL

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` as a command that runs on the host."""
        ...

    def k6_options(self) -> list[str]:
        """k6's options for reaching the host from the load side (its source addresses)."""
        ...

    def monitoring_pids(self) -> dict[str, int]:
        """Processes of the host's own monitoring (an exporter beside its Postgres), by name."""
        ...

    def record(self) -> HostsRecord:
        """Where the roles ran, for config.json and the report."""
        ...


def interface_counters(interface: str) -> NetworkRecord:
    """Bytes received and sent so far on `interface` of the runner's own namespace (the load side)."""
    counters = psutil.net_io_counters(pernic=True)[interface]
    return NetworkRecord(interface=interface, rx_bytes=counters.bytes_recv, tx_bytes=counters.bytes_sent)


def difference(before: NetworkRecord, after: NetworkRecord) -> NetworkRecord:
    """What crossed the interface between two readings."""
    return NetworkRecord(interface=after.interface, rx_bytes=after.rx_bytes - before.rx_bytes,
                         tx_bytes=after.tx_bytes - before.tx_bytes)


@dataclass(frozen=True)
class LocalHost:
    """Both roles on this machine: commands run as they are, the load crosses the loopback (whose
    counters include everything else on it: Postgres, Prometheus's scrapes)."""

    admin_url: str
    pg_data_dir: Path | None
    mode: str = "local"
    address: str = "127.0.0.1"
    interface: str = "lo"

    def command(self, argv: Sequence[str]) -> list[str]:
        return list(argv)

    def k6_options(self) -> list[str]:
        return []  # on the loopback Linux reuses a closed connection's port at once (tcp_tw_reuse=2)

    def monitoring_pids(self) -> dict[str, int]:
        return {}  # the lab's exporter is the Prometheus's own (monitoring.Prometheus.pids)

    def record(self) -> HostsRecord:
        return HostsRecord(mode=self.mode, sut_address=self.address, load_address=self.address,
                           interface=self.interface)


@dataclass(frozen=True)
class NetnsHost:
    """The system under test in a network namespace (scripts/netns.sh), the load side in the
    runner's own: requests go to `address` through the veth whose load-side end is `interface`."""

    script: Path  # scripts/netns.sh
    namespace: str
    address: str
    load_address: str
    interface: str
    source_ips: str  # k6's source addresses on the load side, a range "A-B" (scripts/netns.sh says why)
    admin_url: str
    pg_data_dir: Path | None
    mode: str = "netns"

    @classmethod
    def of(cls, root: Path) -> NetnsHost:
        """The namespace scripts/netns.sh made (it must be up: `scripts/netns.sh up`)."""
        script = root / "scripts" / "netns.sh"
        status = subprocess.run([str(script), "status"], capture_output=True, text=True, timeout=30)
        if status.returncode != 0:
            raise RuntimeError(f"the system-under-test namespace is not up: run {script} up")
        env = dict(line.split("=", 1) for line in procs.script_output(script, "env").splitlines() if "=" in line)
        return cls(script=script, namespace=env["NETNS"], address=env["SUT_ADDRESS"],
                   load_address=env["LOAD_ADDRESS"], interface=env["LOAD_INTERFACE"],
                   source_ips=env["LOAD_SOURCE_IPS"], admin_url=env["PG_URL"],
                   pg_data_dir=Path(env["PG_DATA"]))

    def command(self, argv: Sequence[str]) -> list[str]:
        # ip netns exec execs the command: the pid the runner gets is the command's own.
        return ["ip", "netns", "exec", self.namespace, *argv]

    def k6_options(self) -> list[str]:
        # A new connection per request at ~1,000/s: across a real interface each closed one holds
        # its local port for 60 s (TIME_WAIT), so k6 spreads them over several source addresses.
        return k6cmd.local_ips_args(self.source_ips)

    def monitoring_pids(self) -> dict[str, int]:
        return procs.script_pids(self.script)

    def record(self) -> HostsRecord:
        return HostsRecord(mode=self.mode, sut_address=self.address, load_address=self.load_address,
                           interface=self.interface, sut_namespace=self.namespace)

