"""Runs the k6 processes of one run, each under a pseudo-terminal recorded as an asciinema v2 cast
(cast.py), started paused and let go together.

Under a terminal k6 draws its live progress bars, which is the "k6 running" clip for the post.
`k6cmd.dashboard_env` has a process export k6's own HTML report too (its web dashboard, no web server).

Several processes split one load with k6's execution segments (`--execution-segment`, the way
k6-operator splits a TestRun over its pods): each runs its share of every scenario's rate. They
would start their timelines whenever each finished initialising its VUs; so, like k6-operator's
starter, each starts with `--paused` and its REST API on, the runner waits until every one has
initialised, then un-pauses them one right after the other (`PATCH /v1/status`, k6's REST API).
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import json
import os
import pty
import struct
import subprocess
import termios
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..model.cast import CastWriter
from . import procs

COLUMNS, ROWS = 110, 32
READY_TIMEOUT_S = 120  # initialising a process's VUs (hundreds of them in the bursts) takes seconds


@dataclass(frozen=True)
class K6Launch:
    """One k6 process to run: its command line (with `--paused --address API`), environment,
    where its terminal goes, and the address of its REST API."""

    argv: Sequence[str]
    env: dict
    cast_path: Path
    log_path: Path
    title: str
    api: str  # host:port of its REST API (`--address`)


@dataclass(frozen=True)
class K6Outcome:
    """How one process ended: its exit code (-1: still running when stopped) and when the runner
    un-paused it (unix s; None: it never got that far)."""

    exit_code: int
    resumed: float | None


def worst_exit_code(codes: list[int | None]) -> int | None:
    """The exit code that speaks for all of a run's k6 processes: the first that is neither 0
    nor 99 (a failed process; None, one still running when stopped, counts as failed), else 99
    when any process's thresholds failed (which is data, not a failure), else 0; None for none."""
    for code in codes:
        if code not in (0, 99):
            return code
    return 99 if 99 in codes else 0 if codes else None


def run_k6(launches: Sequence[K6Launch], timeout: float, on_tick: Callable[[], None] | None = None,
           on_start: Callable[[int, subprocess.Popen], None] | None = None) -> list[K6Outcome]:
    """Run every launch to completion (or until `timeout` s after they were let go), paused until
    all of them are ready; returns their outcomes in order.

    `on_start(i, proc)` is called as process i starts (to track its CPU), `on_tick()` about once a
    second (to print progress). Each terminal goes to its cast and, without escapes, to its log.
    """
    terminals: list[_Terminal] = []
    resumed: dict[int, float] = {}
    try:
        for i, launch in enumerate(launches):
            terminals.append(_Terminal(launch))
            if on_start:
                on_start(i, terminals[-1].proc)
        deadline = time.monotonic() + READY_TIMEOUT_S
        for terminal in terminals:
            _wait_paused(terminal, deadline)
        # Let every process go at once: one thread per PATCH, so none waits for another's answer.
        with ThreadPoolExecutor(max_workers=len(terminals)) as pool:
            for i, at in enumerate(pool.map(lambda t: _resume(t.launch.api), terminals)):
                resumed[i] = at
        deadline = time.monotonic() + timeout
        while any(t.proc.poll() is None for t in terminals):
            if time.monotonic() > deadline:
                for t in terminals:
                    t.note(f"\n[experiment] k6 still running after {timeout:.0f}s: stopped\n")
                break
            if on_tick:
                on_tick()
            with contextlib.suppress(subprocess.TimeoutExpired):
                next(t for t in terminals if t.proc.poll() is None).proc.wait(timeout=1.0)
    except procs.StartError as error:
        for t in terminals:
            t.note(f"\n[experiment] {error}: stopped\n")
    finally:
        for terminal in terminals:
            terminal.close()
    return [K6Outcome(t.proc.returncode if t.proc.returncode is not None else -1, resumed.get(i))
            for i, t in enumerate(terminals)]


def _status(api: str) -> dict:
    with urllib.request.urlopen(f"http://{api}/v1/status", timeout=2) as response:
        return json.load(response)["data"]["attributes"]


def _wait_paused(terminal: _Terminal, deadline: float) -> None:
    """Wait until the process has initialised its VUs and waits, paused, to be let go."""
    def ready() -> bool:
        status = _status(terminal.launch.api)
        return bool(status.get("paused")) and status.get("vus-max", 0) > 0
    procs.wait_until(ready, max(0.0, deadline - time.monotonic()), f"k6 ({terminal.launch.title})",
                     interval=0.1, alive=lambda: terminal.proc.poll() is None)


def _resume(api: str) -> float:
    """Un-pause the process at `api`; returns when it was told (unix s)."""
    body = json.dumps({"data": {"type": "status", "id": "default", "attributes": {"paused": False}}}).encode()
    request = urllib.request.Request(f"http://{api}/v1/status", data=body, method="PATCH",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
        return time.time()


class _Terminal:
    """One k6 process under a pty, its screen pumped into its cast and log by a thread."""

    def __init__(self, launch: K6Launch):
        self.launch = launch
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.master = master
        self.cast = CastWriter(launch.cast_path, COLUMNS, ROWS, launch.title)
        shown = [os.path.basename(launch.argv[0])] + [_shorten(a) for a in launch.argv[1:]]
        self.cast.write("$ " + " ".join(shown) + "\r\n")
        self.log = open(launch.log_path, "w")  # noqa: SIM115 - written by the pump thread, closed in close()
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(list(launch.argv), stdin=slave, stdout=slave, stderr=slave, env=launch.env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.reader = threading.Thread(target=self._pump, name="k6-pty", daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            text = decoder.decode(chunk)
            with self._lock:
                self.cast.write(text)
                self.log.write(text)
                self.log.flush()

    def note(self, text: str) -> None:
        with self._lock:
            self.log.write(text)

    def close(self) -> None:
        procs.stop_group(self.proc, timeout=10)
        self.reader.join(timeout=5)
        os.close(self.master)
        self.cast.close()
        self.log.close()


def _shorten(arg: str) -> str:
    """Paths in the clip's command line are shown relative to the repo when they are inside it."""
    cwd = os.getcwd() + os.sep
    return arg[len(cwd):] if arg.startswith(cwd) else arg
