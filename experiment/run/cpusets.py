"""Keeping the load generator off the service's CPU: two disjoint CPU sets on one machine.

The system under test (Postgres, the latency proxy, the service) runs on one set, the load side
(k6, the UI server, the recorder's Chromium, this runner and its samplers) on the other. Without
this, a burst that makes k6 busy also takes CPU from the service, and k6's latencies then measure
the machine as much as the service. With 2 cores each side gets one; with N, the load side gets
the first half (rounded down) and the system under test the rest. On fewer than 4 CPUs this is
off unless asked for (`--pin`): one core per side measured slower than sharing two (see
MIN_CPUS_TO_PIN).

Children are pinned at start (`taskset -c LIST` in front of their command line); Postgres, which
runs before the experiment, is pinned by setting the affinity of every thread of its process tree
(new backends inherit the postmaster's), and given all CPUs back afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import psutil


@dataclass(frozen=True)
class CpuSets:
    """The CPU numbers of each side; both None when not pinned."""

    sut: tuple[int, ...] | None  # system under test: Postgres, latency proxy, service
    load: tuple[int, ...] | None  # load side: k6, UI server, recorder, the runner
    note: str  # why (not) pinned, for the report

    @property
    def pinned(self) -> bool:
        return self.sut is not None and self.load is not None

    def prefix(self, side: str) -> list[str]:
        """`taskset -c LIST` to put in front of a command of `side` ("sut" or "load")."""
        cpus = self.sut if side == "sut" else self.load
        return ["taskset", "-c", ",".join(map(str, cpus))] if self.pinned and cpus else []

    def to_dict(self) -> dict:
        return asdict(self)


# Below this many CPUs the lab does not pin unless asked (`--pin`): with 2, each side gets one
# core, and the service, the proxy and Postgres sharing one core answered reads about twice as
# slowly (Act III's burst read p95 inside the service 21.9-26.1 ms over three pinned repeats, run
# 20261128T063622Z, against 14.0 ms unpinned, run nopin-20261128T070627Z), while the whole machine
# stayed under 75% busy unpinned. Two cores per side leave each side room to schedule.
MIN_CPUS_TO_PIN = 4


def choose(mode: str, available: set[int] | None = None) -> CpuSets:
    """Split the CPUs this process may use into a load half and a system-under-test half.
    `mode`: "auto" (pin with MIN_CPUS_TO_PIN or more), "on" (pin with 2 or more), "off"."""
    cpus = sorted(available if available is not None else os.sched_getaffinity(0))
    if mode == "off":
        return CpuSets(None, None, "not pinned (--no-pin)")
    if len(cpus) < 2:
        return CpuSets(None, None, f"not pinned: only {len(cpus)} CPU available")
    if mode == "auto" and len(cpus) < MIN_CPUS_TO_PIN:
        return CpuSets(None, None, f"not pinned: with {len(cpus)} CPUs each side would get {len(cpus) // 2}, which "
                                   f"measured slower than sharing them (--pin to pin anyway)")
    half = len(cpus) // 2
    return CpuSets(sut=tuple(cpus[half:]), load=tuple(cpus[:half]),
                   note=f"system under test on CPU {_list(cpus[half:])}, load side on CPU {_list(cpus[:half])}")


def _list(cpus: list[int]) -> str:
    return ",".join(map(str, cpus))


def pin_self(sets: CpuSets) -> None:
    """Put the runner on the load side. `sched_setaffinity(0)` sets the calling thread only, so
    this runs before the runner starts any thread; threads and children started later inherit it."""
    if sets.pinned:
        os.sched_setaffinity(0, sets.load)


def set_tree_affinity(root: int, cpus: set[int] | tuple[int, ...]) -> tuple[int, int]:
    """Set the affinity of every thread of `root` and its descendants (an affinity is a thread's,
    not a process's). Returns (threads set, threads refused): a thread that exits meanwhile is
    neither; one we may not change is refused."""
    try:
        top = psutil.Process(root)
        processes = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    done = refused = 0
    for process in processes:
        try:
            threads = process.threads()
        except psutil.NoSuchProcess:
            continue  # exited meanwhile
        except psutil.AccessDenied:
            refused += 1
            continue
        for thread in threads:
            try:  # on Linux a thread id names the thread as a pid does its process
                psutil.Process(thread.id).cpu_affinity(sorted(cpus))
                done += 1
            except psutil.NoSuchProcess:
                pass  # exited meanwhile
            except (psutil.AccessDenied, OSError, ValueError):
                refused += 1
    return done, refused


def all_cpus() -> set[int]:
    """Every CPU of the machine (the kernel ignores the offline ones in an affinity mask)."""
    return set(range(os.cpu_count() or 1))


@contextmanager
def postgres_pinned(sets: CpuSets, postmaster: int | None) -> Iterator[str]:
    """Pin the lab's Postgres tree to the system-under-test set for the duration; yields what was
    done, for the report. Its tree is first given every CPU, whatever the mode, so a run killed
    before it could unpin (SIGKILL skips `finally`) does not leave the next run on a pinned Postgres.
    `postmaster` must be the lab's own cluster's (None for a server of DATABASE_URL: never touched)."""
    if postmaster is None:
        yield "not pinned (not the lab's own cluster)" if sets.pinned else "not pinned"
        return
    set_tree_affinity(postmaster, all_cpus())
    if not sets.pinned:
        yield "not pinned"
        return
    done, refused = set_tree_affinity(postmaster, sets.sut)
    try:
        if done == 0 or refused:
            yield f"not pinned: {refused} of its threads refused a new CPU set"
        else:
            yield f"with the system under test (postmaster {postmaster} and its backends on CPU {_list(list(sets.sut))})"
    finally:
        set_tree_affinity(postmaster, all_cpus())
