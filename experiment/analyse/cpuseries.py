"""Reading cpu.jsonl, the CPU samples a run keeps (written by cpu.CpuSampler every second): the
cores each group used between samples, and on average over a window.

Apart from the sampler so the analysis reads the file without importing what samples processes.
"""

from __future__ import annotations

import json
from pathlib import Path

# The lab's Prometheus and its Postgres exporters (exporter-sut: beside the netns host's Postgres):
# what watching a run costs, summed as "monitoring" by the analysis and the CPU budget.
MONITORING_GROUPS = ("prometheus", "exporter", "exporter-sut")


def usage_series(samples: list[dict], name: str) -> list[tuple[float, float]]:
    """(t, cores used) between consecutive samples of `name`: delta CPU seconds / delta wall time.
    A drop (a restarted process) is skipped."""
    series = []
    prev = None
    for sample in samples:
        value = sample["cpu_s"].get(name)
        if value is None:
            prev = None
            continue
        if prev is not None:
            dt = sample["t"] - prev[0]
            dv = value - prev[1]
            if dt > 0 and dv >= 0:
                series.append((sample["t"], dv / dt))
        prev = (sample["t"], value)
    return series


def mean_cores(samples: list[dict], names: list[str] | tuple[str, ...], start: float, end: float) -> float | None:
    """The cores the named groups used together, on average between unix times `start` and `end`
    (over the samples taken in between); None when none of them was sampled there."""
    total, seen = 0.0, False
    for name in names:
        points = [cores for t, cores in usage_series(samples, name) if start < t <= end]
        if points:
            total += sum(points) / len(points)
            seen = True
    return total if seen else None


def load_samples(path: Path) -> list[dict]:
    """The samples of a cpu.jsonl (CpuSampler), in order; a torn last line is left out."""
    samples = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            samples.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return samples
