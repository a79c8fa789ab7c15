"""The sweep (`--sweep`): where each design breaks as the load grows.

The acts measure one point, bursts at 1.3x the shared pool's capacity. The sweep runs each arm
once with bursts at a series of multiples of that capacity (a sweep profile's `steps`, one burst
per step, in order: load/shape.json), in one or two regimes (`Regime`): the database with room
(the CPU budget picks the delay, as for the acts), and the database at its own limit (the lab's
Postgres under a CPU quota, a short delay, so the database and not the network bounds throughput).

Per regime:

1. The calibration and the CPU budget as for the acts (cli.plan_delay). `plan_steps` asks the
   budget's straight lines (budget.predict) what every step would cost: a step predicted over
   `STEP_CPU_SHARE` of the usable CPU (the acts' trust limit) is "not measurable here" and k6
   does not run it (with --force it does, drawn hollow).
2. One k6 run per arm whose bursts are the measurable steps (`run_profile`).
3. `analyse_arm`: per step, over its steady part (ramps left out) and the requests k6 started in
   it, the offered, sent and answered (2xx) rates (sent short of offered: iterations k6 dropped),
   the read p95 on both sides, read and write errors, the most waiters, each role's CPU, and the
   acts' trust checks; a step that fails one keeps its numbers and names it.
4. Knees: predicted by Little's law from the calibration (`predicted_knee`), measured as the first
   step past `KNEE_READ_ERRORS` or `KNEE_P95_X` x the calm read p95 (`knee`).

The results folder holds one folder per regime (a results folder of its own: config.json with its
`SweepPlan`, calibration/, arms/<arm>/rep-1/); `build` reads them into the `SweepSummary`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..model.fmt import ms, pct
from ..model.profiles import ARMS_BY_KEY, Arm, Profile, Rates
from ..model.results import (
    Calibration,
    CpuPlan,
    Knee,
    Machine,
    PlannedStep,
    Regime,
    RunConfig,
    RunRecord,
    StepNumbers,
    SweepArm,
    SweepPlan,
    SweepRegime,
    SweepStep,
    SweepSummary,
    k6_processes_of,
)
from ..model.shape import LIST, WRITES
from . import budget, cpuseries, promql, stats, verdict
from .analysis import stored_queries

# A step past either is past the knee: more than 1% of reads failed (the acts' "errors on reads"),
# or the reads' p95 over 5x what it was in the calm before the first step.
KNEE_READ_ERRORS = verdict.READ_ERROR_RATE_MIN
KNEE_P95_X = 5.0
# A step whose predicted CPU is over this share of the usable CPU is not run: its numbers would
# fail the trust check the acts use (verdict.MACHINE_BUSY_MAX). Looser than the plan's 60% on
# purpose: the sweep is meant to go past the acts' point.
STEP_CPU_SHARE = verdict.MACHINE_BUSY_MAX
# Two read p95s within this share of each other are "about as fast" in the finding: one run per
# arm and step, on a shared machine, does not tell 5% apart.
SAME_P95 = 0.1

ROOM = Regime(key="room", title="the database with room", db_cpu=None, delay_ms=None)
# The database at its own limit: Postgres under a CPU quota, and a 2 ms delay, so a connection's
# hold time is mostly the database's own work and the shared pool's capacity (Little's law) is far
# above what the quota lets Postgres serve: the database, not the pool or the network, bounds
# throughput. The quota is chosen per machine (`database_limit`), unless --db-cpu gives it.
DB_LIMITED = Regime(key="db-limited", title="the database at its own limit", db_cpu=None, delay_ms=2)
REGIMES = {r.key: r for r in (ROOM, DB_LIMITED)}
# The chosen quota lets Postgres serve 1/DB_REACH of the highest rate this machine can offer
# cleanly (STEP_CPU_SHARE of the usable CPU, by the CPU budget's lines): the steps up to
# DB_REACH x the database's capacity can then be measured, so the sweep sees past its limit.
DB_REACH = 2.2
# The smallest quota asked for (a cgroup quota must be at least 1 ms per 100 ms period).
DB_CPU_MIN = 0.02

# The roles whose CPU each step reports, by the cpu.jsonl groups they are made of ("k6" is all of
# its processes' groups, added at the call); "lab" counts against the usable CPU (cpulimit.py),
# "machine" stands in for it in runs that have no "lab".
STEP_ROLES = ("service", "postgres", "proxy", "k6", "lab")


def holds_database(regime: Regime) -> bool:
    """Whether the regime runs Postgres under a CPU quota."""
    return regime.key == DB_LIMITED.key


def limited(regime: Regime, db_cpu: float | None, delay_ms: int | None) -> Regime:
    """The db-limited regime with the command line's quota and delay, where given."""
    return dataclasses.replace(regime, db_cpu=db_cpu if db_cpu is not None else regime.db_cpu,
                               db_cpu_source="--db-cpu" if db_cpu is not None else regime.db_cpu_source,
                               delay_ms=delay_ms if delay_ms is not None else regime.delay_ms)


