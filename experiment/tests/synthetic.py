"""Made-up results for the tests: a tiny run folder with every raw file the analysis reads, and
typed headlines with only the numbers a test cares about."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

from experiment.analyse import promql, summary, sweep
from experiment.analyse.analysis import RunResult, analyze_run
from experiment.analyse.promql import ANSWERS
from experiment.analyse.stats import percentile
from experiment.model.profiles import ARMS_BY_KEY, SHARED, LabParams, Profile, Rates
from experiment.model.results import (
    ArmSummary,
    Calibration,
    CpuNumbers,
    CpuPlan,
    CpuSetsRecord,
    CpuUse,
    DelayTry,
    EndpointNumbers,
    Gauge,
    Headline,
    K6ProcessRecord,
    Latency,
    Machine,
    PoolNumbers,
    QueryAnswer,
    ReadNumbers,
    Regime,
    RoleCost,
    RunConfig,
    RunRecord,
    Series,
    StoredQueries,
    Summary,
    WarmUp,
    WriteNumbers,
)
from experiment.run.k6run import worst_exit_code

# 2 s of calm, one 2 s burst, 1 s of recovery: 5 s in all, the burst from 2 s to 4 s.
TINY = Profile(name="tiny", base_x=0.25, burst_x=1.3, bursts=1, burst_s=2, gap_s=0, warmup_s=2, recovery_s=1,
               ramp_s=0, users=10, sessions=2, todos_per_user=1, warmup_requests=4, probe_s=1)
T0 = 1_700_000_000.0  # unix seconds of the first request: the scenario's time zero

CSV_HEADER = ("metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,"
              "scenario,service,status,subproto,tls_version,url,extra_tags,metadata")

# (seconds since T0, endpoint tag, milliseconds, status)
REQUESTS = [
    (-1.0, "setup_login", 3.0, 200),  # k6's setup(): neither load nor time zero
    (0.0, "list_todos", 10.0, 200), (0.3, "list_todos", 20.0, 200), (0.6, "list_todos", 30.0, 200),
    (0.1, "login", 5.0, 200), (0.2, "create_todo", 8.0, 201),
    (2.0, "list_todos", 100.0, 200), (2.3, "list_todos", 200.0, 200), (2.6, "list_todos", 300.0, 503),
    (2.1, "login", 50.0, 503), (2.2, "create_todo", 80.0, 201),
    (4.1, "list_todos", 10.0, 200),
]

# One point a second, half a second into each (Prometheus's per-second answers): (pool in use,
# waiters, acquire timeouts so far, tokio tasks, requests in flight).
SCRAPES = [
    (1, 0, 0, 10, 1),
    (2, 0, 0, 12, 1),
    (12, 5, 1, 40, 9),
    (12, 2, 3, 30, 4),
    (1, 0, 3, 11, 1),
]
# The one-answer queries, as Prometheus would answer them: GET /todos's p95 (s) over the load
# and over the burst; the shared pool over the burst: connection-seconds held, connections handed
# out, mean in use; the database's backends of the pool per second: (active, idle).
SERVER_P95_S = {"load": 0.4475, "bursts": 0.4775}
HOLD_S, HOLDS, MEAN_IN_USE = 20.0, 2000.0, 11.0
BACKENDS = [(1, 11), (2, 10), (None, 12), (12, None), (1, 11)]  # None: no backend in that state

# Cumulative CPU seconds, one sample a second from T0: the service, the whole machine, CPU 0 and 1.
CPU = {
    "service": [0.0, 0.1, 0.2, 0.8, 1.4, 1.5],
    "machine": [0.0, 1.0, 2.0, 3.5, 5.0, 6.0],
    "cpu0": [0.0, 0.5, 1.0, 1.5, 2.0, 2.5],
    "cpu1": [0.0, 0.5, 1.0, 2.0, 3.0, 3.5],
}


# A run split between two k6 processes (execution segments 0:1/2 and 1/2:1): the load requests
# of REQUESTS dealt to them in turn (setup() runs in each), the iterations each dropped, how each
# exited, and their CPU seconds (cumulative, as CPU above), which add up to K6_CPU.
DROPPED = (2, 1)
EXIT_CODES = (0, 99)
K6_CPU = {
    "k6-1": [0.0, 0.1, 0.2, 0.5, 0.8, 0.9],
    "k6-2": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
}


def run_record(**changes) -> RunRecord:
    fields = dict(
        arm="shared", act=SHARED.act, pool_mode="shared", pool_size=12, repeat=1, profile=TINY.name, notes=[],
        load_script="load/todo-load.js", load_script_sha256="0" * 64,
        rates=Rates(base_rps=10, burst_rps=50, source="calibrated", capacity_rps=40.0),
        cpu_sets=CpuSetsRecord(sut=(1,), load=(0,), note="system under test on CPU 1, load side on CPU 0"),
        seed_s=0.1, service_url="http://127.0.0.1:1", metrics_url="http://127.0.0.1:2", service_pid=42,
        warm_up=WarmUp(iterations=2, ok=2, requests=4, seconds=0.5), recording="off (--no-record)",
        loadavg_before="0.1 0.1 0.1 1/100 1", k6_started=T0 - 2, k6_exit_code=0, k6_ended=T0 + 6,
        loadavg_after="0.5 0.2 0.1 1/100 2", proxy_port=3,
    )
    if changes.get("k6_processes"):  # as runner.py writes it: the worst of its processes'
        fields["k6_exit_code"] = worst_exit_code([p.exit_code for p in changes["k6_processes"]])
    return RunRecord(**fields | changes)


def _series(labels: dict[str, str], values) -> Series:
    return Series(labels=labels, points=[(T0 + i + 0.5, v) for i, v in enumerate(values) if v is not None])


def stored_queries() -> StoredQueries:
    """The run's PromQL answers (promql.json), as the runner keeps them."""
    shared = {"pool": "shared"}
    columns = list(zip(*SCRAPES, strict=True))

    def answer(name: str, *series: Series) -> QueryAnswer:
        return QueryAnswer(query=f"<{name}>", series=list(series))

    def single(name: str, labels: dict[str, str], value: float) -> QueryAnswer:
        return answer(name, Series(labels=labels, points=[(T0 + 6, value)]))

    backends = {"application_name": "todo-service/shared"}
    return StoredQueries(
        prometheus="http://127.0.0.1:59090", start=T0 - 7, end=T0 + 11, step=1.0, t0=T0, load_window=(T0, T0 + 6),
        bursts=[(T0 + 2, T0 + 4)],
        answers={
            "pool_in_use": answer("pool_in_use", _series(shared, columns[0])),
            "pool_waiters": answer("pool_waiters", _series(shared, columns[1])),
            "pool_max": answer("pool_max", _series(shared, [12] * len(SCRAPES))),
            "acquire_timeouts": answer("acquire_timeouts", _series(shared, columns[2])),
            "tasks": answer("tasks", _series({}, columns[3])),
            "in_flight": answer("in_flight", _series({}, columns[4])),
            "server_p95_s": answer("server_p95_s", _series({"endpoint": "list_todos"}, [None, 0.03, 0.45, None, None])),
            "server_rps": answer("server_rps", _series({"endpoint": "list_todos"}, [0, 3, 3, 0, 1])),
            "backends": answer("backends", _series(backends | {"state": "active"}, [b[0] for b in BACKENDS]),
                               _series(backends | {"state": "idle"}, [b[1] for b in BACKENDS])),
            "server_p95_s_load": single("server_p95_s_load", {"endpoint": "list_todos"}, SERVER_P95_S["load"]),
            "server_p95_s_bursts": single("server_p95_s_bursts", {"endpoint": "list_todos"}, SERVER_P95_S["bursts"]),
            "hold_seconds_bursts": single("hold_seconds_bursts", shared, HOLD_S),
            "holds_bursts": single("holds_bursts", shared, HOLDS),
            "in_use_mean_bursts": single("in_use_mean_bursts", shared, MEAN_IN_USE),
        },
    )


