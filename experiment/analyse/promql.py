"""The PromQL questions the analysis asks about one run, and how their answers are kept.

Every server-side number and time series of the report (pools, waiters, timeouts, tasks, requests
in flight, the service's own p95s, its throughput, connection hold times, the database's
backends) is the answer of one named query below, asked of the lab's Prometheus for one run
(its `RunLabels`). At the end of each run the runner asks them all (`evaluate`) and keeps the
answers in the run folder (`ANSWERS`, a `results.StoredQueries`); the analysis reads only that
file, so a report can be rebuilt without the Prometheus. Client-side numbers stay k6's raw
samples (exact percentiles, not histogram estimates).

Two kinds of question:

- `series`: a value per second over the run's window (query_range, 1 s steps), for the charts
  and for gauges' peaks;
- `windows`: one answer over a set of time windows (the whole load, the bursts), as a single
  instant query. A counter's increase over a window is its value at the window's end minus its
  value at its start (`x @ end - x @ start`): the exact difference of two scrapes, as the service
  counted, where `increase()` would extrapolate each bucket to the window's edges (and stop
  some at zero, which bends a quantile). The windows' increases are added, then
  `histogram_quantile` reads the sum: quantiles over counts are what Prometheus computes, no
  quantile code of our own remains.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..model.labels import RunLabels
from ..model.profiles import Profile
from ..model.results import K6ProcessRecord, QueryAnswer, Series, StoredQueries
from . import stats

ANSWERS = "promql.json"  # in each run folder
# A rate over 3 s holds 3 or 4 scrapes at 1 s: a per-second value that a late scrape does not blank.
RATE_WINDOW = "3s"
# A rate at t covers (t - 3 s, t]: the charts draw it at the middle, where its requests were.
RATE_MIDDLE_S = 1.5
# A second needs at least this many requests (per second) for the service's p95 to be drawn.
MIN_RPS_FOR_P95 = 3
EDGE_S = 0.5  # half the lab's 1 s scrape interval (monitoring/prometheus.yml)
# Long enough for one more scrape (1 s apart): waited before a target stops, so its final
# counters are in Prometheus, and before reading a window that ends now.
SCRAPE_WAIT_S = 1.5
Window = tuple[float, float]  # (start, end), unix seconds


class Prometheus(Protocol):
    """What the queries need of a Prometheus: its address and its two query APIs. The lab's
    (monitoring.Prometheus) has them; a test's stand-in can too."""

    url: str

    def query(self, query: str, at: float | None = None, timeout: float = 60) -> list[dict]: ...

    def query_range(self, query: str, start: float, end: float, step: float = 1.0) -> list[dict]: ...


@dataclass(frozen=True)
class RunQueries:
    """The named queries of one run: its service's series (job todo-service with the run's
    target labels) and the database's backends of the lab's database (the exporter is not per
    run: its series are cut by the run's time window)."""

    run: RunLabels
    database: str  # LabParams.database: the exporter sees every database on the server

    def selector(self, metric: str, **match: str) -> str:
        target = ", ".join(f'{name}="{value}"' for name, value in (self.run.target_labels() | match).items())
        return f'{metric}{{job="todo-service", {target}}}'

    def series(self) -> dict[str, str]:
        """Per-second queries (query_range), by name."""
        s, rate = self.selector, RATE_WINDOW
        bucket = f"rate({s('http_request_duration_seconds_bucket')}[{rate}])"
        count = f"rate({s('http_request_duration_seconds_count')}[{rate}])"
        return {
            "pool_in_use": f"sum by (pool) ({s('db_pool_connections_in_use')})",
            "pool_waiters": f"sum by (pool) ({s('db_pool_waiters')})",
            "pool_max": f"max by (pool) ({s('db_pool_max_connections')})",
            "acquire_timeouts": f"sum by (pool) ({s('db_pool_acquire_timeouts_total')})",
            "tasks": f"sum({s('tokio_alive_tasks')})",
            "in_flight": f"sum({s('http_requests_in_flight')})",
            "server_rps": f"sum by (endpoint) (rate({s('http_requests_total')}[{rate}]))",
            "server_p95_s": f"histogram_quantile(0.95, sum by (le, endpoint) ({bucket})) "
                            f"and on (endpoint) (sum by (endpoint) ({count}) >= {MIN_RPS_FOR_P95})",
            "backends": "sum by (application_name, state) (pg_backends_count{job=\"postgres\", "
                        f"datname=\"{self.database}\", application_name=~\"todo-service/.+\"}})",
        }

    def windows(self, load: Window, bursts: list[Window], steps: Sequence[Window] = ()) -> dict[str, str]:
        """One-answer queries over the whole load and over the bursts (instant), by name; and
        for a sweep, the service's p95 over each step's steady part (`step_query(i)`)."""
        s = self.selector
        queries = {"server_p95_s_load": _p95(s("http_request_duration_seconds_bucket"), [load])}
        queries |= {step_query(i): _p95(s("http_request_duration_seconds_bucket"), [window])
                    for i, window in enumerate(steps, 1)}
        if bursts:
            hold_sum, hold_count = s("db_pool_connection_hold_seconds_sum"), s("db_pool_connection_hold_seconds_count")
            in_use = s("db_pool_connections_in_use")
            queries |= {
                "server_p95_s_bursts": _p95(s("http_request_duration_seconds_bucket"), bursts),
                "hold_seconds_bursts": _increase(hold_sum, "pool", bursts),
                "holds_bursts": _increase(hold_count, "pool", bursts),
                # The mean of the gauge's scrapes during the bursts (Little's law's L).
                "in_use_mean_bursts": f"({_over_time('sum', in_use, bursts)}) / ({_over_time('count', in_use, bursts)})",
            }
        return queries

    def calibration(self, start: float, end: float) -> dict[str, str]:
        """What the calibration probe needs between `start` and `end`: connection-seconds held
        and requests per endpoint, and the requests answered 2xx."""
        s = self.selector
        return {
            "hold_seconds": _increase(s("db_pool_connection_hold_seconds_sum"), "endpoint", [(start, end)]),
            "requests": _increase(s("http_requests_total"), "endpoint", [(start, end)]),
            "requests_2xx": _increase(s("http_requests_total", status_class="2xx"), "endpoint", [(start, end)]),
        }

    def progress(self) -> dict[str, str]:
        """The live progress line's numbers (instant queries, now)."""
        s = self.selector
        return {
            "rps": f"sum(rate({s('http_requests_total')}[{RATE_WINDOW}]))",
            "in_use": f"sum({s('db_pool_connections_in_use')})",
            "size": f"sum({s('db_pool_max_connections')})",
            "waiters": f"sum({s('db_pool_waiters')})",
        }


