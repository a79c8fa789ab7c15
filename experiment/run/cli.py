"""The command line, and the top-level flow: run every arm (repeats interleaved), then report.

    python -m experiment --profile quick --k6 PATH --admin-url URL [--repeat N] [--delay-ms D]
                         [--out DIR] [--no-record] [--no-pin] [--arms shared,isolated,shared-3x]
                         [--base-rps R --burst-rps R] [--hosts local|netns] [--k6-processes N]
    python -m experiment --sweep [--regimes room,db-limited] [--db-cpu C] [--db-delay-ms D] ...
    python -m experiment --report-only DIR     # redo analysis, charts and report from raw data
    python -m experiment ... --check           # exit 3 or 4 when the verdicts fail (see the end)

--sweep is a mode of its own (sweep.py): each arm once, with bursts stepping across the capacity,
in each regime; its results folder holds a folder per regime and the sweep's report.

scripts/experiment.sh builds, starts Postgres, finds k6 and calls this.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil

from ..analyse import analysis, budget, summary, sweep, verdict
from ..model import fmt
from ..model.profiles import ARMS, ARMS_BY_KEY, PROFILES, Arm, LabParams, Profile, Rates
from ..model.results import CpuSetsRecord, Machine, Regime, RunConfig, Summary, VerdictSummary
from ..model.shape import ENDPOINTS
from ..report import charts, documents, junit, postkit, render, sweepcharts, tables
from . import calibrate, cpulimit, cpusets, k6operator, machine, procs, runner
from .hosts import HOST_MODES, LocalHost, NetnsHost, SystemUnderTestHost
from .lab import Paths, ui_status
from .monitoring import Prometheus

ROOT = Path(__file__).resolve().parents[2]
# Exit status when no delay of the ladder fits the CPU budget (budget.py) and --force was not given.
EXIT_NO_CPU_BUDGET = 5

# --check's exit statuses (a finished run exits 0 without --check, whatever its verdicts).
EXIT_SIGN_FAILED = 3  # an expected sign that is not a *may* failed (did not hold, or could not be judged)
EXIT_UNTRUSTED = 4  # a trust check failed (verdict.TRUST_CHECKS): the numbers may measure the machine too
EXIT_STATUS = f"""exit status:
  0    the run finished (with --check: and every expected sign and trust check held)
  1    the lab could not start (what is missing is said), or nothing to report (the run stopped
       before its calibration ended, or no run finished)
  2    bad arguments
  {EXIT_SIGN_FAILED}    --check: an expected sign that is not a *may* did not hold, or could not be judged,
       in some repeat
  {EXIT_UNTRUSTED}    --check: a trust check failed, so the run cannot be trusted whatever the signs said
       (trust checks: {", ".join(sorted(verdict.TRUST_CHECKS))})
  130  interrupted (Ctrl-C)
