"""The CPU the lab may use: the least of the CPUs it may run on and its cgroup's CPU quota.

A container with a CPU limit (Docker `--cpus`, a Kubernetes limit, a CI runner, `systemd-run -p
CPUQuota=`) gets a CFS quota that neither `os.cpu_count()`, `psutil.cpu_count()` nor the affinity
mask shows: the kernel lets the cgroup run `quota` microseconds per `period` on however many
cores, then stops it until the next period. A lab that judged its CPU against the cores it sees
would believe it has room it does not have, and call a run clean that was throttled.

So the usable CPU is the least of
- the CPUs in this process's affinity mask (`taskset`, a cpuset), and
- every CPU quota on the way from this process's cgroup up to the root of its hierarchy (a limit
  on a parent applies to all its children): cgroup v2 `cpu.max` ("QUOTA PERIOD" or "max PERIOD"),
  cgroup v1 `cpu.cfs_quota_us` (-1: none) over `cpu.cfs_period_us`.

Where the cgroup files are comes from /proc/self/cgroup (the process's path in each hierarchy) and
/proc/self/mountinfo (where each hierarchy is mounted, and which part of it: a container sees its
own cgroup as the root of the mount). On a hybrid host (v1 controllers beside an empty v2 tree)
the v1 `cpu` controller is the one that limits. Every reader takes a root folder, so the tests
give it fake files.

`quota_for` does the opposite for the sweep's second regime (sweep.py): it puts a set of processes
(the lab's Postgres) under a CPU quota of its own, in a new cgroup beside the one they were in,
and always moves them back and removes it, however the run ends.

The lab's own CPU use, to compare with the usable CPU (`lab_processes`): when a quota applies, the
processes in the limited cgroup (they are the ones the quota counts); otherwise the CPUs it may
run on (cpu.py samples them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..model.results import UsableCpu


@dataclass(frozen=True)
class _Hierarchy:
    """One cgroup hierarchy this process is in: where its folder is, and where the mount's top is."""

    version: int  # 1 or 2
    own: Path  # this process's cgroup folder
    top: Path  # the mount point: walking up stops here


def usable_cpu(root: Path = Path("/"), affinity: set[int] | None = None, cores_seen: int | None = None) -> UsableCpu:
    """The CPU this process (and what it starts) may use. `root` is "/" except in tests."""
    cpus = sorted(affinity if affinity is not None else os.sched_getaffinity(0))
    seen = cores_seen if cores_seen is not None else (os.cpu_count() or len(cpus))
    hierarchy = _cpu_hierarchy(root)
    quota = _tightest_quota(hierarchy) if hierarchy else None
    usable = float(len(cpus))
    reasons = [f"{seen} CPUs seen" + ("" if len(cpus) == seen else f", {len(cpus)} in the affinity mask")]
    if quota is not None and quota[0] < usable:
        usable = quota[0]
        reasons.append(f"a cgroup v{hierarchy.version} CPU quota of {quota[0]:g} CPUs ({_shown(quota[1], root)})")
    elif quota is not None:
        reasons.append(f"a cgroup v{hierarchy.version} CPU quota of {quota[0]:g} CPUs, above that")
    else:
        reasons.append("no CPU quota")
    return UsableCpu(
        cores_seen=seen, affinity=cpus, usable=round(usable, 3),
        why=f"{usable:g} usable: " + "; ".join(reasons),
        quota_cpus=None if quota is None else round(quota[0], 3),
        quota_cgroup=None if quota is None else _shown(quota[1], root),
        lab_cgroup=None if hierarchy is None else _shown(hierarchy.own, root),
    )


