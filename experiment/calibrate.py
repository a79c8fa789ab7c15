"""Calibration: what the shared pool can serve on this machine, measured before the acts.

The acts' rates are multiples of this capacity (profiles.py), so the same command asks the same of
the pool at any database delay and on any machine, instead of rates tuned by hand for one box.

How: a fresh database and the Act I service (one shared pool), then a short, steady k6 load well
under capacity (`LabParams.probe_rps`, the acts' request mix). The service's histogram
`db_pool_connection_hold_seconds{pool,endpoint}` says how long each request held a connection
(from acquire to release, the time HikariCP calls usage; waiting is not included); the lab's
Prometheus scrapes it, and its increase over the probe is one PromQL query (promql.py). By Little's
law, a pool of N connections whose requests hold one for a mean of h seconds serves at most N / h
requests per second:

    connection-seconds per request, per endpoint  h_e = hold seconds of e / requests of e
    mean over the mix                             h   = sum of w_e * h_e  (w_e: e's share of k6's requests)
    capacity                                      C   = N / h

Hold times are measured at low load, so they leave out what contention adds under a burst
(Postgres and service CPU, locks): the real capacity in a burst is at most C, never more, which
only makes a burst above 1x C more certain to overflow the shared pool.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from . import procs, promql
from .monitoring import Prometheus, RunLabels
from .profiles import SHARED, Arm, Rates
from .results import Calibration
from .runner import Context, k6_argv, k6_env, system_under_test


def probe_counts(prometheus: Prometheus, queries: promql.RunQueries, start: float,
                 end: float) -> dict[str, dict[str, float]]:
    """The calibration's answers between `start` and `end` (unix s), each per endpoint:
    hold_seconds, requests, requests_2xx (promql.RunQueries.calibration)."""
    return {name: promql.by_label(promql.instant(prometheus, query, end), "endpoint")
            for name, query in queries.calibration(start, end).items()}


def capacity(connections: int, hold_s: dict[str, float], requests: dict[str, float],
             mix: dict[str, float]) -> tuple[dict[str, float], float, float]:
    """Per-endpoint hold per request (ms), the mix's mean (ms) and the pool's capacity (req/s)."""
    hold_ms = {e: 1000 * hold_s[e] / requests[e] for e in mix if requests.get(e) and e in hold_s}
    missing = [e for e in mix if e not in hold_ms]
    if missing:
        raise ValueError(f"the probe measured no hold time for {', '.join(missing)}")
    total = sum(mix.values())
    mean_ms = sum(mix[e] / total * hold_ms[e] for e in mix)
    return hold_ms, mean_ms, connections / (mean_ms / 1000)


def mix_from_k6_summary(path: Path) -> dict[str, float]:
    """Each endpoint's share of the requests k6 sent (its own summary, setup logins excluded)."""
    endpoints = json.loads(path.read_text())["endpoints"]
    total = sum(v["count"] for v in endpoints.values())
    return {e: v["count"] / total for e, v in endpoints.items() if v["count"]}


def calibrate(ctx: Context, out: Path, arm: Arm = SHARED) -> Calibration:
    """Run the probe against `arm` (the shared pool) into `out`; writes out/calibration.json."""
    out.mkdir(parents=True, exist_ok=True)
    profile, params = ctx.profile, ctx.lab
    print(f"[experiment] calibrating: {params.probe_rps} req/s for {profile.probe_s} s against {arm.label}",
          flush=True)
    run = RunLabels(ctx.run_id, "calibration", 1)
    queries = promql.RunQueries(run, params.database)
    with system_under_test(ctx, arm, run, out) as sut:
        for note in sut.notes:
            print(f"[experiment] calibration: {note}", flush=True)
        time.sleep(promql.SCRAPE_WAIT_S)  # a scrape after the warm-up: its requests are not the probe's
        before = time.time()
        probe = Rates(base_rps=params.probe_rps, burst_rps=params.probe_rps, source="probe")
        steady = {"BURSTS": "0", "WARMUP_S": str(profile.probe_s), "RECOVERY_S": "0"}
        result = procs.run(k6_argv(ctx, run, "--quiet"), timeout=profile.probe_s + 120, log_path=out / "k6.log",
                           env=k6_env(ctx, sut.service, out / "k6-summary.json", probe, **steady), check=False)
        time.sleep(promql.SCRAPE_WAIT_S)  # a scrape after the probe's last request
        after = time.time()
    if result.returncode not in (0, 99):
        raise RuntimeError(f"the calibration probe's k6 exited with {result.returncode}; see {out / 'k6.log'}")

    counts = probe_counts(ctx.prometheus, queries, before, after)
    (out / "probe-counts.json").write_text(json.dumps({"start": before, "end": after, "counts": counts}, indent=1))
    hold_s, requests = counts["hold_seconds"], counts["requests"]
    mix = mix_from_k6_summary(out / "k6-summary.json")
    hold_ms, mean_ms, capacity_rps = capacity(arm.pool_size, hold_s, requests, mix)
    errors = round(sum(requests.values()) - sum(counts["requests_2xx"].values()))
    calibration = Calibration(
        connections=arm.pool_size, probe_rps=params.probe_rps, probe_s=profile.probe_s,
        requests={e: round(n) for e, n in requests.items()}, errors=errors, mix=mix,
        hold_ms=hold_ms, mean_hold_ms=mean_ms, capacity_rps=capacity_rps,
    )
    (out / "calibration.json").write_text(json.dumps(calibration.to_dict(), indent=2))
    print(f"[experiment] calibration: a request holds a connection {mean_ms:.2f} ms on average "
          f"({', '.join(f'{e} {v:.2f} ms' for e, v in sorted(hold_ms.items()))}); "
          f"{arm.pool_size} connections serve at most {capacity_rps:.0f} req/s"
          + (f"; {errors} probe requests failed" if errors else ""), flush=True)
    return calibration