With --check the terminal's last lines name every failed check; verdicts.xml (JUnit) holds them all."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="experiment", description=__doc__, epilog=EXIT_STATUS,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=sorted(PROFILES),
                        help="load profile (default: default; with --sweep: sweep, one with steps)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per arm (the report shows the spread)")
    parser.add_argument("--delay-ms", type=int,
                        help="one-way delay of the latency proxy in front of Postgres (0: no proxy); default: the "
                             f"smallest from {LabParams.delay_ms} ms up at which the CPU budget fits (budget.py)")
    parser.add_argument("--force", action="store_true",
                        help=f"run the acts even when no delay fits the CPU budget (else exit {EXIT_NO_CPU_BUDGET} "
                             "before any act)")
    parser.add_argument("--out", type=Path, help="results folder (default results/<UTC timestamp>)")
    parser.add_argument("--no-record", action="store_true", help="don't record the UI")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--no-pin", dest="pin", action="store_const", const="off", default="auto",
                     help="don't split the CPUs between the system under test and the load side")
    pin.add_argument("--pin", dest="pin", action="store_const", const="on",
                     help="split them even on 2 or 3 CPUs (by default only with 4 or more)")
    parser.add_argument("--base-rps", type=int, help="explicit base rate (with --burst-rps): skips the calibration")
    parser.add_argument("--burst-rps", type=int, help="explicit burst rate (with --base-rps)")
    parser.add_argument("--arms", default=",".join(a.key for a in ARMS), help="comma-separated subset of arms")
    parser.add_argument("--hosts", choices=HOST_MODES, default="local",
                        help="where the system under test runs: on this host (local), or in a network namespace "
                             "of its own joined by a veth pair (netns: scripts/netns.sh up)")
    parser.add_argument("--k6-processes", type=int,
                        help="k6 processes splitting the load with execution segments (default 1; 2 with --hosts netns)")
    parser.add_argument("--k6", default="k6", help="the k6 binary")
    parser.add_argument("--admin-url", help="Postgres URL of a database to run DROP/CREATE DATABASE from")
    parser.add_argument("--pg-data-dir", type=Path, help="Postgres data dir (for its postmaster.pid)")
    parser.add_argument("--service-bin", type=Path, default=ROOT / "target/release/todo-service")
    parser.add_argument("--proxy-bin", type=Path, default=ROOT / "target/release/latency-proxy")
    parser.add_argument("--load-script", type=Path, help="the k6 script (default: found in load/)")
    parser.add_argument("--report-only", type=Path, metavar="DIR", help="only redo the report of a results folder")
    parser.add_argument("--check", action="store_true",
                        help=f"exit {EXIT_SIGN_FAILED} when an expected sign fails, {EXIT_UNTRUSTED} when a trust check "
                             f"does ({EXIT_UNTRUSTED} wins); see the exit status below")
    sweeping = parser.add_argument_group("the sweep (--sweep, sweep.py)")
    sweeping.add_argument("--sweep", action="store_true",
                          help="step the bursts across the capacity, one run per arm and regime, instead of the acts")
    sweeping.add_argument("--regimes", default=",".join(sweep.REGIMES),
                          help=f"comma-separated regimes to sweep ({', '.join(sweep.REGIMES)})")
    sweeping.add_argument("--db-cpu", type=float,
                          help=f"the db-limited regime's CPU quota for Postgres, in CPUs (default: chosen from the "
                               f"calibration, so Postgres serves 1/{sweep.DB_REACH:g} of what the lab can offer cleanly)")
    sweeping.add_argument("--db-delay-ms", type=int,
                          help=f"the db-limited regime's delay (default {sweep.DB_LIMITED.delay_ms} ms)")
    parser.add_argument("--k8s-base-url", default=k6operator.DEFAULT_BASE_URL,
                        help="the service's URL in a cluster, for the k6-operator TestRun written in the results folder")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.profile = args.profile or ("sweep" if args.sweep else "default")
    if PROFILES[args.profile].is_sweep != args.sweep:
        parser.error(f"profile {args.profile} " + ("has no steps: --sweep needs one that has (sweep, sweep-quick)"
                                                   if args.sweep else "is a sweep's: run it with --sweep"))
    if args.sweep:
        if args.repeat != 1 or args.base_rps is not None:
            parser.error("--sweep runs each arm once at calibrated rates: no --repeat or --base-rps")
        for key in args.regimes.split(","):
            if key not in sweep.REGIMES:
                parser.error(f"unknown regime {key!r}; regimes: {', '.join(sweep.REGIMES)}")
    for key in args.arms.split(","):
        if key not in ARMS_BY_KEY:
            parser.error(f"unknown arm {key!r}; arms: {', '.join(ARMS_BY_KEY)}")
    if (args.base_rps is None) != (args.burst_rps is None):
        parser.error("--base-rps and --burst-rps go together")
    if not args.report_only and args.hosts == "local" and not args.admin_url:
        parser.error("--admin-url is required (scripts/experiment.sh passes it)")
    if args.k6_processes is None:
        # A lab that puts the load on a host of its own splits it too, as a load host that scales out would.
        args.k6_processes = 2 if args.hosts == "netns" else 1
    if args.k6_processes < 1:
        parser.error("--k6-processes must be at least 1")
    return args


