"""Turns one run's raw files into numbers (the headline) and time series (for the charts).

It only computes: the CLI writes what it returns (analysis.json, client-per-second.csv).

Time is in seconds since the k6 scenario started (its first request), so the burst windows of the
profile line up with the data. Client-side numbers come from k6's per-request samples; pool, task
and server-side numbers from the /metrics scrapes; CPU from the /proc samples.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from . import cpu as cpu_mod
from . import prom, sampler, stats
from .profiles import Profile
from .results import (
    CpuNumbers,
    CpuSetsRecord,
    CpuUse,
    EndpointNumbers,
    Gauge,
    Headline,
    K6Summary,
    Latency,
    PoolNumbers,
    ReadNumbers,
    RequestStats,
    RunRecord,
    WriteNumbers,
)
from .stats import ENDPOINTS, LIST, WRITES

# A second needs at least this many requests for its p95 to be drawn or count as a spike.
MIN_REQUESTS_PER_SECOND = 3
CPU_GROUPS = ("service", "postgres", "k6", "proxy", "ui", "recorder", "machine")
# The lab's Prometheus and its Postgres exporter (runs since Prometheus joined the loop): summed
# as "monitoring", so the report can show what watching the run cost.
MONITORING = ("prometheus", "exporter")
# What the experiment runs; "machine" minus these is everybody else.
OURS = (*CPU_GROUPS[:-1], "monitoring")


@dataclass
class RunSeries:
    """Time series of one run, for the charts (t in seconds since the scenario start)."""

    client_p95: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # endpoint -> (t, p95 ms)
    client_errors: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # endpoint -> (t, errors)
    server_p95: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # per scrape interval
    pool_in_use: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # pool -> (t, n)
    pool_waiters: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    pool_max: dict[str, float] = field(default_factory=dict)
    tasks: list[tuple[float, float]] = field(default_factory=list)
    in_flight: list[tuple[float, float]] = field(default_factory=list)  # http_requests_in_flight, all endpoints
    server_rps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
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


def _load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def analyze_run(run_dir: Path, profile: Profile, arm: str, repeat: int) -> RunResult:
    """Read one run's raw files and compute its headline and time series; writes nothing."""
    record = RunRecord.load(run_dir / "run.json") if (run_dir / "run.json").exists() else None
    csv_path = run_dir / "k6-samples.csv.gz"
    everything = stats.read_k6_csv(str(csv_path)) if csv_path.exists() else []
    # k6's setup() logins come before the scenarios start: they are neither load nor time zero.
    requests = [r for r in everything if r.endpoint != stats.SETUP]
    t0 = requests[0].t if requests else (record.k6_started if record else 0.0)
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

    # Server side, from the /metrics scrapes.
    scrapes = sampler.load(run_dir / "metrics.jsonl") if (run_dir / "metrics.jsonl").exists() else []
    pool = _pool_series(scrapes, t0, series)
    tasks = _gauge(scrapes, t0, windows, duration, "tokio_alive_tasks", series.tasks)
    in_flight = _gauge(scrapes, t0, windows, duration, "http_requests_in_flight", series.in_flight)
    server = _server_latency(scrapes, t0, windows, duration, series)
    _server_rps(scrapes, t0, series)
    endpoints = {
        endpoint: EndpointNumbers(**_fields(whole), burst=burst, baseline=baseline, max_1s_p95_ms=worst_second,
                                  server_p95_ms=server[endpoint][0], server_burst_p95_ms=server[endpoint][1])
        for endpoint, (whole, burst, baseline, worst_second) in client.items()
    }

    k6_summary = _k6_summary(run_dir / "k6-summary.json")
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
        cpu=_cpu(run_dir, t0, duration, windows, record.cpu_sets if record else None, series),
        k6_exit_code=record.k6_exit_code if record else None,
        k6_summary=k6_summary,
        dropped_iterations=k6_summary.dropped_iterations if k6_summary else None,
        warm_up=record.warm_up if record else None,
        rates=record.rates if record else None,
        cpu_sets=record.cpu_sets if record else None,
        notes=list(record.notes) if record else [],
        recording=record.recording if record else None,
    )
    return RunResult(arm=arm, repeat=repeat, run_dir=run_dir, headline=headline, series=series, per_second=per_second)


