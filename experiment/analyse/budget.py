"""The CPU budget: the database delay at which this machine can show the lesson with CPU to spare.

The acts' rates are multiples of the shared pool's capacity (calibrate.py), and the capacity is
set by how long a request holds a connection, which the latency proxy's delay sets: a longer
delay means a lower capacity, lower rates, and less CPU for k6, the service, the proxy and
Postgres to generate and serve the same lesson. On a fast machine 5 ms leaves room; on a slower
one, or in a container with a CPU quota, it does not, and the run measures the machine instead
of the pools (k6's latencies include its wait for CPU). So the lab picks the delay from what it
measures, on whatever it runs on:

1. The calibration probe runs in two steady stages (calibrate.py): a low rate, for the hold times,
   and a higher one; during both every role's CPU is sampled (cpu.py). Two rates give each role a
   line: CPU = fixed + per request x rate (`RoleCost`), so the fixed part (the recorder's
   screenshots, Prometheus's scrapes, k6's runtime) is not read as a cost per request.
2. For a delay, the capacity follows from the measured hold times: each endpoint's requests make a
   whole number of round trips to the database, each `2 x delay` long (`predicted_capacity`).
3. The bursts' CPU at that capacity x the profile's burst multiple, summed over the roles, must
   stay under `MAX_PLANNED_SHARE` of the usable CPU (cpulimit.py). The smallest delay in
   `DELAY_LADDER` (up to `max_delay_ms`, past which the lesson cannot show) that fits is probed
   for real, and the rates come from that probe's measured capacity; if the probe says it still
   does not fit, the next one is tried (`next_delay`).

The plan (`CpuPlan`) is printed before the acts and kept in config.json; the report shows each
role's predicted CPU in the bursts beside what it measured.
"""

from __future__ import annotations

from ..model.results import Calibration, CpuNumbers, CpuPlan, DelayTry, ProbeStage, RoleCost
from .cpuseries import MONITORING_GROUPS
from .verdict import STABLE_RATIO

# The planned bursts may use at most this share of the usable CPU. The trust check
# (verdict.MACHINE_BUSY_MAX) is 75% measured: the 15 points between are room for what the
# straight-line model leaves out (a burst's contention, the failures of Act I, the control's
# bigger pool) and for a machine that is a little busier during the acts than during the probe.
MAX_PLANNED_SHARE = 0.6
# The delays the plan may choose, one way, in ms: from the lab's 5 ms (a database in another zone)
# up to `max_delay_ms`. Finer steps at the bottom, where most machines land.
DELAY_LADDER = (5, 6, 7, 8, 10, 12, 14, 16, 20, 25, 30, 40, 50)
MAX_PROBES = 4  # probes at different delays before the plan gives up

__all__ = ["CpuPlan", "DelayTry", "ProbeStage", "RoleCost"]  # the plan's records live in results.py

# The roles the budget predicts, by the CPU groups they are made of (cpu.py). "rest" is what counts
# against the usable CPU beyond them: this runner, npm's wrapper processes, other people's work.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "k6": ("k6",), "service": ("service",), "postgres": ("postgres",), "proxy": ("proxy",),
    "ui": ("ui",), "recorder": ("recorder",), "monitoring": MONITORING_GROUPS,
}
REST = "rest"
# The roles that run only to record the UI (--no-record leaves them out).
RECORDING_ROLES = ("recorder", "ui")


def measured_in_bursts(cpu: CpuNumbers) -> dict[str, float | None]:
    """What each role of the budget used in a run's bursts (mean cores), "rest" included, and
    "total": what counted against the usable CPU (the whole machine in runs from before)."""
    by_role = {"k6": cpu.k6, "service": cpu.service, "postgres": cpu.postgres, "proxy": cpu.proxy, "ui": cpu.ui,
               "recorder": cpu.recorder, "monitoring": cpu.monitoring}
    measured = {role: use.burst_mean_cores if use else None for role, use in by_role.items()}
    total = (cpu.lab or cpu.machine).burst_mean_cores
    known = [v for v in measured.values() if v is not None]
    measured[REST] = None if total is None else max(0.0, total - sum(known))
    return measured | {"total": total}


def fit(low: ProbeStage, high: ProbeStage) -> dict[str, RoleCost]:
    """Each role's line through the two stages. A role whose CPU did not rise with the rate (the
    recorder, Prometheus) is all fixed cost; neither part is ever negative."""
    span = high.rate_rps - low.rate_rps
    if span <= 0:
        raise ValueError("the CPU stage of the probe must run faster than its hold stage")
    costs = {}
    for role in sorted(set(low.cores) | set(high.cores)):
        a, b = low.cores.get(role, 0.0), high.cores.get(role, 0.0)
        per_request = max(0.0, (b - a) / span)  # cores per (req/s) = seconds per request
        fixed = max(0.0, b - per_request * high.rate_rps)
        costs[role] = RoleCost(fixed_cores=round(fixed, 4), ms_per_request=round(per_request * 1000, 4))
    return costs


def predict(costs: dict[str, RoleCost], rate_rps: float) -> dict[str, float]:
    """Each role's cores at `rate_rps`."""
    return {role: round(cost.cores(rate_rps), 4) for role, cost in costs.items()}


def max_rate(costs: dict[str, RoleCost], cores: float) -> float:
    """The request rate at which the roles together are predicted to use `cores` (0: their fixed
    costs alone take it)."""
    per_request = sum(c.ms_per_request for c in costs.values()) / 1000
    fixed = sum(c.fixed_cores for c in costs.values())
    return max(0.0, (cores - fixed) / per_request) if per_request > 0 else 0.0