def find_load_script(root: Path) -> Path:
    """The k6 script: load/todo-load.js (takes the rate variables, see load/lib/profile.js)."""
    script = root / "load" / "todo-load.js"
    if not script.exists():
        raise SystemExit(f"no k6 script at {script}")
    return script


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    procs.install_signal_handlers()
    if args.report_only and sweep_folder(args.report_only):
        return make_sweep_report(args.report_only)
    if args.report_only:
        try:
            return make_report(args.report_only, check=args.check)
        except analysis.OldResults as error:
            print(f"[experiment] {error}", file=sys.stderr)
            return 1
    if args.sweep:
        return run_sweep(args)
    ctx, arms, out = prepare(args)
    try:
        plan = set_rates(ctx, out, args)
    except KeyboardInterrupt:
        print("\n[experiment] interrupted during the calibration: every process was stopped", flush=True)
        return 130
    if plan is not None and plan.how == "searched" and not plan.fits and not args.force:
        print(f"[experiment] stopped before the acts: {plan.note or 'no delay fits the CPU budget'}. On this machine "
              f"the acts would measure the CPU, not the pools. --force runs them anyway; --delay-ms or "
              f"--base-rps/--burst-rps choose by hand.", file=sys.stderr, flush=True)
        return EXIT_NO_CPU_BUDGET
    k6operator.write_for_run(ctx, out, base_url=args.k8s_base_url)
    results, interrupted = run_all(ctx, arms, args.repeat, out)
    code = make_report(out, results, check=args.check)
    return 130 if interrupted else code


def prepare(args: argparse.Namespace) -> tuple[runner.Context, list[Arm], Path]:
    """Check the binaries, pick the results folder, and write its config.json."""
    profile = PROFILES[args.profile]
    params = LabParams(pin_cpus=args.pin, **({} if args.delay_ms is None else {"delay_ms": args.delay_ms}))
    usable = cpulimit.usable_cpu()  # before pinning: the runner's own affinity is then the load side's
    cpus = cpusets.choose(params.pin_cpus)
    cpusets.pin_self(cpus)
    arms = [ARMS_BY_KEY[k] for k in args.arms.split(",")]
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = (args.out or ROOT / "results" / run_id).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.out is None:
        _point_latest(out)
    load_script = (args.load_script or find_load_script(ROOT)).resolve()
    paths = Paths(root=ROOT, service_bin=args.service_bin.resolve(), proxy_bin=args.proxy_bin.resolve(),
                  k6=Path(args.k6), load_script=load_script)
    for binary in (paths.service_bin,) + ((paths.proxy_bin,) if params.delay_ms > 0 else ()):
        if not binary.exists():
            raise SystemExit(f"missing {binary}: build it (cargo build --release -p todo-service -p latency-proxy)")
    host = system_under_test_host(args)
    ui_ok, ui_note = ui_status(ROOT)
    prometheus = Prometheus.of(ROOT)
    if not prometheus.ready():
        raise SystemExit(f"the lab's Prometheus does not answer at {prometheus.url}: start it (scripts/prometheus.sh start)")
    ctx = runner.Context(paths=paths, profile=profile, lab=params, host=host, record=not args.no_record,
                         ui_ok=ui_ok, ui_note=ui_note, cpus=cpus, run_id=run_id, prometheus=prometheus,
                         k6_processes=args.k6_processes, usable=usable)
    where = host.record()
    shown_script = load_script.relative_to(ROOT) if load_script.is_relative_to(ROOT) else load_script
    config = RunConfig(
        run_id=run_id, profile=profile, lab=params, arms=[a.key for a in arms], repeats=args.repeat,
        record=ctx.record, cpu_sets=CpuSetsRecord.of(cpus), ui=ui_note, load_script=str(shown_script),
        machine=Machine.from_json(machine.machine(), "machine.machine()"),
        versions=machine.versions(ROOT, str(paths.k6), host.command([paths.psql]), host.admin_url),
        hosts=where, k6_processes=ctx.k6_processes, usable_cpu=usable,
    )
    config.save(out / "config.json")
    print(f"[experiment] profile {profile.name}: {len(arms) * args.repeat} runs of {profile.duration_s()} s "
          f"({', '.join(a.label for a in arms)}; {args.repeat} repeat(s)); results in {out}", flush=True)
    print(f"[experiment] CPU: {usable.why}; CPU sets: {cpus.note}", flush=True)
    print(f"[experiment] hosts: {where.mode}; the service at {where.sut_address}, the load from {where.load_address} "
          f"through {where.interface}; {ctx.k6_processes} k6 process(es)", flush=True)
    if ctx.record and not ui_ok:
        print(f"[experiment] UI recording skipped: {ui_note}", flush=True)
    return ctx, arms, out