def database_limit(regime: Regime, plan: CpuPlan, usable_cpus: float) -> Regime:
    """The db-limited regime with its quota and the database's capacity in it, from the
    calibration (run without the quota, so Postgres's CPU per request is its own and not the
    quota's): the quota given (--db-cpu), or chosen so that Postgres can serve 1/DB_REACH of the
    highest rate the CPU budget says this machine can offer cleanly."""
    chosen = plan.chosen
    assert chosen is not None
    postgres = chosen.costs["postgres"]
    per_request = postgres.ms_per_request / 1000
    if per_request <= 0:
        raise ValueError("the calibration measured no Postgres CPU per request: no quota can be sized from it")
    db_cpu, source = regime.db_cpu, regime.db_cpu_source
    if db_cpu is None:
        reach = budget.max_rate(chosen.costs, STEP_CPU_SHARE * usable_cpus)
        db_cpu = max(DB_CPU_MIN, round(postgres.fixed_cores + per_request * reach / DB_REACH, 3))
        source = "chosen"
    capacity = max(1.0, (db_cpu - postgres.fixed_cores) / per_request)
    return dataclasses.replace(regime, db_cpu=db_cpu, db_capacity_rps=round(capacity, 1), db_cpu_source=source)


def capacity_of(regime: Regime, calibration: Calibration) -> float:
    """What the regime's steps are multiples of: the shared pool's capacity, or the database's
    when that is lower."""
    pool = calibration.capacity_rps
    return min(pool, regime.db_capacity_rps) if regime.db_capacity_rps else pool


def plan_steps(profile: Profile, rates: Rates, plan: CpuPlan | None, usable_cpus: float, regime: Regime,
               force: bool = False) -> SweepPlan:
    """Every step of `profile` at `rates`, each judged by the chosen probe's CPU costs: over
    `STEP_CPU_SHARE` x `usable_cpus` it is not measurable here (run only with `force`). Without a
    probe (explicit rates) every step is run: nothing predicts their cost."""
    assert profile.steps is not None and rates.step_rps is not None
    limit = STEP_CPU_SHARE * usable_cpus
    chosen = plan.chosen if plan else None
    steps = []
    for multiple, rate in zip(profile.steps, rates.step_rps, strict=True):
        predicted = budget.predict(chosen.costs, rate) if chosen else {}
        if regime.db_cpu is not None and "postgres" in predicted:
            predicted["postgres"] = min(predicted["postgres"], regime.db_cpu)  # it cannot use more
        cores = round(sum(predicted.values()), 4)
        fits = cores <= limit
        steps.append(PlannedStep(multiple=multiple, rate_rps=rate, predicted_cores=cores, measurable=fits,
                                 run=fits or force))
    return SweepPlan(regime=regime, limit_cores=round(limit, 4), steps=steps)


def run_profile(profile: Profile, rates: Rates, plan: SweepPlan) -> tuple[Profile, Rates]:
    """The profile and rates k6 runs: one burst per step that is run, in order."""
    run = [s for s in plan.steps if s.run]
    return (dataclasses.replace(profile, steps=tuple(s.multiple for s in run), bursts=len(run)),
            dataclasses.replace(rates, step_rps=tuple(s.rate_rps for s in run)))


