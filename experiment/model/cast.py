"""The asciinema v2 cast format: what k6run.py records k6's terminal in, and termrender.py draws.

A cast is a JSON header line (version, terminal size, start time, title), then one
`[seconds, "o", text]` line per chunk of output.
"""

from __future__ import annotations

import json
import time
from pathlib import Path


class CastWriter:
    """Writes an asciinema v2 cast, one event per write() call."""

    def __init__(self, path: Path, width: int, height: int, title: str):
        self._out = open(path, "w")  # noqa: SIM115 - kept open across write() calls, closed by close()
        self._start = time.monotonic()
        header = {
            "version": 2, "width": width, "height": height, "timestamp": int(time.time()),
            "title": title, "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
        }
        self._out.write(json.dumps(header) + "\n")

    def write(self, text: str) -> None:
        if text:
            self._out.write(json.dumps([round(time.monotonic() - self._start, 6), "o", text]) + "\n")

    def close(self) -> None:
        self._out.close()


def read_cast(path: Path) -> tuple[dict, list[tuple[float, str]]]:
    """The header and the output events of a cast."""
    with open(path) as handle:
        header = json.loads(handle.readline())
        events = []
        for line in handle:
            if line.strip():
                t, kind, text = json.loads(line)
                if kind == "o":
                    events.append((float(t), text))
    return header, events