def k6_processes(count: int) -> list[K6ProcessRecord]:
    """The run record's k6 processes when the load is split `count` ways (none: one, as before)."""
    if count == 1:
        return []
    return [dataclasses.replace(K6ProcessRecord.files(i, count), pid=1000 + i, exit_code=EXIT_CODES[i - 1],
                                resumed=T0 - 1) for i in range(1, count + 1)]


def write_run(run_dir: Path, record: RunRecord | None = None, processes: int = 1) -> Path:
    """A run folder as runner.py leaves it: k6's samples, summary, cast and log (of each of
    `processes` k6 processes, REQUESTS dealt to them in turn), the PromQL answers, CPU, run.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    setup = [r for r in REQUESTS if r[1] == "setup_login"]
    load = [r for r in REQUESTS if r[1] != "setup_login"]
    for i in range(processes):
        files = K6ProcessRecord.files(i + 1, processes)
        _write_k6(run_dir, files, setup + load[i::processes], DROPPED[i])

    stored_queries().save(run_dir / ANSWERS)
    cpu = CPU | (K6_CPU if processes > 1 else {})
    samples = [{"t": T0 + i, "cpu_s": {name: values[i] for name, values in cpu.items()}} for i in range(6)]
    (run_dir / "cpu.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    record = record or run_record(k6_processes=k6_processes(processes))
    (run_dir / "run.json").write_text(json.dumps(record.to_json(), indent=2))
    return run_dir


def _write_k6(run_dir: Path, files: K6ProcessRecord, requests: list[tuple[float, str, float, int]],
              dropped: int) -> None:
    """One k6 process's files: its samples (CSV, gzipped), its summary, its terminal."""
    rows = [CSV_HEADER]
    for t, endpoint, ms, status in requests:
        method, path = ("GET", "/todos") if endpoint == "list_todos" else \
            ("POST", "/todos") if endpoint == "create_todo" else ("POST", "/login")
        stamp = round((T0 + t) * 1000)
        rows.append(f"http_reqs,{stamp},1,,,,true,,{method},x,HTTP/1.1,default,,{status},,,http://h{path},"
                    f"endpoint={endpoint},")
        rows.append(f"http_req_duration,{stamp},{ms},,,,true,,{method},x,HTTP/1.1,default,,{status},,,http://h{path},"
                    f"endpoint={endpoint},")
    with gzip.open(run_dir / files.samples, "wt") as handle:
        handle.write("\n".join(rows) + "\n")
    # k6's summary: counts and p95s per endpoint (list_todos 7 requests, p95 270 ms, in one process).
    endpoints = {}
    for endpoint in ("list_todos", "login", "create_todo"):
        durations = [ms for _, e, ms, _ in requests if e == endpoint]
        endpoints[endpoint] = {"count": len(durations), "latency_ms": {"p95": percentile(durations, 95)}}
    (run_dir / files.summary).write_text(json.dumps({"dropped_iterations": dropped, "endpoints": endpoints}))
    (run_dir / files.cast).write_text('{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "running"]\n')
    (run_dir / files.log).write_text("running\n")
    if files.html_report:
        (run_dir / files.html_report).write_text("<!doctype html><title>k6 report</title>\n")


