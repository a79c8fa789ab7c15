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

The probe has two steady stages: the hold times come from the first, at `LabParams.probe_rps`; a
second at `CPU_STAGE_X` of the capacity just measured gives every role's CPU a second point, so
the CPU budget (budget.py) can tell each role's cost per request from its fixed cost. During both
the CPU of every role is sampled as in the acts (cpu.jsonl), the UI recorded when the acts will be.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..analyse import cpuseries, promql
from ..analyse.budget import REST, ROLE_GROUPS, ProbeStage
from ..model.labels import RunLabels
from ..model.profiles import SHARED, Arm, Rates
from ..model.results import Calibration
from . import cpu as cpu_mod
from . import procs, runner
from .monitoring import Prometheus
from .runner import Context, system_under_test

# The CPU stage's rate, as a share of the capacity the hold stage measured: under it (the pool
# must not queue, or waiting would be read as cost), and as near the bursts' 1.3x as that allows:
# CPU per request falls as the rate rises (work is batched per wakeup), so a line through a point
# far below the bursts predicts them too dear (a stage at 0.5x predicted the probed roles 1.6-1.8x
# what the bursts then used; 2026-12-06, quick profile, /tmp runs on a busy machine).
CPU_STAGE_X = 0.8
# The CPU is averaged over a stage's steady part: its first seconds (k6's setup logins, VUs
# starting) and its last second are left out.
STAGE_SETTLE_S = 3


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


def endpoint_counts(summary: Path) -> dict[str, int]:
    """The requests k6 sent per endpoint, from its own summary (setup logins excluded)."""
    return {e: v["count"] for e, v in json.loads(summary.read_text())["endpoints"].items()}


def mix_from_k6_summary(path: Path) -> dict[str, float]:
    """Each endpoint's share of the requests k6 sent."""
    counts = endpoint_counts(path)
    total = sum(counts.values())
    return {e: n / total for e, n in counts.items() if n}


def calibrate(ctx: Context, out: Path, arm: Arm = SHARED) -> tuple[Calibration, list[ProbeStage]]:
    """Run the probe against `arm` (the shared pool) at `ctx.lab.delay_ms` into `out`; writes
    out/calibration.json. Returns the calibration and the CPU of its two stages."""
    out.mkdir(parents=True, exist_ok=True)
    profile, params = ctx.profile, ctx.lab
    print(f"[experiment] calibrating at {params.delay_ms} ms: {params.probe_rps} req/s for {profile.probe_s} s "
          f"against {arm.label}, then a CPU stage", flush=True)
    run = RunLabels(ctx.run_id, "calibration", 1)
    queries = promql.RunQueries(run, params.database)
    with system_under_test(ctx, arm, run, out) as sut:
        for note in sut.notes:
            print(f"[experiment] calibration: {note}", flush=True)
        cpu = runner.start_cpu_sampler(ctx, sut, out / "cpu.jsonl")
        try:
            recording = runner.start_recording(ctx, sut.children, sut.service, out, cpu, load_s=3 * profile.probe_s)
            time.sleep(promql.SCRAPE_WAIT_S)  # a scrape after the warm-up: its requests are not the probe's
            hold_stage = _stage(ctx, sut, run, cpu, out, "hold", params.probe_rps)
            counts = probe_counts(ctx.prometheus, queries, hold_stage.start, hold_stage.end)
            hold_s, requests = counts["hold_seconds"], counts["requests"]
            mix = mix_from_k6_summary(out / "k6-summary.json")
            hold_ms, mean_ms, capacity_rps = capacity(arm.pool_size, hold_s, requests, mix)
            cpu_rps = max(2 * params.probe_rps, round(CPU_STAGE_X * capacity_rps))
            cpu_stage = _stage(ctx, sut, run, cpu, out, "cpu", cpu_rps)
            if recording.recorder:
                runner.finish_recording(recording)
        finally:
            cpu.stop()

    (out / "probe-counts.json").write_text(json.dumps({"start": hold_stage.start, "end": hold_stage.end,
                                                       "counts": counts}, indent=1))
    errors = round(sum(requests.values()) - sum(counts["requests_2xx"].values()))
    calibration = Calibration(
        connections=arm.pool_size, probe_rps=params.probe_rps, probe_s=profile.probe_s,
        requests={e: round(n) for e, n in requests.items()}, errors=errors, mix=mix,
        hold_ms=hold_ms, mean_hold_ms=mean_ms, capacity_rps=capacity_rps, delay_ms=params.delay_ms,
    )
    calibration.save(out / "calibration.json")
    samples = cpuseries.load_samples(out / "cpu.jsonl")
    stages = [_stage_cpu(samples, stage, ctx.usable is not None) for stage in (hold_stage, cpu_stage)]
    print(f"[experiment] calibration at {params.delay_ms} ms: a request holds a connection {mean_ms:.2f} ms on average "
          f"({', '.join(f'{e} {v:.2f} ms' for e, v in sorted(hold_ms.items()))}); "
          f"{arm.pool_size} connections serve at most {capacity_rps:.0f} req/s"
          + (f"; {errors} probe requests failed" if errors else ""), flush=True)
    return calibration, stages


