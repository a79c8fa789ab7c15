"""Client-side numbers from k6's per-request samples: percentiles, error rates, per-second series.

k6 writes one CSV row per metric sample (`--out csv=FILE`, gzipped when FILE ends in .gz). Each
`http_req_duration` row is one request: its duration, method, URL and status. That is all we need to
compute any percentile over any time window, per endpoint, which k6's end-of-test summary can't.
"""

from __future__ import annotations

import csv
import gzip
import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ..model.results import K6ProcessRecord, RequestStats, Spread

# The service's endpoint names (the `endpoint` label of its metrics, see docs/contract.md) come from
# load/shape.json through shape.py; re-exported here for the modules that import them from stats.
from ..model.shape import CREATE, ENDPOINTS, LIST, LOGIN


@dataclass(frozen=True)
class Request:
    """One HTTP request as k6 saw it."""

    t: float  # unix seconds when k6 recorded it
    endpoint: str  # login | create_todo | list_todos | other
    duration_ms: float
    status: int  # 0 when the request failed without a response (timeout, refused)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


SETUP = "setup"  # k6 setup() requests (tagged `endpoint=setup_login`): not part of the load


def endpoint_of(method: str, url: str, extra_tags: str = "") -> str:
    """The service's endpoint name for a request: its k6 `endpoint` tag when it has one (in the
    CSV's extra_tags, `k=v&k=v`), else from its method and path."""
    for pair in extra_tags.split("&"):
        key, _, value = pair.partition("=")
        if key == "endpoint" and value:
            return value if value in (LOGIN, CREATE, LIST) else SETUP if value.startswith("setup") else "other"
    path = urlsplit(url).path.rstrip("/")
    method = method.upper()
    if method == "POST" and path.endswith("/login"):
        return LOGIN
    if path.endswith("/todos"):
        return CREATE if method == "POST" else LIST if method == "GET" else "other"
    return "other"


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's
    default method, "linear"). None for no values."""
    data = np.fromiter(values, dtype=float)
    return float(np.percentile(data, q, method="linear")) if data.size else None


def _open_text(path: str):
    return gzip.open(path, "rt", newline="") if str(path).endswith(".gz") else open(path, newline="")


def _timestamp(value: str) -> float:
    """k6 CSV timestamps are unix seconds, or milli/microseconds with K6_CSV_TIME_FORMAT."""
    t = float(value)
    while t > 1e11:  # ms or us since 1970 -> s
        t /= 1000.0
    return t


def read_k6_csv(path: str) -> list[Request]:
    """Every request (http_req_duration sample) in a k6 CSV output file, in time order."""
    requests = []
    with _open_text(path) as handle:
        for row in csv.DictReader(handle):
            if row.get("metric_name") != "http_req_duration":
                continue
            status = row.get("status") or "0"
            requests.append(
                Request(
                    t=_timestamp(row["timestamp"]),
                    endpoint=endpoint_of(row.get("method", ""), row.get("url", ""), row.get("extra_tags") or ""),
                    duration_ms=float(row["metric_value"]),
                    status=int(float(status)) if status.strip() else 0,
                )
            )
    requests.sort(key=lambda r: r.t)
    return requests


def load_requests(path: Path) -> list[Request]:
    """The load's requests in a k6 CSV (none if the file is missing): k6's setup() logins come
    before the scenarios start, they are neither load nor time zero."""
    return [r for r in read_k6_csv(str(path)) if r.endpoint != SETUP] if path.exists() else []


@dataclass(frozen=True)
class LoadRequests:
    """A run's load requests: every k6 process's merged in time order (`all`, so a percentile
    over them is exact, never an average of the processes' percentiles), and each process's own
    (`by_process`, by its index)."""

    all: list[Request]
    by_process: dict[int, list[Request]]

    def start(self) -> float | None:
        """The scenario's time zero: the first request of any process."""
        return scenario_start(self.all)

    def first(self, index: int) -> float | None:
        """Process `index`'s own first request (unix s)."""
        return scenario_start(self.by_process.get(index, []))


def load_run_requests(run_dir: Path, processes: Iterable[K6ProcessRecord]) -> LoadRequests:
    """The load requests of every k6 process of a run (`RunRecord.load_processes()`), read from
    their sample files in `run_dir`: the one reader of a run's samples."""
    by_process = {p.index: load_requests(run_dir / p.samples) for p in processes}
    return LoadRequests(all=list(heapq.merge(*by_process.values(), key=lambda r: r.t)), by_process=by_process)


def scenario_start(requests: list[Request]) -> float | None:
    """Unix seconds of the load's first request: the time zero of every series."""
    return requests[0].t if requests else None


def summarize(requests: list[Request], seconds: float) -> RequestStats:
    """Count, throughput, p50/p95/p99, error count and rate for one endpoint's requests.

    Latency percentiles include failed requests: a 503 after waiting for a connection is what the
    user waited for too.
    """
    durations = [r.duration_ms for r in requests]
    errors = sum(1 for r in requests if not r.ok)
    count = len(requests)
    return RequestStats(
        count=count,
        rps=count / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(durations, 50),
        p95_ms=percentile(durations, 95),
        p99_ms=percentile(durations, 99),
        max_ms=max(durations) if durations else None,
        errors=errors,
        error_rate=errors / count if count else 0.0,
        statuses=_status_counts(requests),
    )


def _status_counts(requests: list[Request]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in requests:
        counts[str(r.status)] += 1
    return dict(sorted(counts.items()))


def by_endpoint(requests: Iterable[Request]) -> dict[str, list[Request]]:
    grouped: dict[str, list[Request]] = {e: [] for e in ENDPOINTS}
    for r in requests:
        grouped.setdefault(r.endpoint, []).append(r)
    return grouped


def in_windows(t: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= t < end for start, end in windows)


@dataclass(frozen=True)
class Second:
    """One second of one endpoint's requests."""

    count: int
    errors: int
    p_ms: float | None  # the q-th percentile latency


def per_second(requests: Iterable[Request], t0: float, q: float = 95) -> dict[int, Second]:
    """Per whole second since t0: request count, error count and q-th percentile latency."""
    buckets: dict[int, list[Request]] = defaultdict(list)
    for r in requests:
        buckets[math.floor(r.t - t0)].append(r)
    return {
        second: Second(count=len(rs), errors=sum(1 for r in rs if not r.ok),
                       p_ms=percentile((r.duration_ms for r in rs), q))
        for second, rs in sorted(buckets.items())
    }


def spread(values: Iterable[float | None]) -> Spread | None:
    """min / median / max of the values that exist (None when none does)."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    return Spread(min=data[0], median=percentile(data, 50), max=data[-1], n=len(data))


def iter_windows(seconds: dict[int, Second], windows: list[tuple[float, float]]) -> Iterator[Second]:
    for second, values in seconds.items():
        if in_windows(second + 0.5, windows):
            yield values