def read_connections(arm: Arm) -> int:
    """The connections that serve GET /todos: the whole pool when shared; isolated, the read
    pool, thirds of the size with the remainder to reads (crates/todo-service/src/pools.rs)."""
    return arm.pool_size if arm.pool_mode == "shared" else arm.pool_size - 2 * (arm.pool_size // 3)


def predicted_knee(arm: Arm, calibration: Calibration, regime: Regime = ROOM) -> tuple[float | None, str]:
    """The total rate at which the pool that serves the reads is full (Little's law: connections
    = rate x share x hold, summed over the endpoints that share it), or at which the database is,
    when its quota lets it serve less; and why, in words."""
    rate, why = _pool_knee(arm, calibration)
    database = regime.db_capacity_rps
    if database is not None and (rate is None or database < rate):
        return database, f"the database's {regime.db_cpu:g} CPU quota / its CPU per request"
    if database is None and arm.pool_size != calibration.connections:
        why += ", if the database keeps up"
    return rate, why


def _pool_knee(arm: Arm, calibration: Calibration) -> tuple[float | None, str]:
    connections = read_connections(arm)
    if arm.pool_mode == "shared":
        return (connections / (calibration.mean_hold_ms / 1000),
                f"{connections} connections / {calibration.mean_hold_ms:.2f} ms mean hold")
    share, hold = calibration.mix.get(LIST), calibration.hold_ms.get(LIST)
    if not share or not hold:
        return None, "no read hold time in the calibration"
    return connections / (share * hold / 1000), (f"the read pool's {connections} connections / "
                                                  f"({share:.0%} reads x {hold:.2f} ms hold)")


def analyse_arm(run_dir: Path | None, profile: Profile, plan: SweepPlan, arm: Arm, calibration: Calibration | None,
                usable_cpus: float | None) -> SweepArm:
    """One arm's sweep from its run folder (None: no step ran): every planned step, with its
    numbers when it ran, and the knees."""
    numbers: list[StepNumbers] = []
    base = None
    if run_dir is not None and (run_dir / "run.json").exists():
        numbers, base = step_numbers(run_dir, profile, usable_cpus)
    ran = iter(numbers)
    steps = []
    for planned in plan.steps:
        measured = next(ran, None) if planned.run else None
        steps.append(SweepStep(plan=planned, numbers=measured, past_knee=past_knee(measured, base)))
    return SweepArm(key=arm.key, label=arm.label, base_read_p95_ms=base, steps=steps,
                    knee=knee(arm, calibration, steps, plan.regime),
                    run_dir=str(run_dir) if numbers else None)


def step_numbers(run_dir: Path, profile: Profile, usable_cpus: float | None) -> tuple[list[StepNumbers], float | None]:
    """Each run step's numbers (in the profile's order), and the read p95 before the first."""
    record = RunRecord.load(run_dir / "run.json")
    processes = k6_processes_of(record)
    requests = stats.load_run_requests(run_dir, processes).all
    stored = stored_queries(run_dir)
    samples = cpuseries.load_samples(run_dir / "cpu.jsonl")
    t0 = stats.scenario_start(requests) or record.k6_started
    windows = profile.burst_windows()
    first = windows[0][0] if windows else profile.duration_s()
    base = stats.percentile((r.duration_ms for r in requests if r.endpoint == LIST and r.t - t0 < first), 95)
    waiters = _summed_points(stored.get("pool_waiters") if stored else None)
    k6_groups = [p.cpu_group for p in processes]
    out = []
    assert profile.steps is not None and record.rates.step_rps is not None
    for i, ((start, end), rate) in enumerate(zip(profile.steady_windows(), record.rates.step_rps, strict=True), 1):
        seconds = end - start
        # A step's requests are the ones k6 started in it: k6 stamps a request when it ends, and a
        # slow step's answers, counted when they end, would spill into the next base-rate gap.
        inside = [r for r in requests if start <= r.t - r.duration_ms / 1000 - t0 < end]
        read = stats.summarize([r for r in inside if r.endpoint == LIST], seconds)
        writes = stats.summarize([r for r in inside if r.endpoint in WRITES], seconds)
        server = promql.by_label(stored.get(promql.step_query(i)) if stored else None, "endpoint").get(LIST)
        server_ms = None if server is None else server * 1000
        cpu = {}
        for role in STEP_ROLES:
            names = k6_groups if role == "k6" else [role]
            cores = cpuseries.mean_cores(samples, names, t0 + start, t0 + end)
            if role == "lab" and cores is None:
                cores = cpuseries.mean_cores(samples, ["machine"], t0 + start, t0 + end)
            if cores is not None:
                cpu[role] = round(cores, 4)
        in_window = [v for t, v in waiters if start <= t - t0 <= end]
        sent = len(inside) / seconds if seconds > 0 else 0.0
        ratio = None if read.p95_ms is None or not server_ms else read.p95_ms / server_ms
        shortfall = max(0.0, 1 - sent / rate) if rate else 0.0
        out.append(StepNumbers(
            seconds=seconds, sent_rps=sent, goodput_rps=sum(1 for r in inside if r.ok) / seconds if seconds else 0.0,
            read_p95_ms=read.p95_ms, read_server_p95_ms=server_ms, read_error_rate=read.error_rate,
            write_p95_ms=writes.p95_ms, write_error_rate=writes.error_rate,
            max_waiters=max(in_window) if in_window else None, cpu=cpu, shortfall=shortfall,
            client_server_ratio=ratio, failed_checks=trust_failures(ratio, cpu.get("lab"), usable_cpus, shortfall)))
    return out, base


def _summed_points(answer) -> list[tuple[float, float]]:
    """A per-second answer's series added together (every pool's waiters), by time."""
    by_t: dict[float, float] = {}
    for series in answer.series if answer else []:
        for t, v in series.points:
            by_t[t] = by_t.get(t, 0.0) + v
    return sorted(by_t.items())


def trust_failures(ratio: float | None, lab_cores: float | None, usable_cpus: float | None,
                   shortfall: float) -> list[str]:
    """The acts' trust checks, for one step: k6 measures the service, the machine had CPU to
    spare, k6 offered the planned load. Each one failed, in words."""
    failed = []
    if ratio is not None and ratio > verdict.CLIENT_SERVER_MAX_RATIO:
        failed.append(f"k6's read p95 {ratio:.1f}x the service's (over {verdict.CLIENT_SERVER_MAX_RATIO:g}x)")
    if lab_cores is not None and usable_cpus and lab_cores > verdict.MACHINE_BUSY_MAX * usable_cpus:
        failed.append(f"CPU {lab_cores:.2f} of {usable_cpus:g} usable cores "
                      f"(over {verdict.MACHINE_BUSY_MAX:.0%})")
    if shortfall > verdict.DROPPED_MAX:
        failed.append(f"k6 sent {shortfall:.1%} fewer requests than planned (over {verdict.DROPPED_MAX:.0%})")
    return failed


def past_knee(numbers: StepNumbers | None, base_p95_ms: float | None) -> bool:
    """Read errors over `KNEE_READ_ERRORS`, or read p95 over `KNEE_P95_X` x the calm's."""
    if numbers is None:
        return False
    slow = (numbers.read_p95_ms is not None and base_p95_ms is not None
            and numbers.read_p95_ms > KNEE_P95_X * base_p95_ms)
    return numbers.read_error_rate > KNEE_READ_ERRORS or slow


def knee(arm: Arm, calibration: Calibration | None, steps: list[SweepStep], regime: Regime = ROOM) -> Knee:
    """Predicted beside measured: the first step past the knee, or none among the steps run."""
    rate, why = predicted_knee(arm, calibration, regime) if calibration else (None, "no calibration")
    capacity = capacity_of(regime, calibration) if calibration else None
    first = next((s for s in steps if s.past_knee), None)
    ran = [s for s in steps if s.numbers is not None]
    if first is not None:
        assert first.numbers is not None
        n = first.numbers
        measured_why = (f"read errors {pct(n.read_error_rate)}, read p95 {ms(n.read_p95_ms)} "
                        f"at {first.plan.multiple:g}x")
    elif ran:
        measured_why = f"no step past the knee up to {ran[-1].plan.multiple:g}x"
    else:
        measured_why = "no step ran"
    return Knee(predicted_rps=None if rate is None else round(rate, 1),
                predicted_multiple=None if rate is None or not capacity else round(rate / capacity, 2),
                predicted_why=why,
                measured_multiple=first.plan.multiple if first else None,
                measured_rps=first.plan.rate_rps if first else None, measured_why=measured_why)


def regime_summary(folder: Path) -> SweepRegime:
    """One regime's folder, analysed: every arm of its config."""
    config = RunConfig.load(folder / "config.json")
    assert config.sweep is not None, f"{folder}: not a sweep regime (its config.json has no sweep plan)"
    usable = config.cpu_plan.usable_cpus if config.cpu_plan else (config.usable_cpu.usable if config.usable_cpu
                                                                  else None)
    arms = {}
    for key in config.arms:
        run_dir = folder / "arms" / key / "rep-1"
        arms[key] = analyse_arm(run_dir if (run_dir / "run.json").exists() else None, config.profile, config.sweep,
                                ARMS_BY_KEY[key], config.calibration, usable)
    return SweepRegime(regime=config.sweep.regime, delay_ms=config.lab.delay_ms,
                       capacity_rps=config.rates.capacity_rps if config.rates else None, usable_cpus=usable,
                       limit_cores=config.sweep.limit_cores, arms=arms)


def build(out: Path, run_id: str, profile: Profile, machine: Machine, regimes: list[str],
          notes: list[str]) -> SweepSummary:
    """The sweep's summary from its regime folders (those that got as far as a config with a plan)."""
    found = [regime_summary(out / key) for key in regimes if _planned(out / key)]
    return SweepSummary(run_id=run_id, profile=profile, machine=machine, regimes=found,
                        finding=finding(found), notes=notes)


def _planned(folder: Path) -> bool:
    path = folder / "config.json"
    return path.exists() and RunConfig.load(path).sweep is not None


def finding(regimes: list[SweepRegime]) -> str:
    """The paragraph for the post, from the numbers: per regime, where each arm's reads broke
    against where Little's law said they would, then the story's question (do per-endpoint pools
    keep reads faster than one pool three times bigger?) answered at the highest step both ran,
    and how much of it the trust checks let stand."""
    if not regimes:
        return "The sweep measured nothing: no regime got past its calibration."
    return " ".join(_regime_finding(regime) for regime in regimes)


def _regime_finding(regime: SweepRegime) -> str:
    where = f"{regime.delay_ms} ms delay" + (f", Postgres held to {regime.regime.db_cpu:g} CPU"
                                              if regime.regime.db_cpu else "")
    if regime.regime.db_capacity_rps:
        where += f", which serves about {regime.regime.db_capacity_rps:.0f} req/s"
    sentences = [f"With {regime.regime.title} ({where}): " + "; ".join(_knee_phrase(a) for a in regime.arms.values())
                 + "."]
    isolated, control = regime.arms.get("isolated"), regime.arms.get("shared-3x")
    if isolated and control:
        sentences.append(_isolated_against_control(isolated, control))
    steps = [s for a in regime.arms.values() for s in a.steps]
    ran = [s for s in steps if s.numbers is not None]
    hollow = sum(1 for s in ran if s.numbers and s.numbers.failed_checks)
    unmeasured = {s.plan.multiple: s.plan.run for s in steps if not s.plan.measurable}
    if hollow:
        sentences.append(f"{hollow} of the {len(ran)} steps run failed a trust check (drawn hollow): "
                         "their latencies include waiting for CPU.")
    if unmeasured:
        forced = " (run anyway, --force)" if any(unmeasured.values()) else ""
        sentences.append(f"{len(unmeasured)} step(s) were not measurable on this machine{forced}.")
    return " ".join(sentences)


def _knee_phrase(arm: SweepArm) -> str:
    k, name = arm.knee, f"{ARMS_BY_KEY[arm.key].act} ({arm.key})"
    predicted = f"predicted {k.predicted_multiple:g}x" if k.predicted_multiple is not None else "no prediction"
    if k.measured_multiple is not None:
        return f"{name}: reads broke at {k.measured_multiple:g}x ({predicted})"
    ran = [s for s in arm.steps if s.numbers is not None]
    if not ran:
        return f"{name}: no step ran ({predicted})"
    return f"{name}: reads held through {ran[-1].plan.multiple:g}x ({predicted})"


def _isolated_against_control(isolated: SweepArm, control: SweepArm) -> str:
    """Reads of the per-endpoint pools against the pool of 36, at the highest step both ran."""
    both = [(a, b) for a, b in zip(isolated.steps, control.steps, strict=False) if a.numbers and b.numbers]
    if not both:
        return "The per-endpoint pools and the bigger pool have no step in common."
    a, b = both[-1]
    assert a.numbers is not None and b.numbers is not None
    mine, theirs = a.numbers.read_p95_ms or 0.0, b.numbers.read_p95_ms or 0.0
    if abs(mine - theirs) <= SAME_P95 * max(mine, theirs):
        faster = "reads were about as fast either way"
    elif mine < theirs:
        faster = "the per-endpoint pools kept reads faster"
    else:
        faster = "the bigger pool served reads faster"
    return (f"At {a.plan.multiple:g}x, the highest step both ran, {faster}: read p95 {ms(a.numbers.read_p95_ms)} "
            f"({pct(a.numbers.read_error_rate)} errors) against {ms(b.numbers.read_p95_ms)} "
            f"({pct(b.numbers.read_error_rate)}) with one pool of {read_connections(ARMS_BY_KEY[control.key])}.")