def system_under_test_host(args: argparse.Namespace) -> SystemUnderTestHost:
    """This host (with the Postgres of --admin-url), or the network namespace of scripts/netns.sh."""
    if args.hosts == "netns":
        try:
            return NetnsHost.of(ROOT)
        except RuntimeError as error:
            raise SystemExit(f"[experiment] {error}") from error
    pg_data = args.pg_data_dir or (ROOT / ".lab/pg/data")
    return LocalHost(admin_url=args.admin_url, pg_data_dir=pg_data if pg_data.exists() else None)


def set_rates(ctx: runner.Context, out: Path, args: argparse.Namespace,
              delay_how: str = "explicit delay") -> budget.CpuPlan | None:
    """The acts' delay and rates: explicit rates; or the capacity measured at an explicit delay; or
    the smallest delay at which the bursts fit the CPU budget, and that delay's capacity (budget.py).
    The rates, the calibration, the delay and the plan go into config.json, so --report-only can
    state them. `delay_how`: who gave --delay-ms when it is given (CpuPlan.how). Returns the plan
    (None with explicit rates: nothing was probed)."""
    if args.base_rps is not None:
        ctx.rates = Rates(base_rps=args.base_rps, burst_rps=args.burst_rps, source="explicit")
        print(f"[experiment] rates (explicit): {ctx.rates.base_rps} req/s base, {ctx.rates.burst_rps} req/s in "
              f"bursts, at {ctx.lab.delay_ms} ms; no calibration, so no CPU budget", flush=True)
        _record_in_config(out, rates=ctx.rates, lab=ctx.lab)
        return None
    plan = plan_delay(ctx, out, search=args.delay_ms is None, force=args.force, how=delay_how)
    chosen = plan.chosen
    assert chosen is not None
    ctx.lab = dataclasses.replace(ctx.lab, delay_ms=chosen.delay_ms)
    ctx.rates = Rates.calibrated(ctx.profile, chosen.calibration.capacity_rps)
    print(f"[experiment] {render.plan_lines(plan)[-1]}", flush=True)
    print(f"[experiment] rates ({ctx.rates.source}, {ctx.lab.delay_ms} ms): {ctx.rates.base_rps} req/s base, "
          f"{ctx.rates.burst_rps} req/s in bursts", flush=True)
    _record_in_config(out, rates=ctx.rates, calibration=chosen.calibration, lab=ctx.lab, cpu_plan=plan)
    return plan