def _shown(path: Path, root: Path) -> str:
    """`path` as the real system names it (without a test's fake root)."""
    return "/" + str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _cpu_hierarchy(root: Path, pid: str = "self") -> _Hierarchy | None:
    """The hierarchy that holds process `pid`'s `cpu` controller: v1's if there is one, else v2's."""
    try:
        memberships = (root / f"proc/{pid}/cgroup").read_text().splitlines()
        mounts = (root / "proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    v1_path = v2_path = None
    for line in memberships:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "" and parts[0] == "0":
            v2_path = path
        elif "cpu" in controllers.split(","):
            v1_path = path
    for line in mounts:
        mount = _parse_mountinfo(line)
        if mount is None:
            continue
        mount_root, point, fstype, options = mount
        if v1_path is not None and fstype == "cgroup" and "cpu" in options:
            return _Hierarchy(1, _inside(root, point, mount_root, v1_path), root / point.lstrip("/"))
        if v1_path is None and v2_path is not None and fstype == "cgroup2":
            return _Hierarchy(2, _inside(root, point, mount_root, v2_path), root / point.lstrip("/"))
    return None


def _parse_mountinfo(line: str) -> tuple[str, str, str, set[str]] | None:
    """(root of the mount, mount point, file system type, super options) of one mountinfo line:
    `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS` (proc(5))."""
    left, sep, right = line.partition(" - ")
    fields, rest = left.split(), right.split()
    if not sep or len(fields) < 5 or len(rest) < 3:
        return None
    return fields[3], fields[4], rest[0], set(rest[2].split(","))


def _inside(root: Path, point: str, mount_root: str, path: str) -> Path:
    """The folder of cgroup `path` under a mount of the hierarchy's `mount_root` at `point`. A
    container mounts only its own part of the hierarchy: its paths are then below `mount_root`."""
    relative = path
    if mount_root != "/" and (path == mount_root or path.startswith(mount_root.rstrip("/") + "/")):
        relative = path[len(mount_root):]
    return root / point.lstrip("/") / relative.lstrip("/")


def _tightest_quota(hierarchy: _Hierarchy) -> tuple[float, Path] | None:
    """The smallest quota (in CPUs) set on this process's cgroup or any parent, and where."""
    best: tuple[float, Path] | None = None
    folder = hierarchy.own
    while True:
        quota = _quota(folder, hierarchy.version)
        if quota is not None and (best is None or quota < best[0]):
            best = (quota, folder)
        if folder == hierarchy.top or not folder.is_relative_to(hierarchy.top):
            return best
        folder = folder.parent


def _quota(folder: Path, version: int) -> float | None:
    """The CPU quota set on one cgroup folder, in CPUs; None: none (or unreadable)."""
    try:
        if version == 2:
            quota, period = (folder / "cpu.max").read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return None if quota < 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def cgroup_pids(folder: Path) -> list[int]:
    """Every process in cgroup `folder` and the cgroups below it (what its quota counts)."""
    pids: list[int] = []
    for procs in sorted(folder.rglob("cgroup.procs")):
        try:
            pids += [int(line) for line in procs.read_text().split()]
        except (OSError, ValueError):
            continue
    return pids


def throttled_seconds(folder: Path) -> float | None:
    """Seconds the threads of cgroup `folder` were held back by its quota, since it was made:
    `cpu.stat`'s throttled_usec (v2) or throttled_time in nanoseconds (v1). None: not readable."""
    try:
        stat = dict(line.split() for line in (folder / "cpu.stat").read_text().splitlines() if line.strip())
    except (OSError, ValueError):
        return None
    if "throttled_usec" in stat:
        return int(stat["throttled_usec"]) / 1e6
    if "throttled_time" in stat:
        return int(stat["throttled_time"]) / 1e9
    return None


QUOTA_PERIOD_US = 100_000  # the CFS period of a quota this lab sets: the kernel's default


@contextmanager
def quota_for(pids: Callable[[], list[int]], cpus: float, name: str, root: Path = Path("/")) -> Iterator[Path]:
    """Run the processes `pids()` names (asked again at the end: a server forks new ones, which
    stay in their parent's cgroup) under a quota of `cpus` CPUs, in a new cgroup `name` inside
    the first one's (so a quota above still counts them); yields its folder. cgroup v2 lets no
    cgroup but the root hold processes and children both: there it is made beside it instead.
    At the end, however the block ends, every process in it goes back to the first one's cgroup,
    and the new cgroup is removed. Needs write access to the
    cgroup files (root, or a delegated hierarchy); raises OSError otherwise, before moving anything."""
    first = pids()
    hierarchy = _cpu_hierarchy(root, str(first[0])) if first else None
    if hierarchy is None:
        raise OSError("no cgroup cpu controller found for the processes to limit")
    home = hierarchy.own
    folder = home.parent / name if hierarchy.version == 2 and home != hierarchy.top else home / name
    quota = max(1000, round(cpus * QUOTA_PERIOD_US))
    folder.mkdir()
    try:
        if hierarchy.version == 2:
            (folder / "cpu.max").write_text(f"{quota} {QUOTA_PERIOD_US}")
        else:
            (folder / "cpu.cfs_period_us").write_text(str(QUOTA_PERIOD_US))
            (folder / "cpu.cfs_quota_us").write_text(str(quota))
        _move(first, folder)
        yield folder
    finally:
        _move(cgroup_pids(folder) + pids(), home)
        try:
            folder.rmdir()
        except OSError:  # a process we could not move: the folder stays, and says so
            print(f"[experiment] could not remove {_shown(folder, root)}: processes still in it", flush=True)


def _move(pids: list[int], folder: Path) -> None:
    """Move each process into cgroup `folder` (one that has exited meanwhile is skipped)."""
    for pid in dict.fromkeys(pids):
        try:
            (folder / "cgroup.procs").write_text(str(pid))
        except ProcessLookupError:
            continue
