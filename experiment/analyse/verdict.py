"""The expected signs of the story, each checked against the data with a stated threshold.

A verdict is honest: "yes", "no", or "n/a" when the data to judge is missing. With several repeats
each repeat is judged alone and the verdict says in how many repeats the sign held.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..model.fmt import cores_unit as _cores
from ..model.fmt import ms_tenths as _ms
from ..model.fmt import num as _num
from ..model.fmt import pct_fixed as _pct
from ..model.results import Headline, RepeatVerdict, VerdictSummary

# Thresholds, stated in the report next to each verdict.
SPIKE_RATIO = 3.0  # read p95 during bursts >= this x read p95 before the first burst ...
SPIKE_MIN_MS = 50.0  # ... and at least this many ms
READ_ERROR_RATE_MIN = 0.01  # "errors on reads": at least 1% of GET /todos failed
CPU_MAX_SHARE = 0.5  # "CPU stays low": the service's busiest second used <= 50% of all cores
TASKS_RATIO = 2.0  # "tasks rise": peak tokio_alive_tasks >= this x the pre-burst median
STABLE_RATIO = 10.0  # "reads stabilise": Act III burst read p95 <= Act I's / this ...
STABLE_MAX_ERROR_RATE = 0.0  # ... with no read errors at all
WRITE_DEGRADE_RATIO = 1.1  # "writes may degrade": Act III burst write p95 > Act I's x this
DROPPED_MAX = 0.01  # "k6 offered the planned load": under 1% of iterations dropped, in every arm
MACHINE_BUSY_MAX = 0.75  # mean CPU in the bursts below this share of the cores (each side's, when pinned)
CLIENT_SERVER_MAX_RATIO = 2.0  # k6's burst read p95 within this factor of the service's own, else contaminated
MONITORING_MAX_CORES = 0.05  # Prometheus and its exporter: under 5% of a core on average, in every arm

# The trust checks: verdicts on the measurement itself, not on the story. When one fails, the
# expected signs were judged on numbers that may measure the machine or k6 too. They are marked
# here, by key, and nowhere else: `--check` exits with a code of their own (cli.py) and
# verdicts.xml files them apart (junit.py). A new trust check adds its key here.
TRUST_CHECKS = frozenset({"cpu_to_spare", "client_measures_service", "load_offered", "monitoring_is_small"})


@dataclass(frozen=True)
class Verdict:
    key: str
    sign: str  # the expected sign, in words
    threshold: str  # how it is judged
    holds: bool | None  # None: could not judge
    evidence: str  # the numbers
    optional: bool = False  # a "may" sign: either answer is fine

    @property
    def word(self) -> str:
        return {True: "yes", False: "no", None: "n/a"}[self.holds]

    @property
    def trust(self) -> bool:
        """A trust check (TRUST_CHECKS) rather than an expected sign of the story."""
        return self.key in TRUST_CHECKS


def judge(arms: dict[str, Headline], cores: float) -> list[Verdict]:
    """Judge one repeat. `arms` maps arm key ("shared", "isolated", "shared-3x") to its headline;
    `cores` is the CPU the lab may use (cpulimit.py; the machine's cores in runs from before)."""
    shared, isolated = arms.get("shared"), arms.get("isolated")
    verdicts = []

    if shared:
        burst, calm = shared.read.burst_p95_ms, shared.read.baseline_p95_ms
        holds = None if burst is None or calm is None else burst >= SPIKE_RATIO * calm and burst >= SPIKE_MIN_MS
        verdicts.append(Verdict(
            "read_p95_spikes_act1", "Act I: GET /todos p95 spikes during bursts",
            f"burst p95 >= {SPIKE_RATIO:g}x the p95 before the first burst, and >= {SPIKE_MIN_MS:g} ms", holds,
            f"burst p95 {_ms(burst)} vs {_ms(calm)} before the bursts"))

        rate = shared.read.error_rate
        verdicts.append(Verdict(
            "read_errors_act1", "Act I: reads fail (503 database_busy or timeouts)",
            f"read error rate >= {_pct(READ_ERROR_RATE_MIN)}",
            None if not shared.read.count else rate >= READ_ERROR_RATE_MIN,
            f"{shared.read.errors} of {shared.read.count} GET /todos failed ({_pct(rate)})"))

        peak = shared.cpu.service.peak_cores
        pg_peak = shared.cpu.postgres.peak_cores
        # Pinned, the service can use only its side's CPUs: judge it against those.
        own = (shared.cpu.sut_side.cpus if shared.cpu.sut_side else None) or cores
        verdicts.append(Verdict(
            "cpu_low_act1", "Act I: the service's CPU stays low: it is waiting, not working",
            f"service's busiest second <= {CPU_MAX_SHARE:.0%} of the {_num(own)} cores it may use",
            None if peak is None else peak <= CPU_MAX_SHARE * own,
            f"service peak {_cores(peak)}, mean {_cores(shared.cpu.service.mean_cores)}; "
            f"Postgres peak {_cores(pg_peak)}; {_num(own)} usable cores for the service"))

        waiters, timeouts = shared.pool.max_waiters, shared.pool.acquire_timeouts
        verdicts.append(Verdict(
            "pool_exhausted_act1", "Act I: the pool is exhausted",
            "max db_pool_waiters > 0 or db_pool_acquire_timeouts_total > 0",
            None if waiters is None and timeouts is None else (waiters or 0) > 0 or (timeouts or 0) > 0,
            f"max waiters {_num(waiters)}, acquire timeouts {_num(timeouts)}"))

        base, peak_tasks = shared.tasks.baseline, shared.tasks.peak
        verdicts.append(Verdict(
            "tasks_rise_act1", "Act I: tokio tasks pile up during bursts",
            f"peak tokio_alive_tasks >= {TASKS_RATIO:g}x the median before the first burst",
            None if base is None or peak_tasks is None else peak_tasks >= TASKS_RATIO * max(base, 1.0),
            f"peak {_num(peak_tasks)} vs baseline {_num(base)} (every open HTTP connection is a task; k6 opens "
            f"one per request, so waiting requests are waiting tasks)"))

        base_f, peak_f = shared.in_flight.baseline, shared.in_flight.peak
        verdicts.append(Verdict(
            "requests_pile_up_act1", "Act I: requests in flight pile up during bursts",
            f"peak http_requests_in_flight >= {TASKS_RATIO:g}x the median before the first burst",
            None if base_f is None or peak_f is None else peak_f >= TASKS_RATIO * max(base_f, 1.0),
            f"peak {_num(peak_f)} vs baseline {_num(base_f)}"))

    if shared and isolated:
        s_burst, i_burst = shared.read.burst_p95_ms, isolated.read.burst_p95_ms
        i_rate = isolated.read.error_rate
        holds = (None if s_burst is None or i_burst is None or not isolated.read.count
                 else i_rate <= STABLE_MAX_ERROR_RATE and i_burst <= s_burst / STABLE_RATIO)
        verdicts.append(Verdict(
            "reads_stable_act3", "Act III: reads stay stable with per-endpoint pools",
            f"no read errors and burst read p95 <= Act I's / {STABLE_RATIO:g}", holds,
            f"burst read p95 {_ms(i_burst)} (Act I {_ms(s_burst)}), read errors {isolated.read.errors} "
            f"({_pct(i_rate)}); server-side burst read p95 {_ms(isolated.read.server_burst_p95_ms)} "
            f"(Act I {_ms(shared.read.server_burst_p95_ms)})"))

        s_srv, i_srv = shared.read.server_burst_p95_ms, isolated.read.server_burst_p95_ms
        verdicts.append(Verdict(
            "reads_fast_server_side_act3", "Act III: the service itself answers reads fast during bursts",
            f"server-side burst read p95 (service histogram) <= Act I's / {STABLE_RATIO:g}",
            None if s_srv is None or i_srv is None else i_srv <= s_srv / STABLE_RATIO,
            f"server-side burst read p95 {_ms(i_srv)} (Act I {_ms(s_srv)}); the client-side number also holds "
            f"the time k6 waited for CPU on the same machine"))

        s_w, i_w = shared.write.burst_p95_ms, isolated.write.burst_p95_ms
        s_we, i_we = shared.write.error_rate, isolated.write.error_rate
        holds = None if s_w is None or i_w is None else i_w > WRITE_DEGRADE_RATIO * s_w or i_we > s_we
        verdicts.append(Verdict(
            "writes_degrade_act3", "Act III: writes may degrade (they now queue only behind writes)",
            f"burst write p95 > {WRITE_DEGRADE_RATIO:g}x Act I's, or a higher write error rate", holds,
            f"burst write p95 {_ms(i_w)} (Act I {_ms(s_w)}), write errors {_pct(i_we)} (Act I {_pct(s_we)})",
            optional=True))

    verdicts += _cpu_to_spare(arms, cores)
    verdicts += _client_measures_service(arms)
    verdicts += _monitoring_is_small(arms)

    dropped = [(k, h.dropped_iterations, h.requests) for k, h in arms.items()]
    dropped = [(k, d, n) for k, d, n in dropped if d is not None and n]
    if dropped:
        verdicts.append(Verdict(
            "load_offered", "k6 offered the planned load (it had a free VU for every arrival)",
            f"dropped_iterations < {DROPPED_MAX:.0%} of requests in every arm",
            all(d / (n + d) < DROPPED_MAX for _, d, n in dropped),
            ", ".join(f"{k} {d:g} dropped of {n + d:g} ({_pct(d / (n + d))})" for k, d, n in dropped)))

    control = arms.get("shared-3x")
    if control and isolated:
        c_burst, i_burst = control.read.burst_p95_ms, isolated.read.burst_p95_ms
        c_rate, i_rate = control.read.error_rate, isolated.read.error_rate
        holds = None if c_burst is None or i_burst is None else i_burst <= c_burst and i_rate <= c_rate
        verdicts.append(Verdict(
            "boundaries_beat_power", "Control: 3x the connections in one pool does not beat boundaries",
            "Act III burst read p95 <= control's, and read error rate <= control's", holds,
            f"control burst read p95 {_ms(c_burst)}, errors {_pct(c_rate)}; Act III {_ms(i_burst)}, "
            f"errors {_pct(i_rate)}; control Postgres CPU peak {_cores(control.cpu.postgres.peak_cores)}",
            optional=True))
    return verdicts


def _cpu_to_spare(arms: dict[str, Headline], cores: float) -> list[Verdict]:
    """Whether the bursts left CPU to spare: per side when the run was pinned (cpusets.py), else
    the lab's use of the CPU it may use (cpulimit.py: its cgroup's processes under a quota, its
    CPUs otherwise; the whole machine in runs from before). A saturated side makes latencies
    include waiting for CPU."""
    pinned = all(h.cpu.pinned for h in arms.values())
    groups = ((lambda c: c.sut_side, "the system under test's CPUs"), (lambda c: c.load_side, "the load side's CPUs")) \
        if pinned else ((lambda c: c.lab or c.machine, "the lab"),)
    worst_share, parts = 0.0, []
    for group, words in groups:
        shares = []
        for key, h in arms.items():
            use = group(h.cpu)
            mean = use.burst_mean_cores if use else None
            n = use.cpus if use and use.cpus is not None else cores
            if mean is not None:
                shares.append(mean / n)
                throttled = h.cpu.throttled.burst_mean_cores if h.cpu.throttled and not pinned else None
                parts.append(f"{words} in {key}: {_cores(mean)} of {_num(n)}"
                             + (f" (its CPU quota held it back {throttled:.2f} s per second)" if throttled else ""))
        worst_share = max([worst_share, *shares])
    if not parts:
        return []
    where = "each side's CPUs (pinned apart)" if pinned else f"the {_num(cores)} usable cores"
    return [Verdict(
        "cpu_to_spare", "The CPU had room to spare during the bursts (else latency includes waiting for CPU)",
        f"mean CPU during the bursts < {MACHINE_BUSY_MAX:.0%} of {where}, in every arm",
        worst_share < MACHINE_BUSY_MAX, "; ".join(parts))]


def _monitoring_is_small(arms: dict[str, Headline]) -> list[Verdict]:
    """Whether watching the run (Prometheus scraping every second, the Postgres exporter, k6's
    remote writes arriving) stayed small next to what it watches. Not judged for runs from before
    the monitoring was sampled."""
    means = {key: h.cpu.monitoring.mean_cores for key, h in arms.items() if h.cpu.monitoring}
    if not means:
        return []
    judged = [m for m in means.values() if m is not None]
    return [Verdict(
        "monitoring_is_small", "The monitoring stayed small (Prometheus and its Postgres exporter)",
        f"their mean CPU over the run < {MONITORING_MAX_CORES:g} cores, in every arm",
        None if len(judged) < len(means) else all(m < MONITORING_MAX_CORES for m in judged),
        "; ".join(f"{key}: {_cores(None) if m is None else f'{m:.3f} cores'} mean" for key, m in means.items()))]


def _client_measures_service(arms: dict[str, Headline]) -> list[Verdict]:
    """k6's burst read p95 against the service's own: far apart, k6 measured something else too
    (its own wait for CPU, most often), and the run is contaminated."""
    ratios = [(key, h.read.client_server_ratio, h.read.burst_p95_ms, h.read.server_burst_p95_ms)
              for key, h in arms.items()]
    unchecked = [key for key, r, _, _ in ratios if r is None]
    measured = [r for r in ratios if r[1] is not None]
    ok = all(1 / CLIENT_SERVER_MAX_RATIO <= r <= CLIENT_SERVER_MAX_RATIO for _, r, _, _ in measured)
    return [Verdict(
        "client_measures_service", "k6 measured the service, not itself (else the run is contaminated)",
        f"k6's burst read p95 within {CLIENT_SERVER_MAX_RATIO:g}x of the service's own, in every arm",
        None if unchecked and ok else ok,
        "; ".join([f"{key}: k6 {_ms(c)} vs service {_ms(srv)} ({r:.2f}x)" for key, r, c, srv in measured]
                  + [f"{key}: no server-side p95 to compare with (unchecked)" for key in unchecked]))]


def combine(per_repeat: list[list[Verdict]]) -> list[VerdictSummary]:
    """One verdict per sign over all repeats: yes if it held in every judged repeat, no if in none,
    'mixed' otherwise; evidence from each repeat, and each repeat's own judgement."""
    by_key: dict[str, list[tuple[int, Verdict]]] = {}
    for repeat, verdicts in enumerate(per_repeat, 1):
        for v in verdicts:
            by_key.setdefault(v.key, []).append((repeat, v))
    combined = []
    for pairs in by_key.values():
        vs = [v for _, v in pairs]
        judged = [v for v in vs if v.holds is not None]
        held = sum(1 for v in judged if v.holds)
        if not judged:
            word = "n/a"
        elif held == len(judged):
            word = "yes"
        elif held == 0:
            word = "no"
        else:
            word = "mixed"
        first = vs[0]
        evidence = first.evidence if len(vs) == 1 else " | ".join(f"rep {n}: {v.evidence}" for n, v in pairs)
        combined.append(VerdictSummary(key=first.key, sign=first.sign, threshold=first.threshold, holds=first.holds,
                                       evidence=evidence, optional=first.optional, verdict=word, held_in=held,
                                       judged=len(judged), trust=first.trust,
                                       repeats=[RepeatVerdict(n, v.holds, v.evidence) for n, v in pairs]))
    return combined


class Outcome(StrEnum):
    """A judgement as the outcome of a test (verdicts.xml, `--check`)."""

    PASSED = "passed"  # the sign held
    FAILED = "failed"  # it did not hold
    ERROR = "error"  # it could not be judged: the data to judge it is missing
    SKIPPED = "skipped"  # a *may* sign that did not hold or could not be judged: either answer is fine


def outcome(holds: bool | None, optional: bool) -> Outcome:
    if holds:
        return Outcome.PASSED
    if optional:
        return Outcome.SKIPPED
    return Outcome.FAILED if holds is False else Outcome.ERROR


def failing(verdicts: list[VerdictSummary]) -> list[VerdictSummary]:
    """The verdicts that fail a run under `--check`: a sign that is not a *may* and, in some
    repeat, did not hold or could not be judged (a gate passes only on what was shown)."""
    return [v for v in verdicts
            if any(outcome(r.holds, v.optional) in (Outcome.FAILED, Outcome.ERROR) for r in v.repeats)]
