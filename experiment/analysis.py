"""Turns one run's raw files into numbers (the headline) and time series (for the charts).

Time is in seconds since the k6 scenario started (its first request), so the burst windows of the
profile line up with the data. Client-side numbers come from k6's per-request samples; pool, task
and server-side numbers from the /metrics scrapes; CPU from the /proc samples.
"""

from __future__ import annotations

import csv
import itertools
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from . import cpu as cpu_mod
from . import prom, sampler, stats
from .profiles import Profile
from .stats import ENDPOINTS, LIST, WRITES

# A second needs at least this many requests for its p95 to be drawn or count as a spike.
MIN_REQUESTS_PER_SECOND = 3
CPU_GROUPS = ("service", "postgres", "k6", "proxy", "ui", "recorder", "machine")
OURS = CPU_GROUPS[:-1]  # what the experiment runs; "machine" minus these is everybody else


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
    arm: str
    repeat: int
    run_dir: Path
    headline: dict
    series: RunSeries


def _load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def analyze_run(run_dir: Path, profile: Profile, arm: str, repeat: int) -> RunResult:
    record = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").exists() else {}
    csv_path = run_dir / "k6-samples.csv.gz"
    everything = stats.read_k6_csv(str(csv_path)) if csv_path.exists() else []
    # k6's setup() logins come before the scenarios start: they are neither load nor time zero.
    requests = [r for r in everything if r.endpoint != stats.SETUP]
    t0 = requests[0].t if requests else record.get("k6_started", 0.0)
    duration = profile.duration_s()
    windows = profile.burst_windows()
    series = RunSeries()

    # Client side, from k6's samples.
    grouped = stats.by_endpoint(requests)
    endpoints = {}
    for endpoint in ENDPOINTS:
        reqs = grouped.get(endpoint, [])
        burst = [r for r in reqs if stats.in_windows(r.t - t0, windows)]
        first_burst = windows[0][0] if windows else duration
        baseline = [r for r in reqs if r.t - t0 < first_burst]  # before the first burst: the calm
        burst_seconds = sum(end - start for start, end in windows)
        summary = stats.summarize(reqs, duration)
        summary["burst"] = _short(stats.summarize(burst, burst_seconds))
        summary["baseline"] = _short(stats.summarize(baseline, first_burst))
        per_second = stats.per_second(reqs, t0, 95)
        busy = {s: v for s, v in per_second.items() if v["count"] >= MIN_REQUESTS_PER_SECOND}
        summary["max_1s_p95_ms"] = max((v["p_ms"] for v in busy.values()), default=None)
        endpoints[endpoint] = summary
        series.client_p95[endpoint] = [(s + 0.5, v["p_ms"]) for s, v in busy.items()]
        series.client_errors[endpoint] = [(s + 0.5, v["errors"]) for s, v in per_second.items()]
        _write_per_second(run_dir, endpoint, per_second)

    writes = [r for e in WRITES for r in grouped.get(e, [])]
    write_burst = [r for r in writes if stats.in_windows(r.t - t0, windows)]

    # Server side, from the /metrics scrapes.
    scrapes = sampler.load(run_dir / "metrics.jsonl") if (run_dir / "metrics.jsonl").exists() else []
    pool_info = _pool_series(scrapes, t0, series)
    tasks_baseline, tasks_peak = _gauge(scrapes, t0, windows, duration, "tokio_alive_tasks", series.tasks)
    in_flight = _gauge(scrapes, t0, windows, duration, "http_requests_in_flight", series.in_flight)
    server = _server_latency(scrapes, t0, windows, duration, series)
    for endpoint in ENDPOINTS:
        endpoints[endpoint]["server_p95_ms"] = server[endpoint]["all"]
        endpoints[endpoint]["server_burst_p95_ms"] = server[endpoint]["burst"]
    _server_rps(scrapes, t0, series)

    # CPU, from the /proc samples.
    cpu_samples = _load_jsonl(run_dir / "cpu.jsonl")
    cpu_summary = {}
    for group in CPU_GROUPS:
        usage = [(t - t0, cores) for t, cores in cpu_mod.usage_series(cpu_samples, group)
                 if 0 <= t - t0 <= duration + 1]
        series.cpu[group] = usage
        cpu_summary[group] = _mean_peak(usage, windows)
    # Everything else on the machine (other people's work on a shared machine), per sample.
    by_time: dict[float, float] = {}
    for group in OURS:
        for t, cores in series.cpu.get(group, []):
            by_time[t] = by_time.get(t, 0.0) + cores
    series.cpu["others"] = [(t, max(0.0, cores - by_time.get(t, 0.0))) for t, cores in series.cpu.get("machine", [])]
    cpu_summary["others"] = _mean_peak(series.cpu["others"], windows)
    # Each side's CPUs when the run was pinned (cpusets.py): the sum of its cores' usage.
    sets = record.get("cpu_sets") or {}
    for side in ("sut", "load"):
        cpus = sets.get(side)
        if not cpus:
            continue
        by_t: dict[float, float] = {}
        for n in cpus:
            usage = cpu_mod.usage_series(cpu_samples, f"cpu{n}")
            for t, cores in usage:
                if 0 <= t - t0 <= duration + 1:
                    by_t[t - t0] = by_t.get(t - t0, 0.0) + cores
        series.cpu[f"{side}_side"] = sorted(by_t.items())
        cpu_summary[f"{side}_side"] = _mean_peak(series.cpu[f"{side}_side"], windows) | {"cpus": len(cpus)}

    k6_summary = _k6_summary(run_dir / "k6-summary.json")
    read = endpoints[LIST]
    headline = {
        "requests": len(requests),
        "endpoints": endpoints,
        "read": {
            "count": read["count"], "errors": read["errors"], "error_rate": read["error_rate"],
            "p50_ms": read["p50_ms"], "p95_ms": read["p95_ms"], "p99_ms": read["p99_ms"],
            "burst_p95_ms": read["burst"]["p95_ms"], "baseline_p95_ms": read["baseline"]["p95_ms"],
            "burst_error_rate": read["burst"]["error_rate"], "max_1s_p95_ms": read["max_1s_p95_ms"],
            "server_p95_ms": read["server_p95_ms"], "server_burst_p95_ms": read["server_burst_p95_ms"],
            # k6's burst p95 over the service's own: near 1 when k6 measures the service; far above
            # when k6 measured its own wait for CPU (or the network) as well.
            "client_server_ratio": _ratio(read["burst"]["p95_ms"], read["server_burst_p95_ms"]),
        },
        "write": {
            **_short(stats.summarize(writes, duration)),
            "burst_p95_ms": stats.percentile((r.duration_ms for r in write_burst), 95),
        },
        "pool": pool_info,
        "tasks": {"baseline": tasks_baseline, "peak": tasks_peak},
        "in_flight": {"baseline": in_flight[0], "peak": in_flight[1]},
        "cpu": cpu_summary,
        "k6_exit_code": record.get("k6_exit_code"),
        # k6's own summary (load/lib/summary.js): a cross-check of the counts, and the iterations
        # k6 could not start because every VU was busy (then the offered load fell short).
        "k6_summary": k6_summary,
        "dropped_iterations": (k6_summary or {}).get("dropped_iterations"),
        "warm_up": record.get("warm_up"),
        "rates": record.get("rates"),
        "cpu_sets": sets or None,
        "notes": record.get("notes", []),
        "recording": record.get("recording"),
    }
    (run_dir / "analysis.json").write_text(json.dumps(headline, indent=2))
    return RunResult(arm=arm, repeat=repeat, run_dir=run_dir, headline=headline, series=series)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _k6_summary(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    endpoints = data.get("endpoints", {})
    return {
        "dropped_iterations": data.get("dropped_iterations"),
        "counts": {e: v.get("count") for e, v in endpoints.items()},
        "p95_ms": {e: (v.get("latency_ms") or {}).get("p95") for e, v in endpoints.items()},
    }


def _mean_peak(points: list[tuple[float, float]], windows: list[tuple[float, float]]) -> dict:
    """Mean and peak cores over the run, and the mean during the bursts."""
    values = [c for _, c in points]
    burst = [c for t, c in points if stats.in_windows(t - 0.5, windows)]  # a sample covers the second before
    return {"mean_cores": statistics.fmean(values) if values else None,
            "peak_cores": max(values) if values else None,
            "burst_mean_cores": statistics.fmean(burst) if burst else None}


def _short(summary: dict) -> dict:
    return {k: summary[k] for k in ("count", "rps", "p50_ms", "p95_ms", "p99_ms", "errors", "error_rate")}


def _write_per_second(run_dir: Path, endpoint: str, per_second: dict[int, dict]) -> None:
    path = run_dir / "client-per-second.csv"
    new = not path.exists() or endpoint == ENDPOINTS[0]
    with open(path, "w" if new else "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["second", "endpoint", "requests", "errors", "p95_ms"])
        for second, v in per_second.items():
            writer.writerow([second, endpoint, v["count"], v["errors"],
                             "" if v["p_ms"] is None else round(v["p_ms"], 3)])


def _pool_series(scrapes: list[dict], t0: float, series: RunSeries) -> dict:
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
    return {
        "sizes": {pool: int(size) for pool, size in series.pool_max.items()},
        "max_waiters": max(max_waiters.values(), default=None),
        "max_waiters_by_pool": max_waiters,
        "peak_in_use_by_pool": peak_in_use,
        "acquire_timeouts": sum(timeouts_total.values()) if timeouts_total else None,
        "acquire_timeouts_by_pool": timeouts_total,
        "acquire_timeouts_during_k6": sum(timeouts.values()) if timeouts else None,
    }


def _gauge(scrapes: list[dict], t0: float, windows: list[tuple[float, float]], duration: float,
           name: str, points: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """A gauge (summed over its labels) over time into `points`; returns (baseline, peak):
    the median before the first burst, and the maximum during the load."""
    for scrape in scrapes:
        if any(key == name or key.startswith(name + "{") for key in scrape["metrics"]):
            points.append((scrape["t"] - t0, prom.total(scrape["metrics"], name)))
    first_burst = windows[0][0] if windows else duration
    before = [v for t, v in points if 0 <= t < first_burst]
    during = [v for t, v in points if 0 <= t <= duration]
    baseline = statistics.median(before) if before else (points[0][1] if points else None)
    return baseline, (max(during) if during else None)


def _server_latency(scrapes: list[dict], t0: float, windows: list[tuple[float, float]],
                    duration: float, series: RunSeries) -> dict[str, dict[str, float | None]]:
    """Server-side p95 (ms) per endpoint from the service's own histogram, over the whole load and
    over the bursts: bucket increases between consecutive scrapes, summed, then interpolated as
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
    out = {}
    for endpoint, parts in sums.items():
        out[endpoint] = {}
        for part, buckets in parts.items():
            q = prom.histogram_quantile(0.95, sorted(buckets.items()))
            out[endpoint][part] = None if q is None else q * 1000
    return out


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
