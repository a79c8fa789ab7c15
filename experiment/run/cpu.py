"""CPU used by the service, Postgres, k6 and the latency proxy, sampled through psutil every second,
and the lab's own use of the CPU it may use (cpulimit.py).

A process's CPU time is its user + system time (all its threads). For Postgres, which forks a
backend per connection, the group is the postmaster, its auxiliary processes and the backends
connected to the experiment's database; backends of other databases on the same cluster
(colleagues' tests on a shared machine) are left out.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from .cpulimit import UsableCpu, cgroup_pids, throttled_seconds

# A process gone between listing and reading, or one we may not read: left out of the sample.
_GONE = (psutil.NoSuchProcess, psutil.AccessDenied)


def find_postmaster(data_dir: Path | None) -> int | None:
    """The postmaster's pid: first line of DATA/postmaster.pid, or else the oldest `postgres`
    process whose parent is not a postgres process."""
    if data_dir is not None:
        try:
            pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
            if psutil.pid_exists(pid):
                return pid
        except (OSError, ValueError, IndexError):
            pass
    postgres = {p.pid: p for p in psutil.process_iter(["name", "ppid", "create_time"])
                if p.info["name"] in ("postgres", "postmaster")}
    roots = [p for p in postgres.values() if p.info["ppid"] not in postgres]
    return min(roots, key=lambda p: (p.info["create_time"] or 0, p.pid)).pid if roots else None


def backend_database(cmdline: str) -> str | None:
    """The database of a Postgres client backend from its process title
    (`postgres: USER DATABASE HOST(PORT) STATE`); None for the postmaster and auxiliary processes."""
    match = re.match(r"postgres: (\S+) (\S+) (\S+\(\d+\)|\[local\])", cmdline)
    return match.group(2) if match else None


def process_title(process: psutil.Process) -> str:
    """The command line as one string: a Postgres backend rewrites it into its title."""
    try:
        return " ".join(process.cmdline()).strip()
    except _GONE:
        return ""


Keep = Callable[[psutil.Process], bool]


def postgres_filter(database: str) -> Keep:
    """Keep the postmaster, its auxiliary processes and the backends of `database`; leave out the
    backends of other databases on the same cluster (a colleague's tests, say)."""
    def keep(process: psutil.Process) -> bool:
        db = backend_database(process_title(process))
        return db is None or db == database
    return keep


def busy_seconds() -> dict[str, float]:
    """CPU seconds spent busy since boot (everything but idle and iowait), for the whole machine
    ("machine", all cores added up) and for each CPU ("cpu0", "cpu1", ...). Their rates are the
    load of the machine and of each CPU, ours and everybody else's, in cores."""
    busy = {"machine": _busy(psutil.cpu_times())}
    for n, times in enumerate(psutil.cpu_times(percpu=True)):
        busy[f"cpu{n}"] = _busy(times)
    return busy


def _busy(times) -> float:
    # guest time is already inside user time (proc(5)): it is not added again.
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


def _since_boot() -> float:
    """Now, on the clock a process's start time is measured on (seconds since boot)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class CpuSampler:
    """Samples the CPU of named processes (or process trees) every `interval` s into a jsonl file.

    Each line: {"t": unix_s, "cpu_s": {"service": 1.23, "postgres": 4.5, ..., "machine": 9876.5,
    "cpu0": 4938.2, ...}}: CPU seconds used since the group was first seen; "machine" is every
    core's busy time since boot and "cpuN" one core's (the machine is shared: it shows when
    someone else was using it; with pinned CPU sets, each side's load). A group is missing
    while its process isn't there. Between two
    samples a group's usage is the sum, over its processes alive at both, of their user+system
    increase, plus all of the time of processes started in between. So a Postgres backend that
    exits doesn't make the total drop, and the members can be filtered (`keep`).
    `track()` adds a process later (k6 starts after the sampler).

    With `usable` (cpulimit.py) each line also has "lab": the CPU counted against the usable CPU
    (the processes of the cgroup whose quota limits the lab; without a quota, the busy time of the
    CPUs in the affinity mask), and, under a quota, "throttled": the seconds the kernel held the
    cgroup's threads back because the quota was spent (added over threads: a rate above 0 means the
    lab wanted more CPU than it may use).
    """

    def __init__(self, path: Path, interval: float = 1.0, usable: UsableCpu | None = None):
        self.path = path
        self.interval = interval
        self.usable = usable
        self._groups: dict[str, Members] = {}
        self._prev: dict[str, dict[psutil.Process, float]] = {}
        self._total: dict[str, float] = {}
        self._prev_since_boot = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._lock = threading.Lock()
        if usable is not None and usable.limited_by_quota and usable.quota_cgroup:
            self.track_cgroup("lab", Path(usable.quota_cgroup))

    def track(self, name: str, pid: int | None, tree: bool = False, keep: Keep | None = None) -> None:
        """Sample `pid` as `name`; with tree=True also its descendants for which keep(process) holds."""
        if pid is None:
            return
        self._track(name, lambda: _tree(pid, tree, keep))

    def track_cgroup(self, name: str, folder: Path) -> None:
        """Sample every process in cgroup `folder` (and below) as `name`."""
        self._track(name, lambda: _processes(cgroup_pids(folder)))

    def _track(self, name: str, members: Members) -> None:
        with self._lock:
            self._groups[name] = members

    def start(self) -> CpuSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> dict:
        now = _since_boot()
        boot = psutil.boot_time()
        with self._lock:
            groups = dict(self._groups)
        cpu = {}
        for name, members in groups.items():
            seconds = _members_cpu(members(), boot)
            if seconds is None:
                self._prev.pop(name, None)
                continue
            prev = self._prev.get(name)
            if prev is None:
                self._total[name] = self._total.get(name, 0.0)
            else:
                for process, (used, started) in seconds.items():
                    if process in prev:
                        self._total[name] += max(0.0, used - prev[process])
                    elif started >= self._prev_since_boot:
                        self._total[name] += used  # started since the last sample: all of its time is new
            self._prev[name] = {process: used for process, (used, _) in seconds.items()}
            cpu[name] = round(self._total[name], 4)
        busy = busy_seconds()
        for name, seconds in busy.items():
            cpu[name] = round(seconds, 3)
        if self.usable is not None and not self.usable.limited_by_quota:
            cpu["lab"] = round(sum(busy.get(f"cpu{n}", 0.0) for n in self.usable.affinity), 3)
        elif self.usable is not None and self.usable.quota_cgroup:
            throttled = throttled_seconds(Path(self.usable.quota_cgroup))
            if throttled is not None:
                cpu["throttled"] = round(throttled, 4)
        self._prev_since_boot = now
        return {"t": time.time(), "cpu_s": cpu}

    def _run(self) -> None:
        with open(self.path, "a") as out:
            while not self._stop.is_set():
                started = time.monotonic()
                out.write(json.dumps(self.sample()) + "\n")
                out.flush()
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


# A group's processes now: the first is the one whose presence makes the group present (None:
# the group is not there now).
Members = Callable[[], list[psutil.Process] | None]


def _tree(pid: int, tree: bool, keep: Keep | None) -> list[psutil.Process] | None:
    """`pid` and, with `tree`, its descendants that `keep` accepts; None when `pid` is not running."""
    try:
        root = psutil.Process(pid)
        return [root, *(p for p in root.children(recursive=True) if keep is None or keep(p))] if tree else [root]
    except _GONE:
        return None


def _processes(pids: list[int]) -> list[psutil.Process]:
    """The processes of `pids` still running."""
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except _GONE:
            continue
    return found


def _members_cpu(members: list[psutil.Process] | None,
                 boot: float) -> dict[psutil.Process, tuple[float, float]] | None:
    """(CPU seconds used, start in seconds since boot) of each member; None when the group is not
    there (no members, or its first one gone). Keyed by psutil's Process, which tells a reused pid
    from the process that had it."""
    if members is None:
        return None
    seconds = {}
    for process in members:
        try:
            with process.oneshot():
                times = process.cpu_times()
                seconds[process] = (times.user + times.system, process.create_time() - boot)
        except _GONE:
            continue  # exited meanwhile
    if members and members[0] not in seconds:
        return None
    return seconds