def latency(p95: float | None = 10.0, count: int = 100, errors: int = 0) -> Latency:
    return Latency(count=count, rps=count / 10, p50_ms=p95, p95_ms=p95, p99_ms=p95, errors=errors,
                   error_rate=errors / count if count else 0.0)


def headline(burst_p95: float | None = 10.0, baseline_p95: float | None = 5.0, errors: int = 0, count: int = 1000,
             svc_peak: float | None = 0.3, waiters: float | None = 0, timeouts: float | None = 0,
             tasks: tuple[float, float] = (10, 12), write_burst: float | None = 20.0, write_err: float = 0.0,
             ratio: float | None = 2.0, machine: CpuUse | None = None, sut_side: CpuUse | None = None,
             load_side: CpuUse | None = None, dropped: float | None = None, requests: int = 5000,
             server_burst_p95: float | None = None, pg_peak: float | None = 0.5) -> Headline:
    """A run's headline with the numbers the verdicts and the post read; everything else plain.
    The service's own burst read p95 is half k6's unless given."""
    server_burst = server_burst_p95 if server_burst_p95 is not None else None if burst_p95 is None else burst_p95 / 2
    nothing = CpuUse(None, None, None)
    read = ReadNumbers(count=count, errors=errors, error_rate=errors / count, p50_ms=5.0, p95_ms=burst_p95,
                       p99_ms=burst_p95, burst_p95_ms=burst_p95, baseline_p95_ms=baseline_p95,
                       burst_error_rate=errors / count, max_1s_p95_ms=burst_p95, server_p95_ms=server_burst,
                       server_burst_p95_ms=server_burst, client_server_ratio=ratio)
    endpoint = EndpointNumbers(count=count, rps=count / 10, p50_ms=5.0, p95_ms=burst_p95, p99_ms=burst_p95,
                               max_ms=burst_p95, errors=errors, error_rate=errors / count, statuses={"200": count},
                               burst=latency(burst_p95), baseline=latency(baseline_p95), max_1s_p95_ms=burst_p95,
                               server_p95_ms=server_burst, server_burst_p95_ms=server_burst)
    return Headline(
        requests=requests,
        endpoints={"list_todos": endpoint},
        read=read,
        write=WriteNumbers(**vars(latency(write_burst, errors=round(write_err * 100))), burst_p95_ms=write_burst),
        pool=PoolNumbers(sizes={"shared": 12}, max_waiters=waiters, max_waiters_by_pool={"shared": waiters or 0},
                         peak_in_use_by_pool={"shared": 12}, acquire_timeouts=timeouts,
                         acquire_timeouts_by_pool={"shared": timeouts or 0}, acquire_timeouts_during_k6=timeouts),
        tasks=Gauge(baseline=tasks[0], peak=tasks[1]),
        in_flight=Gauge(baseline=tasks[0] / 10, peak=tasks[1] / 10),
        cpu=CpuNumbers(service=CpuUse(None if svc_peak is None else svc_peak / 2, svc_peak, None),
                       postgres=CpuUse(0.2, pg_peak, None), k6=nothing, proxy=nothing, ui=nothing, recorder=nothing,
                       machine=machine or nothing, others=nothing, sut_side=sut_side, load_side=load_side),
        k6_exit_code=0, k6_summary=None, dropped_iterations=dropped, warm_up=None, rates=None, cpu_sets=None,
        notes=[], recording=None,
    )


