"""CPU used by the service, Postgres, k6 and the latency proxy, read from /proc every second.

A process's CPU time is utime + stime in /proc/<pid>/stat (all its threads), in clock ticks. For
Postgres, which forks a backend per connection, the group is the postmaster and all its descendants,
plus the postmaster's cutime + cstime: the time of children that already exited and were reaped. So
the group's total stays monotonic even while backends come and go.
"""

from __future__ import annotations

import json
import os
import threading
import time
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


def tree_ticks(root: int, stats: dict[int, ProcStat]) -> int | None:
    """CPU ticks of a process tree: live members' own time plus the root's reaped children."""
    if root not in stats:
        return None
    pids = descendants(root, stats)
    own = sum(stats[p].utime + stats[p].stime for p in pids if p in stats)
    return own + stats[root].cutime + stats[root].cstime


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


class CpuSampler:
    """Samples cumulative CPU seconds of named processes every `interval` s into a jsonl file.

    Each line: {"t": unix_s, "cpu_s": {"service": 1.23, "postgres": 4.5, ...}}; a name is missing
    while its process isn't there. `track()` adds a process later (k6 starts after the sampler).
    Groups named in `trees` are counted as whole process trees (Postgres).
    """

    def __init__(self, path: Path, interval: float = 1.0):
        self.path = path
        self.interval = interval
        self._pids: dict[str, int] = {}
        self._trees: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._lock = threading.Lock()

    def track(self, name: str, pid: int | None, tree: bool = False) -> None:
        if pid is None:
            return
        with self._lock:
            self._pids[name] = pid
            if tree:
                self._trees.add(name)

    def start(self) -> "CpuSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> dict:
        stats = all_stats()
        with self._lock:
            pids, trees = dict(self._pids), set(self._trees)
        cpu = {}
        for name, pid in pids.items():
            ticks = tree_ticks(pid, stats) if name in trees else process_ticks(pid, stats)
            if ticks is not None:
                cpu[name] = ticks / CLOCK_TICKS
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
