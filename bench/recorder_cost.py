"""One run of a UI recorder, and the CPU its process tree (node and its Chromium) used.

    python bench/recorder_cost.py LABEL WARMUP_S MEASURE_S -- node .../record-ui.mjs ... --seconds S

Starts the command in a process group of its own, lets it settle for WARMUP_S (Chromium starting,
the login), samples its tree for MEASURE_S with the runner's own sampler (experiment.cpu.CpuSampler,
the figure the report's "recorder" column shows), then follows it until it exits by itself (S is
WARMUP_S + MEASURE_S: the recording ends with the window; a recorder that is still there after
STOP_TIMEOUT_S more is killed). Prints one line: the label, the tree's mean cores in the window and
where they went (node; Chromium's browser, GPU, renderer and utility processes), the CPU seconds
and wall time from the window's end to the exit (the new recorder draws its dashboard frames
then), and what the rest of the machine used in the window (the UI server, the service, the light
load, and whatever else runs: on a shared machine, other people's work). Run by
bench/recorder-cost.sh with PYTHONPATH at the repository root.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from experiment.cpu import CpuSampler, process_title

# Chromium's process kinds, by the --type its children are started with; the browser has none.
KINDS = ("renderer", "gpu-process", "utility", "zygote")
GROUPS = ("tree", "node", "browser", *KINDS, "machine")
STOP_TIMEOUT_S = 120


def kind_of(process: psutil.Process) -> str:
    title = process_title(process)
    for kind in KINDS:
        if f"--type={kind}" in title:
            return kind
    return "browser" if "chrom" in process.name() else "node"


def sampler(path: Path, pid: int) -> CpuSampler:
    cpu = CpuSampler(path, interval=0.25)
    cpu.track("tree", pid, tree=True)
    # Each kind's group is the node root plus the processes of that kind (the sampler always keeps
    # the root): node's own share is subtracted in `window`.
    cpu.track("node", pid)
    for kind in ("browser", *KINDS):
        cpu.track(kind, pid, tree=True, keep=lambda p, k=kind: kind_of(p) == k)
    return cpu


def window(first: dict, last: dict) -> dict[str, float]:
    """Mean cores of each group between two samples."""
    elapsed = last["t"] - first["t"]
    cores = {name: (last["cpu_s"][name] - first["cpu_s"][name]) / elapsed
             for name in GROUPS if name in first["cpu_s"] and name in last["cpu_s"]}
    for kind in ("browser", *KINDS):
        if kind in cores:
            cores[kind] -= cores["node"]
    return cores


def measure(label: str, command: list[str], warmup_s: float,
            measure_s: float) -> tuple[dict[str, float], float, float]:
    """The window's mean cores per group; then CPU seconds and wall seconds from its end to the exit."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cpu.jsonl"
        try:
            time.sleep(warmup_s)
            cpu = sampler(path, child.pid).start()
            time.sleep(measure_s)
            stop = time.time()
            try:
                child.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print(f"{label}: still running {STOP_TIMEOUT_S} s after its time; killed", file=sys.stderr)
            ended = time.time()
            cpu.stop()
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        samples = [json.loads(line) for line in path.read_text().splitlines()]
    with_tree = [s for s in samples if "tree" in s["cpu_s"]]
    in_window = [s for s in with_tree if s["t"] <= stop]
    after_s = with_tree[-1]["cpu_s"]["tree"] - in_window[-1]["cpu_s"]["tree"]
    return window(in_window[0], in_window[-1]), after_s, ended - stop


def main() -> None:
    label, warmup_s, measure_s, dashes, *command = sys.argv[1:]
    if dashes != "--" or not command:
        sys.exit(__doc__)
    cores, after_s, after_wall = measure(label, command, float(warmup_s), float(measure_s))
    parts = "  ".join(f"{k.removesuffix('-process')} {cores.get(k, 0):.3f}"
                      for k in ("node", "browser", "gpu-process", "renderer", "utility"))
    others = cores["machine"] - cores["tree"]
    print(f"{label:<6} {cores['tree']:.3f} cores  ({parts})   then {after_s:.1f} CPU s in {after_wall:.1f} s to exit;"
          f"  the rest of the machine meanwhile: {others:.2f} cores", flush=True)


if __name__ == "__main__":
    main()