LAB = LabParams()
MACHINE = Machine(cores=2, memory_gib=23.5, cpu_model="AMD EPYC", kernel="6.1", os="Debian")
CALIBRATION = Calibration(connections=12, probe_rps=50, probe_s=15, requests={"login": 349, "list_todos": 149},
                          errors=0, mix={"login": 0.7, "list_todos": 0.3}, hold_ms={"login": 21.3, "list_todos": 10.7},
                          mean_hold_ms=18.12, capacity_rps=662.25)


def analysed_runs(folder: Path, repeats: int = 2) -> list[RunResult]:
    """`repeats` runs of the tiny run folder under `folder` (rep-1, rep-2...), analysed."""
    return [analyze_run(write_run(folder / f"rep-{n}", run_record(repeat=n)), TINY, "shared", n)
            for n in range(1, repeats + 1)]


def summary_of(runs: list[RunResult]) -> Summary:
    """The summary of one arm's runs, with a calibration, as cli.make_report builds it."""
    return summary.build("RUN1", TINY, LAB, "load/todo-load.js", len(runs), {"shared": runs}, MACHINE,
                         {"k6": "k6 v1.1.0", "git_dirty": False}, ["a note"],
                         Rates(base_rps=10, burst_rps=50, source="calibrated", capacity_rps=40.0), CALIBRATION,
                         CpuSetsRecord(sut=None, load=None, note="not pinned", postgres="not pinned"))