def plan_delay(ctx: runner.Context, out: Path, search: bool, force: bool = False,
               how: str = "explicit delay") -> budget.CpuPlan:
    """Probe at the lab's delay; while searching and the bursts would not fit the CPU budget,
    probe at the next delay the last probe predicts to fit (budget.next_delay), up to
    budget.MAX_PROBES probes. Each probe's raw files are in calibration/<delay>ms/. `how`: who
    gave the delay when not searching (CpuPlan.how)."""
    usable = ctx.usable.usable if ctx.usable else float(len(os.sched_getaffinity(0)))
    tries: list[budget.DelayTry] = []
    note = None
    delay: int | None = ctx.lab.delay_ms
    while delay is not None:
        ctx.lab = dataclasses.replace(ctx.lab, delay_ms=delay)
        with cpusets.postgres_pinned(ctx.cpus, _lab_postmaster(ctx)) as pin_note:
            print(f"[experiment] Postgres {pin_note}", flush=True)
            calibration, stages = calibrate.calibrate(ctx, out / "calibration" / f"{delay}ms")
        tries.append(budget.judge(delay, calibration, stages, ctx.profile.burst_x, usable))
        judged = budget.CpuPlan(usable, budget.MAX_PLANNED_SHARE, "searched", tries[-1:], tries[-1].fits)
        print(f"[experiment] {render.plan_lines(judged)[0]}", flush=True)
        if tries[-1].fits or not search:
            break
        if len(tries) == budget.MAX_PROBES:
            note = f"{len(tries)} probes and none fitted"
            break
        delay = budget.next_delay(tries[-1], ctx.profile.burst_x, usable, ctx.lab.acquire_timeout_ms)
        if delay is None:
            note = (budget.fixed_costs_note(tries[-1], usable)
                    or f"no delay up to {budget.max_delay_ms(ctx.lab.acquire_timeout_ms):g} ms (past it Act III's reads "
                       f"could not be {verdict.STABLE_RATIO:g}x faster than the acquire timeout) is predicted to fit")
    if note and ctx.record:
        instead = budget.without_recording_note(tries[-1], ctx.profile.burst_x, usable, ctx.lab.acquire_timeout_ms)
        note += f"; {instead}" if instead else ""
    return budget.CpuPlan(usable_cpus=usable, max_share=budget.MAX_PLANNED_SHARE,
                          how="searched" if search else how, tries=tries, fits=tries[-1].fits,
                          forced=force and search and not tries[-1].fits, note=note)


def run_all(ctx: runner.Context, arms: list[Arm], repeats: int,
            out: Path) -> tuple[dict[str, list[analysis.RunResult]], bool]:
    """Every arm, every repeat (interleaved, so a slow drift of the machine hits every arm alike).
    Returns the analysed runs, and whether it was interrupted (then the finished runs only)."""
    results: dict[str, list[analysis.RunResult]] = {}
    started = time.monotonic()
    try:
        with cpusets.postgres_pinned(ctx.cpus, _lab_postmaster(ctx)) as pin_note:
            _record_in_config(out, cpu_sets=CpuSetsRecord.of(ctx.cpus, postgres=pin_note))
            for repeat in range(1, repeats + 1):
                for arm in arms:
                    finished = _run_one(ctx, arm, repeat, repeats, out)  # an interrupted run adds no arm
                    results.setdefault(arm.key, []).append(finished)
    except KeyboardInterrupt:
        print("\n[experiment] interrupted: every process was stopped; reporting what finished", flush=True)
        return results, True
    finally:
        print(f"[experiment] runs done in {time.monotonic() - started:.0f} s", flush=True)
    return results, False


