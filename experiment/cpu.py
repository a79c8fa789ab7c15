"""CPU used by the service, Postgres, k6 and the latency proxy, read from /proc every second.

A process's CPU time is utime + stime in /proc/<pid>/stat (all its threads), in clock ticks. For
Postgres, which forks a backend per connection, the group is the postmaster, its auxiliary
processes and the backends connected to the experiment's database; backends of other databases on
the same cluster (colleagues' tests on a shared machine) are left out.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    comm: str
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int
    starttime: int = 0  # clock ticks after boot


def parse_stat(text: str) -> ProcStat:
    """Parse one /proc/<pid>/stat line. The command name is in parentheses and may hold spaces."""
    open_paren, close_paren = text.index("("), text.rindex(")")
    pid = int(text[:open_paren].strip())
    comm = text[open_paren + 1 : close_paren]
    fields = text[close_paren + 2 :].split()
    # fields[0] is field 3 (state) of proc(5); utime is field 14, stime 15, cutime 16, cstime 17.
    return ProcStat(
        pid=pid, comm=comm, ppid=int(fields[1]),
        utime=int(fields[11]), stime=int(fields[12]), cutime=int(fields[13]), cstime=int(fields[14]),
        starttime=int(fields[19]),
    )


def read_stat(pid: int, proc: Path = Path("/proc")) -> ProcStat | None:
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None  # the process exited between listing and reading


def all_stats(proc: Path = Path("/proc")) -> dict[int, ProcStat]:
    stats = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name), proc)
            if stat:
                stats[stat.pid] = stat
    return stats


def descendants(root: int, stats: dict[int, ProcStat]) -> set[int]:
    """root and every process below it."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def process_ticks(pid: int, stats: dict[int, ProcStat]) -> int | None:
    stat = stats.get(pid)
    return None if stat is None else stat.utime + stat.stime


def find_postmaster(data_dir: Path | None) -> int | None:
    """The postmaster's pid: first line of DATA/postmaster.pid, or else the oldest `postgres`
    process whose parent is not a postgres process."""
    if data_dir is not None:
        try:
            pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
            if read_stat(pid):
                return pid
        except (OSError, ValueError, IndexError):
            pass
    stats = all_stats()
    postgres = {pid for pid, s in stats.items() if s.comm in ("postgres", "postmaster")}
    roots = [pid for pid in postgres if stats[pid].ppid not in postgres]
    return min(roots) if roots else None


def backend_database(cmdline: str) -> str | None:
    """The database of a Postgres client backend from its process title
    (`postgres: USER DATABASE HOST(PORT) STATE`); None for the postmaster and auxiliary processes."""
    match = re.match(r"postgres: (\S+) (\S+) (\S+\(\d+\)|\[local\])", cmdline)
    return match.group(2) if match else None


def read_cmdline(pid: int, proc: Path = Path("/proc")) -> str:
    try:
        return (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def postgres_filter(database: str) -> Callable[[int], bool]:
    """Keep the postmaster, its auxiliary processes and the backends of `database`; leave out the
    backends of other databases on the same cluster (a colleague's tests, say)."""
    def keep(pid: int) -> bool:
        db = backend_database(read_cmdline(pid))
        return db is None or db == database
    return keep


def busy_seconds(proc: Path = Path("/proc")) -> dict[str, float]:
    """CPU seconds spent busy since boot (/proc/stat: everything but idle and iowait), for the
    whole machine ("machine", all cores added up) and for each CPU ("cpu0", "cpu1", ...). Their
    rates are the load of the machine and of each CPU, ours and everybody else's, in cores."""
    try:
        lines = (proc / "stat").read_text().splitlines()
    except OSError:
        return {}
    busy = {}
    for line in lines:
        fields = line.split()
        if not fields or not fields[0].startswith("cpu"):
            continue
        values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
        name = "machine" if fields[0] == "cpu" else fields[0]
        busy[name] = (sum(values) - values[3] - values[4]) / CLOCK_TICKS
    return busy


def _uptime_ticks() -> float:
    try:
        return float(Path("/proc/uptime").read_text().split()[0]) * CLOCK_TICKS
    except OSError:
        return 0.0


class CpuSampler:
    """Samples the CPU of named processes (or process trees) every `interval` s into a jsonl file.

    Each line: {"t": unix_s, "cpu_s": {"service": 1.23, "postgres": 4.5, ..., "machine": 9876.5,
    "cpu0": 4938.2, ...}}: CPU seconds used since the group was first seen; "machine" is every
    core's busy time since boot and "cpuN" one core's (the machine is shared: it shows when
    someone else was using it; with pinned CPU sets, each side's load). A group is missing
    while its process isn't there. Between two
    samples a group's usage is the sum, over its processes alive at both, of their utime+stime
    increase, plus all of the time of processes started in between. So a Postgres backend that
    exits doesn't make the total drop, and the members can be filtered (`keep`).
    `track()` adds a process later (k6 starts after the sampler).
    """

    def __init__(self, path: Path, interval: float = 1.0):
        self.path = path
        self.interval = interval
        self._groups: dict[str, tuple[int, bool, Callable[[int], bool] | None]] = {}
        self._prev: dict[str, dict[int, int]] = {}
        self._total: dict[str, float] = {}
        self._prev_uptime = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._lock = threading.Lock()

    def track(self, name: str, pid: int | None, tree: bool = False,
              keep: Callable[[int], bool] | None = None) -> None:
        """Sample `pid` as `name`; with tree=True also its descendants for which keep(pid) holds."""
        if pid is None:
            return
        with self._lock:
            self._groups[name] = (pid, tree, keep)

    def start(self) -> CpuSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> dict:
        stats = all_stats()
        uptime = _uptime_ticks()
        with self._lock:
            groups = dict(self._groups)
        cpu = {}
        for name, (root, tree, keep) in groups.items():
            if root not in stats:
                self._prev.pop(name, None)
                continue
            pids = descendants(root, stats) if tree else {root}
            ticks = {p: stats[p].utime + stats[p].stime for p in pids
                     if p in stats and (p == root or keep is None or keep(p))}
            prev = self._prev.get(name)
            if prev is None:
                self._total[name] = self._total.get(name, 0.0)
            else:
                delta = 0
                for pid, value in ticks.items():
                    if pid in prev:
                        delta += max(0, value - prev[pid])
                    elif stats[pid].starttime >= self._prev_uptime:
                        delta += value  # started since the last sample: all of its time is new
                self._total[name] += delta / CLOCK_TICKS
            self._prev[name] = ticks
            cpu[name] = round(self._total[name], 4)
        for name, seconds in busy_seconds().items():
            cpu[name] = round(seconds, 3)
        self._prev_uptime = uptime
        return {"t": time.time(), "cpu_s": cpu}

    def _run(self) -> None:
        with open(self.path, "a") as out:
            while not self._stop.is_set():
                started = time.monotonic()
                out.write(json.dumps(self.sample()) + "\n")
                out.flush()
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


def usage_series(samples: list[dict], name: str) -> list[tuple[float, float]]:
    """(t, cores used) between consecutive samples of `name`: delta CPU seconds / delta wall time.
    A drop (a restarted process) is skipped."""
    series = []
    prev = None
    for sample in samples:
        value = sample["cpu_s"].get(name)
        if value is None:
            prev = None
            continue
        if prev is not None:
            dt = sample["t"] - prev[0]
            dv = value - prev[1]
            if dt > 0 and dv >= 0:
                series.append((sample["t"], dv / dt))
        prev = (sample["t"], value)
    return series
