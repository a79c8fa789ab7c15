"""What the experiment ran on: the machine and the versions of every piece, for the report."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil


def _first_line(argv: list[str], timeout: float = 20) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0].strip() if result.returncode == 0 and text else None


def machine() -> dict:
    """Cores, memory and CPU model of this machine."""
    return {
        "cores": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "os": _os_name(),
    }


def _cpu_model() -> str | None:
    """The first CPU's model name: psutil does not report it, Linux's /proc/cpuinfo does."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _os_name() -> str | None:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:
        return None


def versions(root: Path, k6: str, psql: Sequence[str], admin_url: str) -> dict:
    """Versions of everything that shapes the numbers, and the git commit of the lab."""
    commit = _first_line(["git", "-C", str(root), "rev-parse", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip() if commit else ""
    import matplotlib  # imported here: only the report needs it

    return {
        "git_commit": commit,
        "git_dirty": bool(dirty),
        "rustc": _first_line(["rustc", "--version"]),
        "k6": _first_line([k6, "version"]),
        "postgres": _first_line([*psql, admin_url, "-tAc", "SHOW server_version"]),
        "python": platform.python_version(),
        "matplotlib": matplotlib.__version__,
        "node": _first_line(["node", "--version"]),
    }
