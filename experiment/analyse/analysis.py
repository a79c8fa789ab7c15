"""Turns one run's raw files into numbers (the headline) and time series (for the charts).

It only computes: the CLI writes what it returns (analysis.json, client-per-second.csv).

Time is in seconds since the k6 scenario started (the first request of any of its processes), so
the burst windows of the profile line up with the data. Client-side numbers come from k6's
per-request samples, every process's merged (exact percentiles over all of them); pool, task,
database and server-side numbers from the answers of the run's PromQL queries (promql.py), kept in
its folder; CPU from the /proc samples.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..model.profiles import Profile
from ..model.results import (
    Backends,
    CpuNumbers,
    CpuSetsRecord,
    CpuUse,
    EndpointNumbers,
    Gauge,
    Headline,
    K6Summary,
    Latency,
    LittlesLaw,
    LoadProcessNumbers,
    PoolNumbers,
    ReadNumbers,
    RequestStats,
    RunRecord,
    StoredQueries,
    WriteNumbers,
    k6_processes_of,
)
from ..model.shape import ENDPOINTS, LIST, WRITES
from . import cpuseries, promql, stats

# A second needs at least this many requests for its p95 to be drawn or count as a spike.
MIN_REQUESTS_PER_SECOND = 3
# The last commit whose analysis reads the runner's own scrapes (metrics.jsonl): runs recorded
# before the runner read PromQL can only be analysed again there.
LAST_METRICS_JSONL_COMMIT = "1ad1a0b"
BACKEND_PREFIX = "todo-service/"  # the service's pools name their connections todo-service/<pool>
CPU_GROUPS = ("service", "postgres", "k6", "proxy", "ui", "recorder", "machine")
# The lab's Prometheus and its Postgres exporter (runs since Prometheus joined the loop): summed
# as "monitoring", so the report can show what watching the run cost.
MONITORING = cpuseries.MONITORING_GROUPS
# The two roles (hosts.py) by the processes that make them: what each host used ("k6" is all of
# its processes). The monitoring is apart: it watches both.
ROLES = {"system_under_test": ("service", "postgres", "proxy"), "load_side": ("k6", "ui", "recorder")}
# What the experiment runs; "machine" minus these is everybody else.
OURS = (*CPU_GROUPS[:-1], "monitoring")
# Sampled since the lab knows its usable CPU (cpulimit.py, cpu.CpuSampler): "lab", what counts
# against the usable CPU, and "throttled", the seconds per second a CPU quota held the lab back.
# Absent in runs from before.
BUDGET_GROUPS = ("lab", "throttled")


@dataclass
class RunSeries:
    """Time series of one run, for the charts (t in seconds since the scenario start)."""

    client_p95: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # endpoint -> (t, p95 ms)
    client_errors: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # endpoint -> (t, errors)
    server_p95: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # per second
    pool_in_use: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # pool -> (t, n)
    pool_waiters: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    pool_max: dict[str, float] = field(default_factory=dict)
    tasks: list[tuple[float, float]] = field(default_factory=list)
    in_flight: list[tuple[float, float]] = field(default_factory=list)  # http_requests_in_flight, all endpoints
    server_rps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    backends: dict[str, dict[str, list[tuple[float, float]]]] = field(default_factory=dict)  # pool -> state -> (t, n)
    cpu: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # group -> (t, cores)


@dataclass
class RunResult:
    """One analysed run: its numbers, its time series, and its per-second client numbers (the
    CLI writes them to the run's client-per-second.csv)."""

    arm: str
    repeat: int
    run_dir: Path
    headline: Headline
    series: RunSeries
    per_second: dict[str, dict[int, stats.Second]] = field(default_factory=dict)  # endpoint -> second -> numbers


class OldResults(ValueError):
    """A run folder from before the runner read PromQL: it has no stored answers to analyse."""


def analyze_run(run_dir: Path, profile: Profile, arm: str, repeat: int) -> RunResult:
    """Read one run's raw files and compute its headline and time series; writes nothing."""
    record = RunRecord.load(run_dir / "run.json") if (run_dir / "run.json").exists() else None
    processes = k6_processes_of(record)
    stored = stored_queries(run_dir)
    load = stats.load_run_requests(run_dir, processes)
    requests = load.all
    t0 = load.start() or (record.k6_started if record else 0.0)
    duration = profile.duration_s()
    windows = profile.burst_windows()
    series = RunSeries()
    first_burst = windows[0][0] if windows else duration
    burst_seconds = sum(end - start for start, end in windows)

    # Client side, from k6's samples.
    grouped = stats.by_endpoint(requests)
    client: dict[str, tuple[RequestStats, Latency, Latency, float | None]] = {}
    per_second: dict[str, dict[int, stats.Second]] = {}
    for endpoint in ENDPOINTS:
        reqs = grouped.get(endpoint, [])
        burst = [r for r in reqs if stats.in_windows(r.t - t0, windows)]
        baseline = [r for r in reqs if r.t - t0 < first_burst]  # before the first burst: the calm
        seconds = stats.per_second(reqs, t0, 95)
        busy = {s: v for s, v in seconds.items() if v.count >= MIN_REQUESTS_PER_SECOND}
        worst_second = max((v.p_ms for v in busy.values()), default=None)
        client[endpoint] = (stats.summarize(reqs, duration), stats.summarize(burst, burst_seconds).latency(),
                            stats.summarize(baseline, first_burst).latency(), worst_second)
        per_second[endpoint] = seconds
        series.client_p95[endpoint] = [(s + 0.5, v.p_ms) for s, v in busy.items()]
        series.client_errors[endpoint] = [(s + 0.5, v.errors) for s, v in seconds.items()]

    writes = [r for e in WRITES for r in grouped.get(e, [])]
    write_burst = [r for r in writes if stats.in_windows(r.t - t0, windows)]

    # Server side and the database, from the stored PromQL answers.
    server = _Server(stored, t0)
    pool = server.pools(series)
    tasks = server.gauge("tasks", windows, duration, series.tasks)
    in_flight = server.gauge("in_flight", windows, duration, series.in_flight)
    p95_load = server.p95_ms("server_p95_s_load")
    p95_bursts = server.p95_ms("server_p95_s_bursts")
    # Rates are drawn at the middle of the seconds they cover (promql.RATE_MIDDLE_S).
    series.server_p95 = {e: [(t, v * 1000) for t, v in points]
                         for e, points in server.by("server_p95_s", "endpoint", promql.RATE_MIDDLE_S).items()}
    series.server_rps = server.by("server_rps", "endpoint", promql.RATE_MIDDLE_S)
    database = server.backends(windows, duration, series)
    endpoints = {
        endpoint: EndpointNumbers(**_fields(whole), burst=burst, baseline=baseline, max_1s_p95_ms=worst_second,
                                  server_p95_ms=p95_load.get(endpoint), server_burst_p95_ms=p95_bursts.get(endpoint))
        for endpoint, (whole, burst, baseline, worst_second) in client.items()
    }

    summaries = {p.index: _k6_summary(run_dir / p.summary) for p in processes}
    k6_summary = _summed_summaries(list(summaries.values()))
    cpu, process_cpu = _cpu(run_dir, t0, duration, windows, record.cpu_sets if record else None,
                            [p.cpu_group for p in processes], series)
    firsts = [first for first in (load.first(p.index) for p in processes) if first is not None]
    read = endpoints[LIST]
    headline = Headline(
        requests=len(requests),
        endpoints=endpoints,
        read=ReadNumbers(
            count=read.count, errors=read.errors, error_rate=read.error_rate,
            p50_ms=read.p50_ms, p95_ms=read.p95_ms, p99_ms=read.p99_ms,
            burst_p95_ms=read.burst.p95_ms, baseline_p95_ms=read.baseline.p95_ms,
            burst_error_rate=read.burst.error_rate, max_1s_p95_ms=read.max_1s_p95_ms,
            server_p95_ms=read.server_p95_ms, server_burst_p95_ms=read.server_burst_p95_ms,
            client_server_ratio=_ratio(read.burst.p95_ms, read.server_burst_p95_ms),
        ),
        write=WriteNumbers(**_fields(stats.summarize(writes, duration).latency()),
                           burst_p95_ms=stats.percentile((r.duration_ms for r in write_burst), 95)),
        pool=pool,
        tasks=tasks,
        in_flight=in_flight,
        cpu=cpu,
        k6_exit_code=record.k6_exit_code if record else None,  # the worst of its processes' (runner.py)
        k6_summary=k6_summary,
        dropped_iterations=_sum_present(_dropped(s) for s in summaries.values()),
        warm_up=record.warm_up if record else None,
        rates=record.rates if record else None,
        cpu_sets=record.cpu_sets if record else None,
        notes=list(record.notes) if record else [],
        recording=record.recording if record else None,
        little=server.littles_law(burst_seconds),
        database=database,
        load_processes={str(p.index): LoadProcessNumbers(
            index=p.index, segment=p.segment, requests=len(load.by_process[p.index]),
            dropped_iterations=_dropped(summaries[p.index]), exit_code=p.exit_code,
            first_request_offset_ms=_after_ms(load.first(p.index), t0), cpu=process_cpu[p.cpu_group],
            html_report=p.html_report if p.html_report and (run_dir / p.html_report).exists() else None)
            for p in processes},
        load_start_spread_ms=(max(firsts) - min(firsts)) * 1000 if firsts else None,
        network=record.network if record else None,
    )
    return RunResult(arm=arm, repeat=repeat, run_dir=run_dir, headline=headline, series=series, per_second=per_second)


def _fields(value) -> dict:
    """A dataclass's fields by name, to extend it into a bigger result."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _cpu(run_dir: Path, t0: float, duration: float, windows: list[tuple[float, float]],
         sets: CpuSetsRecord | None, k6_groups: list[str], series: RunSeries) -> tuple[CpuNumbers, dict[str, CpuUse]]:
    """CPU of every group and of everything else on the machine, from the /proc samples; "k6" is
    all of k6 (its processes' groups, `k6_groups`, added), and each of those groups on its own."""
    samples = cpuseries.load_samples(run_dir / "cpu.jsonl")

    def summed(names: Iterable[str]) -> list[tuple[float, float]]:
        """Cores used by the named groups (or CPUs) together, per sample, over the run."""
        by_t: dict[float, float] = {}
        for name in names:
            for t, cores in cpuseries.usage_series(samples, name):
                if 0 <= t - t0 <= duration + 1:
                    by_t[t - t0] = by_t.get(t - t0, 0.0) + cores
        return sorted(by_t.items())

    groups = {}
    for group in CPU_GROUPS:
        series.cpu[group] = summed(k6_groups if group == "k6" else [group])
        groups[group] = _mean_peak(series.cpu[group], windows)
    for group in (*BUDGET_GROUPS, "monitoring"):
        points = summed(MONITORING if group == "monitoring" else [group])
        if points:
            series.cpu[group] = points
            groups[group] = _mean_peak(points, windows)
    # Everything else on the machine (other people's work on a shared machine), per sample.
    by_time: dict[float, float] = {}
    for group in OURS:
        for t, cores in series.cpu.get(group, []):
            by_time[t] = by_time.get(t, 0.0) + cores
    series.cpu["others"] = [(t, max(0.0, cores - by_time.get(t, 0.0))) for t, cores in series.cpu.get("machine", [])]
    # Each side's CPUs when the run was pinned (cpusets.py): the sum of its cores' usage.
    sides = {}
    for side, cpus in (("sut", sets.sut if sets else None), ("load", sets.load if sets else None)):
        if not cpus:
            continue
        series.cpu[f"{side}_side"] = summed(f"cpu{n}" for n in cpus)
        sides[f"{side}_side"] = dataclasses.replace(_mean_peak(series.cpu[f"{side}_side"], windows), cpus=len(cpus))
    roles = {role: _mean_peak(summed(g for member in members for g in (k6_groups if member == "k6" else [member])),
                              windows)
             for role, members in ROLES.items()}
    each_k6 = {name: _mean_peak(summed([name]), windows) for name in k6_groups}
    return CpuNumbers(**groups, others=_mean_peak(series.cpu["others"], windows), **sides, roles=roles), each_k6


def _after_ms(t: float | None, t0: float) -> float | None:
    return None if t is None else (t - t0) * 1000


def _dropped(summary: K6Summary | None) -> float | None:
    return summary.dropped_iterations if summary else None


def _sum_present(values: Iterable[float | None]) -> float | None:
    """The sum of the values that exist (None when none does)."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _summed_summaries(summaries: list[K6Summary | None]) -> K6Summary | None:
    """The k6 summary of all of a run's processes: counts added (an endpoint's count is None
    unless every process reported it), dropped iterations added; one process's summary as it is."""
    if len(summaries) == 1 or not any(summaries):
        return summaries[0] if summaries else None
    endpoints = list(dict.fromkeys(e for s in summaries if s for e in s.counts))
    counts = {e: None if any(s is None or s.counts.get(e) is None for s in summaries)
              else sum(s.counts[e] for s in summaries if s) for e in endpoints}
    return K6Summary(dropped_iterations=_sum_present(_dropped(s) for s in summaries),
                     counts=counts, p95_ms={e: None for e in endpoints})


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _k6_summary(path: Path) -> K6Summary | None:
    """The counts, p95s and dropped iterations of k6's own summary export (load/lib/summary.js)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    endpoints = data.get("endpoints", {})
    return K6Summary(
        dropped_iterations=data.get("dropped_iterations"),
        counts={e: v.get("count") for e, v in endpoints.items()},
        p95_ms={e: (v.get("latency_ms") or {}).get("p95") for e, v in endpoints.items()},
    )


def _mean_peak(points: list[tuple[float, float]], windows: list[tuple[float, float]]) -> CpuUse:
    """Mean and peak cores over the run, and the mean during the bursts."""
    values = [c for _, c in points]
    burst = [c for t, c in points if stats.in_windows(t - 0.5, windows)]  # a sample covers the second before
    return CpuUse(mean_cores=statistics.fmean(values) if values else None,
                  peak_cores=max(values) if values else None,
                  burst_mean_cores=statistics.fmean(burst) if burst else None)


def stored_queries(run_dir: Path) -> StoredQueries | None:
    """The run's stored PromQL answers (None: the run kept none, e.g. Prometheus failed; its
    server-side numbers are then missing). A run recorded before the runner read PromQL is an
    error that says where it can still be analysed."""
    path = run_dir / promql.ANSWERS
    if path.exists():
        return StoredQueries.load(path)
    if (run_dir / "metrics.jsonl").exists():
        raise OldResults(
            f"{run_dir} was recorded before the runner read PromQL: it has metrics.jsonl and no {promql.ANSWERS}. "
            f"Analyse it with the last commit that reads metrics.jsonl: git checkout {LAST_METRICS_JSONL_COMMIT}")
    return None


class _Server:
    """The stored answers of one run, in seconds since `t0`."""

    def __init__(self, stored: StoredQueries | None, t0: float):
        self.stored = stored
        self.t0 = t0

    def by(self, name: str, label: str, shift: float = 0.0) -> dict[str, list[tuple[float, float]]]:
        """A per-second answer's series by one label's value (\"\" for a sum over everything),
        each point `shift` seconds earlier."""
        answer = self.stored.get(name) if self.stored else None
        return {s.labels.get(label, ""): [(t - self.t0 - shift, v) for t, v in s.points]
                for s in (answer.series if answer else [])}

    def single(self, name: str, label: str) -> dict[str, float]:
        return promql.by_label(self.stored.get(name) if self.stored else None, label)

    def p95_ms(self, name: str) -> dict[str, float]:
        return {endpoint: q * 1000 for endpoint, q in self.single(name, "endpoint").items()}

    def pools(self, series: RunSeries) -> PoolNumbers:
        """In use and waiters per pool over time; max waiters and acquire timeouts during the run.
        The timeout counters start at zero with the service: their last value counts the whole
        service life, last minus first the run's window."""
        series.pool_in_use = self.by("pool_in_use", "pool")
        series.pool_waiters = self.by("pool_waiters", "pool")
        series.pool_max = {pool: points[-1][1] for pool, points in self.by("pool_max", "pool").items() if points}
        max_waiters = {pool: max(v for _, v in points) for pool, points in series.pool_waiters.items() if points}
        timeouts = {pool: points for pool, points in self.by("acquire_timeouts", "pool").items() if points}
        totals = {pool: points[-1][1] for pool, points in timeouts.items()}
        during = {pool: points[-1][1] - points[0][1] for pool, points in timeouts.items()}
        return PoolNumbers(
            sizes={pool: int(size) for pool, size in series.pool_max.items()},
            max_waiters=max(max_waiters.values(), default=None),
            max_waiters_by_pool=max_waiters,
            peak_in_use_by_pool={pool: max(v for _, v in points)
                                 for pool, points in series.pool_in_use.items() if points},
            acquire_timeouts=sum(totals.values()) if totals else None,
            acquire_timeouts_by_pool=totals,
            acquire_timeouts_during_k6=sum(during.values()) if during else None,
        )

    def gauge(self, name: str, windows: list[tuple[float, float]], duration: float,
              points: list[tuple[float, float]]) -> Gauge:
        """A gauge summed over its labels, per second into `points`; returns its baseline (the
        median before the first burst) and its peak (the maximum during the load)."""
        points.extend(self.by(name, "").get("", []))
        first_burst = windows[0][0] if windows else duration
        before = [v for t, v in points if 0 <= t < first_burst]
        during = [v for t, v in points if 0 <= t <= duration]
        baseline = statistics.median(before) if before else (points[0][1] if points else None)
        return Gauge(baseline=baseline, peak=max(during) if during else None)

    def littles_law(self, burst_seconds: float) -> dict[str, LittlesLaw]:
        """Per pool over the bursts: mean in use against throughput x mean hold."""
        mean_in_use = self.single("in_use_mean_bursts", "pool")
        held = self.single("hold_seconds_bursts", "pool")
        holds = self.single("holds_bursts", "pool")
        out = {}
        for pool in sorted(set(mean_in_use) | set(holds)):
            count, seconds = holds.get(pool), held.get(pool)
            throughput = count / burst_seconds if count is not None and burst_seconds else None
            hold_ms = 1000 * seconds / count if count and seconds is not None else None
            out[pool] = LittlesLaw(
                mean_in_use=mean_in_use.get(pool), throughput_rps=throughput, mean_hold_ms=hold_ms,
                predicted_in_use=throughput * hold_ms / 1000 if throughput is not None and hold_ms is not None else None)
        return out

    def backends(self, windows: list[tuple[float, float]], duration: float, series: RunSeries) -> dict[str, Backends]:
        """The database's backends of this run's pools per state over time, and per pool their peaks. A
        state with no backend has no row in pg_stat_activity, so no point: zero, on the grid of
        the pool's other states' seconds."""
        answer = self.stored.get("backends") if self.stored else None
        for s in answer.series if answer else []:
            pool = s.labels.get("application_name", "").removeprefix(BACKEND_PREFIX)
            if series.pool_max and pool not in series.pool_max:
                continue  # the previous run's service, its last backends seen before the window
            series.backends.setdefault(pool, {})[s.labels.get("state", "")] = [(t - self.t0, v) for t, v in s.points]
        out = {}
        for pool, states in sorted(series.backends.items()):
            grid = sorted({t for points in states.values() for t, _ in points})
            for state, points in states.items():
                values = dict(points)
                states[state] = [(t, values.get(t, 0.0)) for t in grid]
            active = dict(states.get("active", []))
            load = [t for t in grid if 0 <= t <= duration]
            burst = [t for t in grid if stats.in_windows(t, windows)]
            out[pool] = Backends(
                peak_active=max((active.get(t, 0.0) for t in load), default=None),
                mean_active_bursts=statistics.fmean(active.get(t, 0.0) for t in burst) if burst else None,
                peak_total=max((sum(dict(points).get(t, 0.0) for points in states.values()) for t in load),
                               default=None))
        return out