def round_trips(calibration: Calibration, delay_ms: int) -> dict[str, int]:
    """How many database round trips each endpoint's request makes, read off its hold time at
    `delay_ms` (a round trip is at least 2 x the delay; the rest is Postgres and the service)."""
    return {e: max(1, round(h / (2 * delay_ms))) for e, h in calibration.hold_ms.items()}


def predicted_capacity(calibration: Calibration, probed_delay_ms: int, delay_ms: int) -> float:
    """The shared pool's capacity at `delay_ms`, from a calibration at `probed_delay_ms`: each
    endpoint's hold time changes by its round trips x 2 x the change of delay."""
    if probed_delay_ms <= 0:
        return calibration.capacity_rps  # no proxy: nothing to scale
    trips = round_trips(calibration, probed_delay_ms)
    total = sum(calibration.mix.values())
    mean_ms = sum(share / total * (calibration.hold_ms[e] + 2 * trips[e] * (delay_ms - probed_delay_ms))
                  for e, share in calibration.mix.items() if e in calibration.hold_ms)
    return calibration.connections / (mean_ms / 1000)


def judge(delay_ms: int, calibration: Calibration, stages: list[ProbeStage], burst_x: float,
          usable_cpus: float, max_share: float = MAX_PLANNED_SHARE) -> DelayTry:
    """What one probe says: the roles' costs, the burst rate at this delay, the CPU it would take."""
    costs = fit(stages[0], stages[-1])
    burst = max(1, round(burst_x * calibration.capacity_rps))
    predicted = predict(costs, burst)
    total = round(sum(predicted.values()), 4)
    return DelayTry(delay_ms=delay_ms, calibration=calibration, stages=stages, costs=costs, burst_rps=burst,
                    predicted=predicted, predicted_total=total, fits=total <= max_share * usable_cpus)


def fixed_costs_note(last: DelayTry, usable_cpus: float, max_share: float = MAX_PLANNED_SHARE) -> str | None:
    """Why no delay can fit, when what runs besides the requests already takes the budget: no
    delay lowers the recorder's screenshots, the monitoring's scrapes or other people's work."""
    fixed = {role: cost.fixed_cores for role, cost in last.costs.items()}
    total = sum(fixed.values())
    if total <= max_share * usable_cpus:
        return None
    worst = max(fixed, key=lambda role: fixed[role])
    return (f"what runs whatever the rate already takes {total:.2f} cores of a {max_share * usable_cpus:.2f}-core "
            f"budget ({worst} {fixed[worst]:.2f}" + ("; rest is this runner and everything else the machine ran"
                                                     if worst == REST else "") + ")")


def max_delay_ms(acquire_timeout_ms: int) -> float:
    """The longest delay at which the lesson can still be told. Act I's read p95 cannot go far past
    the pool's acquire timeout (a read that waits that long gets a 503), and every read of Act III
    takes at least one round trip, 2 x the delay: past acquire timeout / (2 x verdict.STABLE_RATIO)
    Act III's reads could not be STABLE_RATIO times faster than Act I's whatever the pools did
    (500 ms / 20 = 25 ms)."""
    return acquire_timeout_ms / (2 * STABLE_RATIO)


def next_delay(last: DelayTry, burst_x: float, usable_cpus: float, acquire_timeout_ms: int,
               max_share: float = MAX_PLANNED_SHARE) -> int | None:
    """The smallest delay of the ladder above `last`'s, up to `max_delay_ms`, at which its costs
    predict the bursts fit; None when none does."""
    return _smallest_fitting_delay(last, burst_x, max_share * usable_cpus, acquire_timeout_ms, above_ms=last.delay_ms)


def without_recording_note(last: DelayTry, burst_x: float, usable_cpus: float, acquire_timeout_ms: int,
                           max_share: float = MAX_PLANNED_SHARE) -> str | None:
    """When the bursts fit at no delay with the UI recording but would without it: which delay,
    and what the recording costs there (the recorder and the UI server cost the same whatever
    the delay, so a small machine can have the lesson or its recording with room, not both)."""
    if not any(role in last.costs for role in RECORDING_ROLES):
        return None
    delay = _smallest_fitting_delay(last, burst_x, max_share * usable_cpus, acquire_timeout_ms, leave_out=RECORDING_ROLES)
    if delay is None:
        return None
    burst = burst_x * predicted_capacity(last.calibration, last.delay_ms, delay)
    recording = sum(cores for role, cores in predict(last.costs, burst).items() if role in RECORDING_ROLES)
    return (f"without the UI recording (the recorder and the UI server: {recording:.2f} cores) the bursts are "
            f"predicted to fit at {delay} ms: --no-record")


def _smallest_fitting_delay(last: DelayTry, burst_x: float, budget_cores: float, acquire_timeout_ms: int,
                            above_ms: int = 0, leave_out: tuple[str, ...] = ()) -> int | None:
    """The smallest delay of the ladder above `above_ms`, up to `max_delay_ms`, at which `last`'s
    costs, less the roles left out, predict the bursts in `budget_cores`."""
    for delay in DELAY_LADDER:
        if delay <= above_ms or delay > max_delay_ms(acquire_timeout_ms):
            continue
        burst = burst_x * predicted_capacity(last.calibration, last.delay_ms, delay)
        if sum(cores for role, cores in predict(last.costs, burst).items() if role not in leave_out) <= budget_cores:
            return delay
    return None
