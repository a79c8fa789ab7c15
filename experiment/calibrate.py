"""Calibration: what the shared pool can serve on this machine, measured before the acts.

The acts' rates are multiples of this capacity (profiles.py), so the same command asks the same of
the pool at any database delay and on any machine, instead of rates tuned by hand for one box.

How: a fresh database and the Act I service (one shared pool), then a short, steady k6 load well
under capacity (`LabParams.probe_rps`, the acts' request mix). The service's histogram
`db_pool_connection_hold_seconds{pool,endpoint}` says how long each request held a connection
(from acquire to release, the time HikariCP calls usage; waiting is not included). By Little's
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
from pathlib import Path

from . import procs, prom, sampler
from .monitoring import RunLabels
from .profiles import SHARED, Arm, Rates
from .results import Calibration
from .runner import Context, k6_argv, k6_env, system_under_test

HOLD = "db_pool_connection_hold_seconds"


def hold_by_endpoint(before: dict[str, float], after: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(hold seconds, requests) per endpoint between two scrapes of the service's /metrics."""
    def delta(name: str) -> dict[str, float]:
        end = prom.by_label(after, name, "endpoint")
        start = prom.by_label(before, name, "endpoint")
        return {e: v - start.get(e, 0.0) for e, v in end.items()}

    return delta(f"{HOLD}_sum"), delta("http_requests_total")


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
    with system_under_test(ctx, arm, run, out) as sut:
        metrics_url = sut.service.metrics_url + "/metrics"
        before = sampler.scrape(metrics_url)
        probe = Rates(base_rps=params.probe_rps, burst_rps=params.probe_rps, source="probe")
        steady = {"BURSTS": "0", "WARMUP_S": str(profile.probe_s), "RECOVERY_S": "0"}
        result = procs.run(k6_argv(ctx, run, "--quiet"), timeout=profile.probe_s + 120, log_path=out / "k6.log",
                           env=k6_env(ctx, sut.service, out / "k6-summary.json", probe, **steady), check=False)
        after = sampler.scrape(metrics_url)
    (out / "metrics-before.json").write_text(json.dumps(before, indent=1))
    (out / "metrics-after.json").write_text(json.dumps(after, indent=1))
    if result.returncode not in (0, 99):
        raise RuntimeError(f"the calibration probe's k6 exited with {result.returncode}; see {out / 'k6.log'}")

    hold_s, requests = hold_by_endpoint(before, after)
    mix = mix_from_k6_summary(out / "k6-summary.json")
    hold_ms, mean_ms, capacity_rps = capacity(arm.pool_size, hold_s, requests, mix)
    ok = prom.by_label(after, "http_requests_total", "endpoint", status_class="2xx")
    ok_before = prom.by_label(before, "http_requests_total", "endpoint", status_class="2xx")
    errors = round(sum(requests.values()) - sum(ok.get(e, 0.0) - ok_before.get(e, 0.0) for e in ok))
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
