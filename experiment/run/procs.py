"""Starting and stopping child processes so that none outlives the runner.

Every child runs in its own session (process group), so stopping it also stops whatever it spawned
(npm -> node -> next). A `Processes` context stops all its children in reverse order on exit, on an
exception and on Ctrl-C; `install_signal_handlers()` turns SIGINT/SIGTERM/SIGHUP into KeyboardInterrupt so
the same clean-up runs. Every wait has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path


class StartError(RuntimeError):
    """A child did not come up; the message points to its log."""


def install_signal_handlers() -> None:
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then keeps it so.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def stop_group(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM the child's process group, wait up to `timeout`, then SIGKILL it."""
    if proc.poll() is not None:
        _kill_group(proc.pid, signal.SIGKILL)  # the leader exited; its children may not have
        return
    _kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    _kill_group(proc.pid, signal.SIGKILL)


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Child:
    """A running child process whose stdout+stderr go to a log file, line by line.

    `wait_for_line(regex)` waits until the child printed a matching line and returns the match.
    """

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: dict | None = None,
                 cwd: Path | None = None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._log = open(log_path, "w")  # noqa: SIM115 - the reader thread writes it until the process ends
        self._log.write("$ " + " ".join(self.argv) + "\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True, text=True, errors="replace", bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, name=f"{name}-log", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
            self._log.flush()
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self._lines[seen:]:
                    match = regex.search(line)
                    if match:
                        return match
                seen = len(self._lines)
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise StartError(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StartError(f"{self.name} printed no /{pattern}/ in {timeout:.0f}s; see {self.log_path}")
                self._cond.wait(min(left, 0.5))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        stop_group(self.proc, timeout)
        self._reader.join(timeout=2)
        self._log.close()


class Processes:
    """Owns children; stops them all (newest first) when the `with` block ends, however it ends."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.extra: list[subprocess.Popen] = []

    def start(self, name: str, argv: Sequence[str], log_path: Path, **kwargs) -> Child:
        child = Child(name, argv, log_path, **kwargs)
        self.children.append(child)
        return child

    def adopt(self, proc: subprocess.Popen) -> None:
        """Also stop a Popen started elsewhere (it must have start_new_session=True)."""
        self.extra.append(proc)

    def stop_all(self) -> None:
        for proc in reversed(self.extra):
            stop_group(proc)
        self.extra.clear()
        for child in reversed(self.children):
            child.stop()
        self.children.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2,
               alive: Callable[[], bool] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not ready yet
            pass
        if alive is not None and not alive():
            raise StartError(f"{what}: the process exited")
        time.sleep(interval)
    raise StartError(f"{what}: not ready after {timeout:.0f}s")


def http_ok(url: str, timeout: float = 2.0) -> bool:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return 200 <= response.status < 400


def run(argv: Sequence[str], timeout: float, log_path: Path | None = None, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run a short command to completion with a timeout, output appended to `log_path`."""
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env,
                            stdin=subprocess.DEVNULL)
    if log_path is not None:
        with open(log_path, "a") as log:
            log.write("$ " + " ".join(argv) + "\n" + result.stdout + result.stderr)
    if check and result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return result


def script_output(script: Path, *args: str) -> str:
    """The stdout of one of the lab's own scripts (scripts/prometheus.sh, scripts/netns.sh); fails
    if it fails."""
    return subprocess.run([str(script), *args], check=True, capture_output=True, text=True, timeout=60).stdout


def script_pids(script: Path) -> dict[str, int]:
    """`SCRIPT pids`: the processes a lab script keeps running, one "NAME PID" line each."""
    return {name: int(pid) for name, pid in (line.split() for line in script_output(script, "pids").splitlines())}
