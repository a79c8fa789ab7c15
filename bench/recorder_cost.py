"""One run of a UI recorder, and the CPU its process tree (node and its Chromium) used.

    python bench/recorder_cost.py LABEL WARMUP_S MEASURE_S -- node .../record-ui.mjs ... --seconds S

Starts the command, lets it settle for WARMUP_S (Chromium starting, the login), then samples its
tree for MEASURE_S with the runner's own sampler (experiment.cpu.CpuSampler, the figure the
report's "recorder" column shows), and waits for it to exit (S should end a little after the
window; it is stopped after 30 s more). Prints one line: the label, the tree's mean cores and
where they went (node; Chromium's browser, GPU, renderer and utility processes). Run by
bench/recorder-cost.sh with PYTHONPATH at the repository root.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from experiment.cpu import CpuSampler, process_title

# Chromium's process kinds, by the --type its children are started with; the browser has none.
KINDS = ("renderer", "gpu-process", "utility", "zygote")


def kind_of(process: psutil.Process) -> str:
    title = process_title(process)
    for kind in KINDS:
        if f"--type={kind}" in title:
            return kind
    return "browser" if "chrom" in process.name() else "node"


def measure(command: list[str], warmup_s: float, measure_s: float) -> dict[str, float]:
    """Mean cores over the window: "tree" for everything, and per kind of process."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        time.sleep(warmup_s)
        with tempfile.TemporaryDirectory() as tmp:
            sampler = CpuSampler(Path(tmp) / "cpu.jsonl")
            sampler.track("tree", child.pid, tree=True)
            # Each group is the node root plus the processes of one kind (the sampler always keeps
            # the root): node's own share is subtracted below.
            sampler.track("node", child.pid)
            for kind in ("browser", *KINDS):
                sampler.track(kind, child.pid, tree=True, keep=lambda p, k=kind: kind_of(p) == k)
            sampler.start()
            time.sleep(measure_s)
            sampler.stop()
            samples = [json.loads(line) for line in (Path(tmp) / "cpu.jsonl").read_text().splitlines()]
        first, last = samples[0], samples[-1]
        elapsed = last["t"] - first["t"]
        cores = {name: (last["cpu_s"][name] - first["cpu_s"][name]) / elapsed
                 for name in ("tree", "node", "browser", *KINDS) if name in first["cpu_s"] and name in last["cpu_s"]}
        for kind in ("browser", *KINDS):
            if kind in cores:
                cores[kind] -= cores["node"]
        return cores
    finally:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for process in psutil.Process(child.pid).children(recursive=True):
                process.kill()
            child.kill()


def main() -> None:
    label, warmup_s, measure_s, dashes, *command = sys.argv[1:]
    if dashes != "--" or not command:
        sys.exit(__doc__)
    cores = measure(command, float(warmup_s), float(measure_s))
    parts = "  ".join(f"{k.removesuffix('-process')} {cores.get(k, 0):.3f}"
                      for k in ("node", "browser", "gpu-process", "renderer", "utility"))
    print(f"{label:<8} {cores['tree']:.3f} cores   ({parts})", flush=True)


if __name__ == "__main__":
    main()