def results_folder(out: Path, repeats: int = 1) -> Path:
    """A results folder as the runner leaves it before the report: config.json, and `repeats`
    runs of the shared arm under arms/shared/ (one k6 process each, as the runner records it)."""
    for n in range(1, repeats + 1):
        write_run(out / "arms" / "shared" / f"rep-{n}",
                  run_record(repeat=n, k6_processes=[dataclasses.replace(K6ProcessRecord.files(1, 1), exit_code=0)]))
    RunConfig(run_id="RUN1", profile=TINY, lab=LAB, arms=["shared"], repeats=repeats, record=False,
              cpu_sets=CpuSetsRecord(sut=None, load=None, note="not pinned"), ui="ok", load_script="load/todo-load.js",
              machine=MACHINE, versions={"k6": "k6 v1.1.0"},
              rates=Rates(base_rps=10, burst_rps=50, source="explicit")).save(out / "config.json")
    return out


def arm(key: str, h: Headline, pools: dict[str, int]) -> ArmSummary:
    """One arm that ran once, with headline `h`."""
    a = ARMS_BY_KEY[key]
    return ArmSummary(act=a.act, label=a.label, story=a.story, pool_mode=a.pool_mode, pool_size=a.pool_size,
                      pools=pools, median=h, spread={}, repeats=[h], run_dirs=[])


# ---------------------------------------------------------------------------------------------
# A sweep (sweep.py): one regime folder, two arms, three steps of which the last is not
# measurable here. The shared arm breaks at its second step (slow reads, 30% of them failing)
# and its machine is busy there (a trust check fails); the isolated arm holds.

SWEEP_PROFILE = Profile(name="sweep-tiny", base_x=0.25, burst_x=1.3, bursts=3, burst_s=2, gap_s=1, warmup_s=2,
                        recovery_s=1, ramp_s=0, users=10, sessions=2, todos_per_user=1, warmup_requests=4, probe_s=1,
                        steps=(0.5, 2.0, 3.0))
# Capacity 12 / 0.3 s = 40 req/s; reads are 20% of the mix and hold a connection 100 ms: the
# isolated read pool's 4 connections are full at 4 / (0.2 x 0.1 s) = 200 req/s, 5x.
SWEEP_CALIBRATION = Calibration(connections=12, probe_rps=50, probe_s=15, requests={"login": 400, "list_todos": 100},
                                errors=0, mix={"login": 0.8, "list_todos": 0.2},
                                hold_ms={"login": 350.0, "list_todos": 100.0}, mean_hold_ms=300.0, capacity_rps=40.0)
SWEEP_USABLE = 2.0  # cores: steps predicted over 1.5 (75%) are not measurable
# The CPU budget's line: 0.1 cores + 12 ms a request: 0.34 at 20 req/s, 1.06 at 80, 1.54 at 120 (over 1.5).
SWEEP_COSTS = {"service": RoleCost(fixed_cores=0.1, ms_per_request=12.0)}
# Per arm and run step: (read ms, read error share, lab cores); the calm before is 10 ms reads.
SWEEP_STEPS = {"shared": [(12.0, 0.0, 0.4), (300.0, 0.3, 1.8)], "isolated": [(11.0, 0.0, 0.4), (14.0, 0.0, 1.0)]}


def sweep_cpu_plan() -> CpuPlan:
    chosen = DelayTry(delay_ms=5, calibration=SWEEP_CALIBRATION, stages=[], costs=SWEEP_COSTS, burst_rps=52,
                      predicted={}, predicted_total=0.0, fits=True)
    return CpuPlan(usable_cpus=SWEEP_USABLE, max_share=0.6, how="searched", tries=[chosen], fits=True)