def _lab_postmaster(ctx: runner.Context) -> int | None:
    """The lab's own cluster's postmaster, from its postmaster.pid only (never a guess that could
    be another server); None for a server of DATABASE_URL, which is never pinned."""
    if ctx.host.pg_data_dir is None:
        return None
    try:
        return int((ctx.host.pg_data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _record_in_config(out: Path, **fields) -> None:
    """Add what the run learned (rates, calibration, Postgres pinning) to its config.json."""
    path = out / "config.json"
    dataclasses.replace(RunConfig.load(path), **fields).save(path)


def _run_one(ctx: runner.Context, arm: Arm, repeat: int, repeats: int, out: Path) -> analysis.RunResult:
    run_dir = out / "arms" / arm.key / f"rep-{repeat}"
    record = runner.run_arm(ctx, arm, repeat, repeats, run_dir)
    result = analyse(run_dir, ctx.profile, arm.key, repeat)
    h = result.headline
    print(f"[experiment] {arm.label} rep {repeat}: {h.requests} requests; GET /todos burst p95 "
          f"{fmt.ms(h.read.burst_p95_ms)} (service: {fmt.ms(h.read.server_burst_p95_ms)}), "
          f"errors {fmt.pct(h.read.error_rate)}; max waiters {fmt.num(h.pool.max_waiters)}"
          + (f"; notes: {'; '.join(record.notes)}" if record.notes else ""), flush=True)
    return result


def analyse(run_dir: Path, profile: Profile, arm: str, repeat: int) -> analysis.RunResult:
    """Analyse one run and write what the analysis found next to its raw files: analysis.json
    (its headline) and client-per-second.csv (requests, errors and p95 per second and endpoint)."""
    result = analysis.analyze_run(run_dir, profile, arm, repeat)
    with open(run_dir / "client-per-second.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["second", "endpoint", "requests", "errors", "p95_ms"])
        for endpoint in ENDPOINTS:
            for second, v in result.per_second.get(endpoint, {}).items():
                writer.writerow([second, endpoint, v.count, v.errors, "" if v.p_ms is None else round(v.p_ms, 3)])
    result.headline.save(run_dir / "analysis.json")
    return result


def _point_latest(out: Path) -> None:
    latest = out.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(out.name)
    except OSError as error:
        print(f"[experiment] could not update {latest}: {error}", file=sys.stderr)


def make_report(out: Path, results: dict[str, list[analysis.RunResult]] | None = None, check: bool = False) -> int:
    """Write charts, summary.json/md, verdicts.xml, report.html and post/ for the runs in `out`
    (analysed again from their raw files unless `results` are given). Returns the exit status:
    with `check`, the verdicts' (check_verdicts)."""
    out = out.resolve()
    config = RunConfig.load(out / "config.json")
    if config.rates is None:
        print("[experiment] config.json has no rates: the run stopped before its calibration finished", file=sys.stderr)
        return 1
    if results is None:
        results = {}
        for key in config.arms:
            for repeat in range(1, config.repeats + 1):
                run_dir = out / "arms" / key / f"rep-{repeat}"
                if (run_dir / "run.json").exists():
                    results.setdefault(key, []).append(analyse(run_dir, config.profile, key, repeat))
    results = {key: runs for key, runs in results.items() if runs}
    if not results:
        print("[experiment] no finished run to report", file=sys.stderr)
        return 1
    repeats = min(len(runs) for runs in results.values())
    notes = []
    if not config.record:
        notes.append("UI recording off (--no-record).")
    elif config.ui != "ok":
        notes.append(f"UI recording skipped: {config.ui}.")
    for runs in results.values():
        for run in runs:
            notes += [f"{run.arm} rep {run.repeat}: {n}" for n in run.headline.notes]
    result_summary = summary.build(config.run_id, config.profile, config.lab, config.load_script, repeats,
                                   {k: v[:repeats] for k, v in results.items()}, config.machine,
                                   config.versions, notes, config.rates, config.calibration, config.cpu_sets,
                                   config.hosts, config.usable_cpu, config.cpu_plan)
    result_summary.save(out / "summary.json")
    junit.write(result_summary, out / junit.NAME)
    chart_files = charts.make_all({k: v[:repeats] for k, v in results.items()}, config.profile, result_summary,
                                  out / "charts")
    documents.write_markdown(result_summary, out / "summary.md", chart_files)
    documents.write(result_summary, out / "charts", chart_files, out / "report.html")
    post_notes = postkit.make(out, result_summary, out / "charts", chart_files, config.recorded)

    print()
    for line in render.calibration_lines(result_summary):
        print(f"  {line}")
    print()
    for table in (tables.headline(result_summary).first_columns(9), tables.repeats(result_summary),
                  tables.endpoints(result_summary)):
        print(fmt.console_table(table.header, table.rows))
        print()
    for item in result_summary.verdicts:
        print(f"  [{item.verdict:>5}] {item.sign} — {item.evidence}")
    for note in post_notes:
        print(f"  post kit: {note}")
    banner = render.contamination_banner(result_summary)
    if banner:
        print(f"\n  !!! {banner}")
    print(f"\n[experiment] report: {out / 'report.html'}\n[experiment] summary: {out / 'summary.md'}")
    return check_verdicts(result_summary) if check else 0


def check_verdicts(s: Summary) -> int:
    """--check: the exit status of the run's verdicts (EXIT_*: a failed trust check wins, since
    the signs were then judged on numbers that cannot be trusted), with a line per failed check."""
    failed = verdict.failing(s.verdicts)
    code = EXIT_UNTRUSTED if any(v.trust for v in failed) else EXIT_SIGN_FAILED if failed else 0
    if not failed:
        print("[experiment] --check: every expected sign and every trust check held")
        return code
    print(f"[experiment] --check: {len(failed)} check(s) failed, exit {code}:")
    for v in sorted(failed, key=lambda v: not v.trust):
        print(f"  FAILED {'trust check' if v.trust else 'expected sign'} {v.key}: {v.sign} — {_how_failed(v)}")
    return code


def _how_failed(v: VerdictSummary) -> str:
    """'did not hold', 'could not be judged', and in which repeats when there were several."""
    def where(holds: bool | None) -> list[str]:
        return [str(r.repeat) for r in v.repeats if r.holds is holds]
    parts = [(words, where(holds)) for words, holds in (("did not hold", False), ("could not be judged", None))]
    return "; ".join(words + (f" in rep {', '.join(reps)}" if len(v.repeats) > 1 else "")
                     for words, reps in parts if reps)


# ---------------------------------------------------------------------------------------------
# The sweep (--sweep, sweep.py): each regime a results folder of its own, then one report


def run_sweep(args: argparse.Namespace) -> int:
    """Every regime of --regimes: calibrate and plan as for the acts, plan the steps, run each arm
    once with the steps this machine can offer, then the sweep's report over all regimes."""
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    top = (args.out or ROOT / "results" / f"{run_id}-sweep").resolve()
    top.mkdir(parents=True, exist_ok=True)
    if args.out is None:
        _point_latest(top)
    interrupted = False
    for key in args.regimes.split(","):
        regime = sweep.REGIMES[key]
        if sweep.holds_database(regime):
            regime = sweep.limited(regime, args.db_cpu, args.db_delay_ms)
        regime_args = argparse.Namespace(**vars(args) | {
            "out": top / regime.key, "delay_ms": regime.delay_ms if regime.delay_ms is not None else args.delay_ms})
        print(f"[experiment] sweep, regime {regime.key}: {regime.title}", flush=True)
        try:
            interrupted = _sweep_regime(regime_args, regime)
        except OSError as error:  # no cgroup to hold the database in: the other regimes still run
            print(f"[experiment] regime {regime.key} skipped: {error}", file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            interrupted = True
        if interrupted:
            print("[experiment] interrupted: every process was stopped, the database's CPU given back", flush=True)
            break
    code = make_sweep_report(top)
    return 130 if interrupted else code


def _sweep_regime(args: argparse.Namespace, regime: Regime) -> bool:
    """One regime: calibration (the database without a quota, so its CPU per request is its own),
    the database's quota and capacity when the regime has one, then the step plan and the runs,
    the database under its quota. Returns whether it was interrupted."""
    ctx, arms, out = prepare(args)
    plan = set_rates(ctx, out, args, delay_how="regime delay" if regime.delay_ms is not None else "explicit delay")
    assert ctx.rates is not None
    usable = plan.usable_cpus if plan else (ctx.usable.usable if ctx.usable else float(os.cpu_count() or 1))
    if sweep.holds_database(regime):
        if plan is None or plan.chosen is None:
            raise OSError("the db-limited regime sizes the database's quota from the calibration: give no explicit rates")
        regime = sweep.database_limit(regime, plan, usable)
        ctx.rates = Rates.calibrated(ctx.profile, sweep.capacity_of(regime, plan.chosen.calibration))
        print(f"[experiment] the database's quota ({regime.db_cpu_source}): {regime.db_cpu:g} CPU, about "
              f"{regime.db_capacity_rps:.0f} req/s; steps are multiples of "
              f"{ctx.rates.capacity_rps:.0f} req/s", flush=True)
        _record_in_config(out, rates=ctx.rates)
    with _database_quota(ctx, regime) as note:
        if note:
            print(f"[experiment] Postgres {note}", flush=True)
        steps = sweep.plan_steps(ctx.profile, ctx.rates, plan, usable, regime, force=args.force)
        ctx.profile, ctx.rates = sweep.run_profile(ctx.profile, ctx.rates, steps)
        _record_in_config(out, profile=ctx.profile, rates=ctx.rates, sweep=steps)
        for step in steps.steps:
            shown = "" if step.measurable else (" — run anyway (--force)" if step.run else " — not measurable here")
            print(f"[experiment]   step {step.multiple:g}x: {step.rate_rps} req/s, predicted "
                  f"{step.predicted_cores:.2f} of {steps.limit_cores:.2f} cores{shown}", flush=True)
        if not ctx.profile.bursts:
            print("[experiment] no step of this regime is measurable here: no run", flush=True)
            return False
        _, interrupted = run_all(ctx, arms, 1, out)
    return interrupted


@contextmanager
def _database_quota(ctx: runner.Context, regime: Regime) -> Iterator[str | None]:
    """The lab's Postgres (postmaster and every backend) under the regime's CPU quota, given back
    at the end however it ends; nothing for a regime without one."""
    if not sweep.holds_database(regime):
        yield None
        return
    assert regime.db_cpu is not None, "the quota is chosen before the database is held to it"
    postmaster = _lab_postmaster(ctx)
    if postmaster is None:
        raise OSError("the lab's own Postgres (its postmaster.pid) is needed to hold the database to a quota")

    def tree() -> list[int]:
        try:
            top = psutil.Process(postmaster)
            return [postmaster, *(child.pid for child in top.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    with cpulimit.quota_for(tree, regime.db_cpu, f"lab-postgres-{os.getpid()}") as folder:
        yield f"held to {regime.db_cpu:g} CPU (cgroup {folder})"


def sweep_folder(out: Path) -> bool:
    """Whether `out` is a sweep's results folder (a folder per regime, no config.json of its own)."""
    return not (out / "config.json").exists() and any((out / key / "config.json").exists() for key in sweep.REGIMES)


def make_sweep_report(top: Path) -> int:
    """The sweep's summary.json, summary.md, report.html and charts, from its regime folders."""
    top = top.resolve()
    planned = [key for key in sweep.REGIMES if (top / key / "config.json").exists()]
    if not planned:
        print("[experiment] no regime of the sweep got as far as its config", file=sys.stderr)
        return 1
    first = RunConfig.load(top / planned[0] / "config.json")
    notes = [] if first.record else ["UI recording off (--no-record)."]
    assert first.sweep is not None
    steps = tuple(step.multiple for step in first.sweep.steps)  # every step, the ones not run too
    profile = dataclasses.replace(first.profile, steps=steps, bursts=len(steps))
    result = sweep.build(top, top.name, profile, first.machine, planned, notes)
    result.save(top / "summary.json")
    chart_files = sweepcharts.sweep_charts(result, top / "charts")
    documents.write_sweep(result, chart_files, top)
    for line in render.sweep_lines(result):
        print(f"  {line}")
    print(f"\n[experiment] report: {top / 'report.html'}\n[experiment] summary: {top / 'summary.md'}")
    return 0