def _fields(value) -> dict:
    """A dataclass's fields by name, to extend it into a bigger result."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _cpu(run_dir: Path, t0: float, duration: float, windows: list[tuple[float, float]],
         sets: CpuSetsRecord | None, series: RunSeries) -> CpuNumbers:
    """CPU of every group and of everything else on the machine, from the /proc samples."""
    samples = _load_jsonl(run_dir / "cpu.jsonl")
    groups = {}
    for group in CPU_GROUPS:
        usage = [(t - t0, cores) for t, cores in cpu_mod.usage_series(samples, group)
                 if 0 <= t - t0 <= duration + 1]
        series.cpu[group] = usage
        groups[group] = _mean_peak(usage, windows)
    monitoring: dict[float, float] = {}
    for group in MONITORING:
        for t, cores in cpu_mod.usage_series(samples, group):
            if 0 <= t - t0 <= duration + 1:
                monitoring[t - t0] = monitoring.get(t - t0, 0.0) + cores
    if monitoring:
        series.cpu["monitoring"] = sorted(monitoring.items())
        groups["monitoring"] = _mean_peak(series.cpu["monitoring"], windows)
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
        by_t: dict[float, float] = {}
        for n in cpus:
            for t, cores in cpu_mod.usage_series(samples, f"cpu{n}"):
                if 0 <= t - t0 <= duration + 1:
                    by_t[t - t0] = by_t.get(t - t0, 0.0) + cores
        series.cpu[f"{side}_side"] = sorted(by_t.items())
        sides[f"{side}_side"] = dataclasses.replace(_mean_peak(series.cpu[f"{side}_side"], windows), cpus=len(cpus))
    return CpuNumbers(**groups, others=_mean_peak(series.cpu["others"], windows), **sides)


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


def _pool_series(scrapes: list[dict], t0: float, series: RunSeries) -> PoolNumbers:
    """In-use and waiters per pool over time; max waiters and acquire timeouts during the run."""
    max_waiters: dict[str, float] = {}
    timeouts_first: dict[str, float] = {}
    timeouts_last: dict[str, float] = {}
    for scrape in scrapes:
        t, m = scrape["t"] - t0, scrape["metrics"]
        for pool, value in prom.by_label(m, "db_pool_connections_in_use", "pool").items():
            series.pool_in_use.setdefault(pool, []).append((t, value))
        for pool, value in prom.by_label(m, "db_pool_waiters", "pool").items():
            series.pool_waiters.setdefault(pool, []).append((t, value))
            max_waiters[pool] = max(max_waiters.get(pool, 0.0), value)
        for pool, value in prom.by_label(m, "db_pool_max_connections", "pool").items():
            series.pool_max[pool] = value
        for pool, value in prom.by_label(m, "db_pool_acquire_timeouts_total", "pool").items():
            timeouts_first.setdefault(pool, value)
            timeouts_last[pool] = value
    timeouts = {pool: timeouts_last[pool] - timeouts_first[pool] for pool in timeouts_last}
    # A timeout before the first scrape is missed by the difference; the last value is exact since
    # the counters start at zero with the service, and warm-up is light.
    timeouts_total = {pool: timeouts_last[pool] for pool in timeouts_last}
    peak_in_use = {pool: max(v for _, v in values) for pool, values in series.pool_in_use.items()}
    return PoolNumbers(
        sizes={pool: int(size) for pool, size in series.pool_max.items()},
        max_waiters=max(max_waiters.values(), default=None),
        max_waiters_by_pool=max_waiters,
        peak_in_use_by_pool=peak_in_use,
        acquire_timeouts=sum(timeouts_total.values()) if timeouts_total else None,
        acquire_timeouts_by_pool=timeouts_total,
        acquire_timeouts_during_k6=sum(timeouts.values()) if timeouts else None,
    )


def _gauge(scrapes: list[dict], t0: float, windows: list[tuple[float, float]], duration: float,
           name: str, points: list[tuple[float, float]]) -> Gauge:
    """A gauge (summed over its labels) over time into `points`; returns its baseline (the median
    before the first burst) and its peak (the maximum during the load)."""
    for scrape in scrapes:
        if any(key == name or key.startswith(name + "{") for key in scrape["metrics"]):
            points.append((scrape["t"] - t0, prom.total(scrape["metrics"], name)))
    first_burst = windows[0][0] if windows else duration
    before = [v for t, v in points if 0 <= t < first_burst]
    during = [v for t, v in points if 0 <= t <= duration]
    baseline = statistics.median(before) if before else (points[0][1] if points else None)
    return Gauge(baseline=baseline, peak=max(during) if during else None)


def _server_latency(scrapes: list[dict], t0: float, windows: list[tuple[float, float]],
                    duration: float, series: RunSeries) -> dict[str, tuple[float | None, float | None]]:
    """Server-side p95 (ms) per endpoint from the service's own histogram, (over the whole load,
    over the bursts): bucket increases between consecutive scrapes, summed, then interpolated as
    Prometheus' histogram_quantile does. A cross-check of k6's numbers, which also include time
    spent in k6 and the network stack."""
    sums = {e: {"all": {}, "burst": {}} for e in ENDPOINTS}
    for prev, cur in itertools.pairwise(scrapes):
        middle = (prev["t"] + cur["t"]) / 2 - t0
        if not 0 <= middle <= duration + 1:
            continue
        burst = stats.in_windows(middle, windows)
        for endpoint in ENDPOINTS:
            before = dict(prom.histogram_buckets(prev["metrics"], "http_request_duration_seconds", endpoint=endpoint))
            after = prom.histogram_buckets(cur["metrics"], "http_request_duration_seconds", endpoint=endpoint)
            interval = [(le, count - before.get(le, 0.0)) for le, count in after]
            if interval and interval[-1][1] >= MIN_REQUESTS_PER_SECOND:
                q = prom.histogram_quantile(0.95, interval)
                if q is not None:
                    series.server_p95.setdefault(endpoint, []).append((middle, q * 1000))
            for le, count in after:
                delta = count - before.get(le, 0.0)
                if delta < 0:  # a counter reset: the service restarted
                    continue
                for part in ("all", "burst") if burst else ("all",):
                    sums[endpoint][part][le] = sums[endpoint][part].get(le, 0.0) + delta
    def p95_ms(buckets: dict[float, float]) -> float | None:
        q = prom.histogram_quantile(0.95, sorted(buckets.items()))
        return None if q is None else q * 1000

    return {endpoint: (p95_ms(parts["all"]), p95_ms(parts["burst"])) for endpoint, parts in sums.items()}


def _server_rps(scrapes: list[dict], t0: float, series: RunSeries) -> None:
    prev = None
    for scrape in scrapes:
        counts = prom.by_label(scrape["metrics"], "http_requests_total", "endpoint")
        if prev is not None and scrape["t"] > prev[0]:
            dt = scrape["t"] - prev[0]
            for endpoint, value in counts.items():
                rate = (value - prev[1].get(endpoint, 0.0)) / dt
                series.server_rps.setdefault(endpoint, []).append((scrape["t"] - t0, rate))
        prev = (scrape["t"], counts)