@dataclass(frozen=True)
class _Stage:
    """One steady stage of the probe as it ran: its rate and when k6's scenarios ran (unix s)."""

    name: str
    rate_rps: float  # the rate k6 sent at (planned, less the iterations it dropped: `sent_rate`)
    start: float
    end: float


def _stage(ctx: Context, sut: runner.SystemUnderTest, run: RunLabels, cpu: cpu_mod.CpuSampler, out: Path,
           name: str, rate_rps: int) -> _Stage:
    """k6 at a steady `rate_rps` for the profile's probe_s, its CPU tracked as "k6". The hold
    stage keeps the old file names (k6-summary.json, k6.log); the CPU stage is k6-cpu-*."""
    profile = ctx.profile
    prefix = "k6" if name == "hold" else f"k6-{name}"
    rates = Rates(base_rps=rate_rps, burst_rps=rate_rps, source="probe")
    steady = {"BURSTS": "0", "WARMUP_S": str(profile.probe_s), "RECOVERY_S": "0"}
    with procs.Processes() as children:
        k6 = children.start(f"k6 ({name} stage)", ctx.k6.argv(run, "--quiet"), out / f"{prefix}.log",
                            env=ctx.k6.env(sut.service.base_url, out / f"{prefix}-summary.json", rates, **steady))
        cpu.track("k6", k6.pid)
        try:
            code = k6.proc.wait(timeout=profile.probe_s + 120)
        except subprocess.TimeoutExpired:
            code = None
        end = time.time()
    time.sleep(promql.SCRAPE_WAIT_S)  # a scrape after the stage's last request
    if code not in (0, 99):
        raise RuntimeError(f"the calibration probe's k6 ({name} stage) exited with {code}; see {out / f'{prefix}.log'}")
    sent = sent_rate(out / f"{prefix}-summary.json", profile.probe_s, rate_rps)
    return _Stage(name, sent, start=end - profile.probe_s, end=end)


def sent_rate(summary: Path, seconds: float, planned_rps: float) -> float:
    """The rate a steady stage's k6 sent at, from its summary: what it planned, or less when the
    machine could not keep up (k6 dropped iterations). Each role's CPU is a line through the rates
    really served, so a stage that ran the machine dry does not make requests look cheap."""
    return round(min(planned_rps, sum(endpoint_counts(summary).values()) / seconds), 1)


def _stage_cpu(samples: list[dict], stage: _Stage, with_lab: bool) -> ProbeStage:
    """Each budget role's mean cores over the steady part of `stage`, and "rest": what counts
    against the usable CPU beyond the roles (sampled as "lab" since the lab knows its usable CPU)."""
    start, end = stage.start + STAGE_SETTLE_S, stage.end - 1
    cores = {role: cpuseries.mean_cores(samples, groups, start, end) or 0.0 for role, groups in ROLE_GROUPS.items()}
    lab = cpuseries.mean_cores(samples, ["lab"], start, end) if with_lab else None
    if lab is not None:
        cores[REST] = max(0.0, lab - sum(cores.values()))
    return ProbeStage(rate_rps=stage.rate_rps, cores={r: round(c, 4) for r, c in cores.items()},
                      seconds=round(end - start, 1))
