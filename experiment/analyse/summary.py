"""The run's summary (summary.json) from its analysed runs: each arm's median over its repeats,
the spread of the headline numbers, the verdicts, the contaminated runs.

Only computation: the documents are written from it by templates (render.py, templates/).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..model import fmt
from ..model.profiles import ARMS_BY_KEY, LabParams, Profile, Rates
from ..model.results import ArmSummary, Calibration, CpuPlan, CpuSetsRecord, Headline, HostsRecord, Machine, Summary, UsableCpu
from . import stats, verdict
from .analysis import RunResult

T = TypeVar("T")


@dataclass(frozen=True)
class SpreadNumber:
    """A headline number whose spread across repeats the report shows."""

    name: str  # its name in summary.json's `spread` and in the report's table
    of: Callable[[Headline], float | None]
    unit: Callable[[float | None], str]  # how the report writes it (fmt)


SPREAD: tuple[SpreadNumber, ...] = (
    SpreadNumber("read.burst_p95_ms", lambda h: h.read.burst_p95_ms, fmt.ms),
    SpreadNumber("read.server_burst_p95_ms", lambda h: h.read.server_burst_p95_ms, fmt.ms),
    SpreadNumber("read.client_server_ratio", lambda h: h.read.client_server_ratio, fmt.ratio),
    SpreadNumber("read.p95_ms", lambda h: h.read.p95_ms, fmt.ms),
    SpreadNumber("read.max_1s_p95_ms", lambda h: h.read.max_1s_p95_ms, fmt.ms),
    SpreadNumber("read.error_rate", lambda h: h.read.error_rate, fmt.pct),
    SpreadNumber("write.burst_p95_ms", lambda h: h.write.burst_p95_ms, fmt.ms),
    SpreadNumber("write.p95_ms", lambda h: h.write.p95_ms, fmt.ms),
    SpreadNumber("write.error_rate", lambda h: h.write.error_rate, fmt.pct),
    SpreadNumber("cpu.service.peak_cores", lambda h: h.cpu.service.peak_cores, fmt.cores),
    SpreadNumber("cpu.postgres.peak_cores", lambda h: h.cpu.postgres.peak_cores, fmt.cores),
    SpreadNumber("pool.max_waiters", lambda h: h.pool.max_waiters, fmt.whole),
    SpreadNumber("pool.acquire_timeouts", lambda h: h.pool.acquire_timeouts, fmt.whole),
    SpreadNumber("tasks.peak", lambda h: h.tasks.peak, fmt.whole),
    SpreadNumber("in_flight.peak", lambda h: h.in_flight.peak, fmt.whole),
)


def median(values: list[T]) -> T:
    """The element-wise median of same-typed results (the repeats of one arm): every number is
    the median of that number over the values that have it; anything else (text, lists, flags)
    is the first value's. Dicts (by endpoint, pool...) are taken key by key over every key any
    value has; a part missing (None) in the first value stays missing."""
    first = values[0]
    if dataclasses.is_dataclass(first):
        alike = [v for v in values if dataclasses.is_dataclass(v)]
        return dataclasses.replace(first, **{f.name: median([getattr(v, f.name) for v in alike])
                                             for f in dataclasses.fields(first) if f.init})
    if isinstance(first, dict):
        dicts = [v for v in values if isinstance(v, dict)]
        keys = list(dict.fromkeys(k for d in dicts for k in d))
        return {k: median([d.get(k) for d in dicts]) for k in keys}  # type: ignore[return-value]
    present = [v for v in values if v is not None]
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and len(numbers) == len(present):
        return statistics.median(numbers)  # type: ignore[return-value]
    return first


def arm_summary(key: str, runs: list[RunResult]) -> ArmSummary:
    """One arm: the median of every number over its repeats, the spread of SPREAD, every repeat."""
    arm = ARMS_BY_KEY[key]
    headlines = [r.headline for r in runs]
    middle = median(headlines)
    return ArmSummary(
        act=arm.act, label=arm.label, story=arm.story, pool_mode=arm.pool_mode, pool_size=arm.pool_size,
        pools=middle.pool.sizes, median=middle,
        spread={n.name: stats.spread(n.of(h) for h in headlines) for n in SPREAD},
        repeats=headlines, run_dirs=[str(r.run_dir) for r in runs],
    )


def build(run_id: str, profile: Profile, lab: LabParams, load_script: str, repeats: int,
          results: dict[str, list[RunResult]], machine: Machine, versions: dict, notes: list[str],
          rates: Rates, calibration: Calibration | None, cpu_sets: CpuSetsRecord | None,
          hosts: HostsRecord | None = None, usable_cpu: UsableCpu | None = None,
          cpu_plan: CpuPlan | None = None) -> Summary:
    usable = usable_cpu.usable if usable_cpu else float(machine.cores or 1)
    per_repeat = []
    for i in range(repeats):
        arm_headlines = {key: runs[i].headline for key, runs in results.items() if i < len(runs)}
        per_repeat.append(verdict.judge(arm_headlines, usable))
    return Summary(
        run_id=run_id, profile=profile, rates=rates, calibration=calibration, cpu_sets=cpu_sets, lab=lab,
        load_script=load_script, repeats=repeats, machine=machine, versions=versions,
        arms={key: arm_summary(key, runs) for key, runs in results.items()},
        verdicts=verdict.combine(per_repeat), contaminated=contaminated(results), notes=notes, hosts=hosts,
        usable_cpu=usable_cpu, cpu_plan=cpu_plan,
    )


def contaminated(results: dict[str, list[RunResult]]) -> list[str]:
    """The runs whose client-side read p95 is too far from the service's own to be trusted."""
    limit = verdict.CLIENT_SERVER_MAX_RATIO
    found = []
    for key, runs in results.items():
        for run in runs:
            read = run.headline.read
            ratio = read.client_server_ratio
            if ratio is None:
                found.append(f"{key} rep {run.repeat}: unchecked, the service's own read p95 is missing")
            elif not 1 / limit <= ratio <= limit:
                found.append(f"{key} rep {run.repeat}: k6's burst read p95 {fmt.ms(read.burst_p95_ms)} is "
                             f"{ratio:.1f}x the service's own {fmt.ms(read.server_burst_p95_ms)}")
    return found
