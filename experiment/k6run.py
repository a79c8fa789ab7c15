"""Runs k6 under a pseudo-terminal and records its screen as an asciinema v2 cast (cast.py).

Under a terminal k6 draws its live progress bars, which is the "k6 running" clip for the post.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import os
import pty
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import procs
from .cast import CastWriter

COLUMNS, ROWS = 110, 32


def run_k6(argv: Sequence[str], env: dict, cast_path: Path, log_path: Path, title: str,
           timeout: float, on_tick: Callable[[subprocess.Popen], None] | None = None,
           on_start: Callable[[subprocess.Popen], None] | None = None) -> int:
    """Run k6 to completion (or until `timeout`) under a pty; returns its exit code.

    `on_start(proc)` is called once k6 runs (to track its CPU), `on_tick(proc)` about once a second
    (to print progress). The terminal output goes to the cast and, without escapes, to `log_path`.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    cast = CastWriter(cast_path, COLUMNS, ROWS, title)
    shown = [os.path.basename(argv[0])] + [_shorten(a) for a in argv[1:]]
    cast.write("$ " + " ".join(shown) + "\r\n")
    log = open(log_path, "w")  # noqa: SIM115 - written by the pump thread, closed in finally
    proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)

    def pump() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            text = decoder.decode(chunk)
            cast.write(text)
            log.write(text)
            log.flush()

    reader = threading.Thread(target=pump, name="k6-pty", daemon=True)
    reader.start()
    try:
        if on_start:
            on_start(proc)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if time.monotonic() > deadline:
                log.write(f"\n[experiment] k6 still running after {timeout:.0f}s: stopped\n")
                break
            if on_tick:
                on_tick(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
    finally:
        procs.stop_group(proc, timeout=10)
        reader.join(timeout=5)
        os.close(master)
        cast.close()
        log.close()
    return proc.returncode if proc.returncode is not None else -1


def _shorten(arg: str) -> str:
    """Paths in the clip's command line are shown relative to the repo when they are inside it."""
    cwd = os.getcwd() + os.sep
    return arg[len(cwd):] if arg.startswith(cwd) else arg