def step_query(index: int) -> str:
    """The name of the service's p95 over a sweep's step `index` (from 1)."""
    return f"server_p95_s_step_{index}"


def _increase(selector: str, by: str, windows: Iterable[Window]) -> str:
    """The counter's increase summed over `windows`, grouped `by`: end value minus start value
    of each window (see the module's doc), added. An edge is the scrape nearest to it (the last
    one before edge + half a scrape interval), so a window of scrape intervals is the one whose
    intervals' middles fall inside it."""
    return " + ".join(f"(sum by ({by}) ({selector} @ {end + EDGE_S:.3f}) - sum by ({by}) ({selector} @ {start + EDGE_S:.3f}))"
                      for start, end in windows)


def _p95(bucket: str, windows: list[Window]) -> str:
    return f"histogram_quantile(0.95, {_increase(bucket, 'le, endpoint', windows)})"


def _over_time(kind: str, selector: str, windows: list[Window]) -> str:
    """`kind`_over_time of the gauge in each window, summed over the windows, by pool."""
    return " + ".join(f"sum by (pool) ({kind}_over_time({selector}[{max(1, round(end - start))}s] @ {end:.3f}))"
                      for start, end in windows)


def answers(result: list[dict]) -> list[Series]:
    """A query's result (Prometheus's JSON) as our series; NaN points (a quantile of nothing)
    are left out."""
    out = []
    for item in result:
        values = item.get("values") or ([item["value"]] if "value" in item else [])
        points = [(float(t), float(v)) for t, v in values if v.lower() != "nan"]
        out.append(Series(labels={k: v for k, v in item["metric"].items() if k != "__name__"}, points=points))
    return out


def instant(prometheus: Prometheus, query: str, at: float) -> QueryAnswer:
    """An instant query's answer at `at` (unix s)."""
    return QueryAnswer(query=query, series=answers(prometheus.query(query, at)))


def evaluate(prometheus: Prometheus, queries: RunQueries, start: float, end: float, t0: float,
             load: Window, bursts: list[Window], steps: Sequence[Window] = ()) -> StoredQueries:
    """Ask every query of `queries` for the window `start`..`end` (unix s); `t0` is the scenario's
    first request, `load` and `bursts` the windows (unix s) of the one-answer queries."""
    stored = {name: QueryAnswer(query=q, series=answers(prometheus.query_range(q, start, end)))
              for name, q in queries.series().items()}
    stored |= {name: instant(prometheus, q, end) for name, q in queries.windows(load, bursts, steps).items()}
    return StoredQueries(prometheus=prometheus.url, start=start, end=end, step=1.0, t0=t0, load_window=load,
                         bursts=list(bursts), answers=stored)


def by_label(answer: QueryAnswer | None, label: str) -> dict[str, float]:
    """An instant answer's single value per `label` ({} when Prometheus had nothing)."""
    if answer is None:
        return {}
    return {s.labels.get(label, ""): s.points[-1][1] for s in answer.series if s.points}


def ask_for_run(prometheus: Prometheus, queries: RunQueries, run_dir: Path, profile: Profile,
                k6_started: float, k6_ended: float, *, processes: Sequence[K6ProcessRecord]) -> StoredQueries:
    """Evaluate a finished run's queries and keep the answers in `run_dir` (ANSWERS): per second
    from a few seconds before k6 started to a few after it ended; the windows from the scenario's
    first request (the samples of every k6 process, `processes`), as the analysis cuts them."""
    t0 = stats.load_run_requests(run_dir, processes).start() or k6_started
    load = (t0, t0 + profile.duration_s() + 1)
    bursts = [(t0 + start, t0 + end) for start, end in profile.burst_windows()]
    steps = [(t0 + start, t0 + end) for start, end in profile.steady_windows()] if profile.is_sweep else []
    stored = evaluate(prometheus, queries, k6_started - 5, k6_ended + 5, t0, load, bursts, steps)
    stored.save(run_dir / ANSWERS)
    return stored