def write_sweep_regime(folder: Path, regime: Regime = sweep.ROOM) -> Path:
    """A sweep regime's folder as cli.run_sweep leaves it: config.json with its plan, and one run
    per arm whose bursts are the measurable steps."""
    rates = Rates.calibrated(SWEEP_PROFILE, SWEEP_CALIBRATION.capacity_rps)
    plan = sweep.plan_steps(SWEEP_PROFILE, rates, sweep_cpu_plan(), SWEEP_USABLE, regime)
    profile, run_rates = sweep.run_profile(SWEEP_PROFILE, rates, plan)
    config = RunConfig(run_id="SWEEP1", profile=profile, lab=LAB, arms=list(SWEEP_STEPS), repeats=1, record=False,
                       cpu_sets=CpuSetsRecord(sut=None, load=None, note="not pinned"), ui="ok",
                       load_script="load/todo-load.js", machine=MACHINE, versions={"k6": "k6 v1.1.0"},
                       rates=run_rates, calibration=SWEEP_CALIBRATION, cpu_plan=sweep_cpu_plan(), sweep=plan)
    folder.mkdir(parents=True, exist_ok=True)
    config.save(folder / "config.json")
    for key, steps in SWEEP_STEPS.items():
        _write_sweep_run(folder / "arms" / key / "rep-1", key, profile, run_rates, steps)
    return folder


def _write_sweep_run(run_dir: Path, key: str, profile: Profile, rates: Rates,
                     steps: list[tuple[float, float, float]]) -> None:
    """k6's samples (every step started at its full rate: one read in five), the service's p95 per
    step (half k6's), the waiters, and the lab's CPU, for one arm."""
    run_dir.mkdir(parents=True, exist_ok=True)
    requests: list[tuple[float, str, float, int]] = [(-1.0, "setup_login", 3.0, 200)]
    requests += [(i * 0.1, "list_todos", 10.0, 200) for i in range(20)]  # the calm: 10 ms reads
    lab = [0.1] * profile.duration_s()
    stored = {}
    for index, ((start, end), rate, (read_ms, read_errors, cores)) in enumerate(
            zip(profile.steady_windows(), rates.step_rps or (), steps, strict=True), 1):
        count = round(rate * (end - start))
        for n in range(count):
            t = start + n / rate  # started then; k6 stamps it when it ends
            if n % 5 == 0:
                failed = (n // 5) % 10 < 10 * read_errors
                requests.append((t + read_ms / 1000, "list_todos", read_ms, 503 if failed else 200))
            else:
                requests.append((t + 0.02, "login" if n % 2 else "create_todo", 20.0, 200))
        for second in range(int(start), int(end)):
            lab[second] = cores
        stored[promql.step_query(index)] = QueryAnswer(query=f"<step {index}>", series=[
            Series(labels={"endpoint": "list_todos"}, points=[(T0 + end, read_ms / 2000)])])
    requests.sort()
    _write_k6(run_dir, K6ProcessRecord.files(1, 1), requests, 0)
    waiters = [0.0] * profile.duration_s()
    waiters[5] = 7.0 if key == "shared" else 0.0  # inside the second step (5 s to 7 s)
    stored["pool_waiters"] = QueryAnswer(query="<pool_waiters>", series=[
        Series(labels={"pool": "shared"}, points=[(T0 + i + 0.5, v) for i, v in enumerate(waiters)])])
    StoredQueries(prometheus="http://127.0.0.1:59090", start=T0 - 5, end=T0 + 15, step=1.0, t0=T0,
                  load_window=(T0, T0 + profile.duration_s() + 1), bursts=[], answers=stored).save(run_dir / ANSWERS)
    cumulative = [sum(lab[:i]) for i in range(len(lab) + 1)]
    samples = [{"t": T0 + i, "cpu_s": {"lab": cumulative[i]}} for i in range(len(cumulative))]
    (run_dir / "cpu.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    arm_ = ARMS_BY_KEY[key]
    record = run_record(arm=key, act=arm_.act, pool_mode=arm_.pool_mode, pool_size=arm_.pool_size,
                        profile=profile.name, rates=rates)
    (run_dir / "run.json").write_text(json.dumps(record.to_json(), indent=2))
