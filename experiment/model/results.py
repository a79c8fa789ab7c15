"""The experiment's results as typed values, and the one place that knows their JSON shape.

- `RunRecord`   what one run of one arm recorded (run.json, written by runner.py);
- `Headline`    what analysis.py computes from one run's raw files (analysis.json, and each
                repeat in summary.json), made of the typed parts below;
- `ArmSummary`  one arm: its headline's median over the repeats, their spread, every repeat;
- `Summary`     the whole run (summary.json): configuration, arms, verdicts;
- `RunConfig`   the results folder's config.json (what was asked for, and the rates found);
- `StoredQueries` the answers of a run's PromQL queries (promql.json, written by promql.py);
- `SweepPlan`   a sweep regime's steps as planned (in its config.json), `SweepSummary` the sweep's
                summary.json: every step of every arm in every regime, and the knees (sweep.py).

Data crosses the JSON boundary once, through codec.py: each file's class is a `JsonDocument`
(`to_json`, strict `from_json`, `load`, `save`), driven by the dataclasses' own fields, so adding
a number to a result means adding a field, nothing else. Code elsewhere works with attributes.
A field with `metadata=OMIT_NONE` is left out of the JSON when it is None (the CPU of each side,
which exists only when the run was pinned), as the files always did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from .codec import OMIT_NONE, JsonDocument, ResultsError, decode, encode
from .profiles import LabParams, Profile, Rates

SCHEMA = 2  # summary.json's "schema": raised when its shape changes incompatibly
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Client-side numbers (k6's samples, stats.py)


@dataclass(frozen=True)
class Latency:
    """Requests of one endpoint (or of all writes) over some time: how many, how fast, how slow."""

    count: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    errors: int
    error_rate: float


@dataclass(frozen=True)
class RequestStats:
    """Everything `stats.summarize` computes for a set of requests (Latency plus the slowest and
    the HTTP statuses)."""

    count: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    errors: int
    error_rate: float
    statuses: dict[str, int]  # HTTP status ("0": no response) -> requests

    def latency(self) -> Latency:
        return _project(self, Latency)


@dataclass(frozen=True)
class EndpointNumbers(RequestStats):
    """One endpoint over one run: the whole load, the bursts, the calm before them, and the
    service's own view (its histogram)."""

    burst: Latency
    baseline: Latency  # before the first burst
    max_1s_p95_ms: float | None  # the worst second (with enough requests to have a p95)
    server_p95_ms: float | None  # from the service's histogram, over the whole load
    server_burst_p95_ms: float | None  # the same, over the bursts


@dataclass(frozen=True)
class ReadNumbers:
    """GET /todos, the story's endpoint: its numbers side by side, and how far k6 is from the
    service (`client_server_ratio`: near 1 when k6 measures the service, far above when k6 also
    measured its own wait for CPU or the network)."""

    count: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    burst_p95_ms: float | None
    baseline_p95_ms: float | None
    burst_error_rate: float
    max_1s_p95_ms: float | None
    server_p95_ms: float | None
    server_burst_p95_ms: float | None
    client_server_ratio: float | None


@dataclass(frozen=True)
class WriteNumbers(Latency):
    """Every write (logins and new todos) together, and their p95 during the bursts."""

    burst_p95_ms: float | None


# ---------------------------------------------------------------------------------------------
# Server-side numbers (the PromQL answers, promql.py) and CPU


@dataclass(frozen=True)
class PoolNumbers:
    """The connection pools, from db_pool_* gauges and counters."""

    sizes: dict[str, int]  # pool -> max connections
    max_waiters: float | None  # the most requests waiting for a connection in any pool
    max_waiters_by_pool: dict[str, float]
    peak_in_use_by_pool: dict[str, float]
    acquire_timeouts: float | None  # over the whole service life (the counters start at zero)
    acquire_timeouts_by_pool: dict[str, float]
    acquire_timeouts_during_k6: float | None  # over the run's window (5 s before k6 to 5 s after)


@dataclass(frozen=True)
class LittlesLaw:
    """One pool over the bursts, Little's law checked: the connections it had in use on average
    (the gauge's scrapes) against connections handed out per second times how long each was held
    on average (the hold-time histogram). They agree when the gauge and the histogram tell the
    same story; `predicted_in_use` near the pool's size means the pool was the bottleneck."""

    mean_in_use: float | None
    throughput_rps: float | None  # connections handed out per second (hold-time observations)
    mean_hold_ms: float | None
    predicted_in_use: float | None  # throughput_rps x mean_hold_ms / 1000


@dataclass(frozen=True)
class Backends:
    """The database's view of one pool (pg_backends_count of application_name todo-service/<pool>):
    its backends running a query, and all of them, during the bursts."""

    peak_active: float | None
    mean_active_bursts: float | None
    peak_total: float | None


@dataclass(frozen=True)
class Gauge:
    """A gauge's median before the first burst, and its maximum during the load."""

    baseline: float | None
    peak: float | None


@dataclass(frozen=True)
class CpuUse:
    """Cores one group of processes (or one side's CPUs) used: mean and peak over the run, mean
    during the bursts; `cpus` is the side's CPU count when the run was pinned."""

    mean_cores: float | None
    peak_cores: float | None
    burst_mean_cores: float | None
    cpus: int | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class CpuNumbers:
    """CPU per group (cpu.py's groups), everything else on the machine (`others`), and each side's
    CPUs when pinned (cpusets.py)."""

    service: CpuUse
    postgres: CpuUse
    k6: CpuUse
    proxy: CpuUse
    ui: CpuUse
    recorder: CpuUse
    machine: CpuUse
    others: CpuUse
    # Prometheus and its Postgres exporter together; None in runs from before they were sampled.
    monitoring: CpuUse | None = field(default=None, metadata=OMIT_NONE)
    sut_side: CpuUse | None = field(default=None, metadata=OMIT_NONE)
    load_side: CpuUse | None = field(default=None, metadata=OMIT_NONE)
    # What counts against the usable CPU (cpulimit.py: the quota's cgroup, or the CPUs of the
    # affinity mask), and the seconds per second a CPU quota held the lab back; None in runs from
    # before the lab knew its usable CPU (then `machine` is judged) and, for `throttled`, without a quota.
    lab: CpuUse | None = field(default=None, metadata=OMIT_NONE)
    throttled: CpuUse | None = field(default=None, metadata=OMIT_NONE)
    # Each role's processes together (analysis.ROLES: system_under_test, load_side), whatever the
    # CPU sets; empty in analyses from before.
    roles: dict[str, CpuUse] = field(default_factory=dict)

    @property
    def pinned(self) -> bool:
        return self.sut_side is not None and self.load_side is not None


@dataclass(frozen=True)
class K6Summary:
    """k6's own end-of-test summary (load/lib/summary.js): a cross-check of the counts, and the
    iterations k6 could not start because every VU was busy. With several k6 processes the counts
    and dropped iterations are their sums, and each p95 is None: k6's per-process percentiles
    cannot be merged (ours are exact, from the merged samples)."""

    dropped_iterations: float | None
    counts: dict[str, int | None]
    p95_ms: dict[str, float | None]


@dataclass(frozen=True)
class LoadProcessNumbers:
    """One k6 process of a run (its execution segment of the load): the requests it made, the
    iterations it dropped, how it exited, how long after the run's first request its own first
    one came (the start spread between processes), and its CPU."""

    index: int  # 1-based, as K6ProcessRecord
    segment: str  # k6's --execution-segment
    requests: int  # its load requests (setup() logins excluded)
    dropped_iterations: float | None  # from its own summary
    exit_code: int | None
    first_request_offset_ms: float | None  # its first request after the run's first (0 for the first to start)
    cpu: CpuUse  # its cpu.jsonl group
    html_report: str | None = None  # k6's HTML report in the run folder (K6ProcessRecord's), when it wrote one


# ---------------------------------------------------------------------------------------------
# What a run recorded (run.json)


@dataclass(frozen=True)
class WarmUp:
    """The runner's warm-up requests before k6 (lab.warm_up)."""

    iterations: int
    ok: int
    requests: int
    seconds: float


@dataclass(frozen=True)
class CpuSetsRecord:
    """The CPU sets a run used (cpusets.CpuSets), and in config.json how Postgres was pinned."""

    sut: tuple[int, ...] | None
    load: tuple[int, ...] | None
    note: str
    postgres: str | None = field(default=None, metadata=OMIT_NONE)

    @classmethod
    def of(cls, sets: Any, postgres: str | None = None) -> CpuSetsRecord:
        """From a cpusets.CpuSets (anything with sut, load and note)."""
        return cls(sut=sets.sut, load=sets.load, note=sets.note, postgres=postgres)


# k6's web dashboard (kept as each process's HTML report, `K6ProcessRecord.html_report`) aggregates
# samples over this period: its default, 10 s, would average a 15 s burst away, and the burst is
# the whole story. k6cmd.dashboard_env asks for it; the report states it.
DASHBOARD_PERIOD = "1s"


@dataclass(frozen=True)
class K6ProcessRecord:
    """One k6 process of a run: its share of the load (k6's execution segment, the mechanism
    k6-operator splits a test with) and the files it wrote in the run folder. A run with one
    process keeps the file names runs always had (`K6ProcessRecord.files(1, 1)`)."""

    index: int  # 1-based
    segment: str  # k6's --execution-segment, "0:1" for the whole load
    samples: str  # its per-request samples (--out csv)
    summary: str  # its own end-of-test summary (SUMMARY_PATH)
    cast: str  # its terminal, as an asciinema cast
    log: str  # its terminal, as text
    cpu_group: str  # its name in cpu.jsonl
    pid: int | None = None
    exit_code: int | None = None  # None: still running when stopped
    resumed: float | None = None  # unix s when the runner un-paused it (every process at once)
    html_report: str | None = None  # k6's web-dashboard HTML export; None in runs from before

    @classmethod
    def files(cls, index: int, count: int) -> K6ProcessRecord:
        """Process `index` of `count`: its segment and file names (the old names when alone)."""
        segment = f"{Fraction(index - 1, count)}:{Fraction(index, count)}"
        if count == 1:
            return cls(index, segment, "k6-samples.csv.gz", "k6-summary.json", "k6.cast", "k6.log", "k6",
                       html_report="k6-report.html")
        name = f"k6-{index}"
        return cls(index, segment, f"{name}-samples.csv.gz", f"{name}-summary.json", f"{name}.cast", f"{name}.log",
                   name, html_report=f"{name}-report.html")


@dataclass(frozen=True)
class NetworkRecord:
    """Bytes through the network interface the load crossed (the load side's end of the veth,
    or the loopback when both roles share a host), counted by the kernel (psutil) before and after k6."""

    interface: str
    rx_bytes: int  # received by the load side: the answers
    tx_bytes: int  # sent by the load side: the requests


@dataclass(frozen=True)
class HostsRecord:
    """Where the two roles ran (hosts.py): the system under test (Postgres, latency proxy,
    service) and the load side (k6, UI, recorder, the runner and its Prometheus)."""

    mode: str  # "local" (one host, loopback) or "netns" (two network namespaces joined by a veth)
    sut_address: str  # where the service listens, as the load side reaches it
    load_address: str  # the load side's address, as the system under test sees it
    interface: str  # the load side's interface towards the system under test
    sut_namespace: str | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class ScrapeCounts:
    ok: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class RunRecord(JsonDocument):
    """What happened in one run of one arm (run.json), so the analysis never has to guess."""

    WHERE = "run.json"

    arm: str
    act: str
    pool_mode: str
    pool_size: int
    repeat: int
    profile: str  # the profile's name
    notes: list[str]
    load_script: str
    load_script_sha256: str
    rates: Rates
    cpu_sets: CpuSetsRecord | None
    seed_s: float
    proxy_port: int | None = None  # None without the latency proxy (--delay-ms 0)
    service_url: str
    metrics_url: str
    service_pid: int
    warm_up: WarmUp
    recording: str  # "on", or why not
    ui_url: str | None = None  # when recording
    loadavg_before: str
    k6_started: float  # unix seconds
    k6_exit_code: int | None
    k6_ended: float
    loadavg_after: str
    recorder_exit_code: int | None = None  # when recording (None too if it was still running)
    # The runner's own scrapes of /metrics (metrics.jsonl), in runs before it read PromQL.
    metrics_scrapes: ScrapeCounts | None = field(default=None, metadata=OMIT_NONE)
    # The run's k6 samples in the lab's Prometheus carry testid=<this>; prometheus-series.json.gz
    # holds this many of the run's series (None: not exported). Absent in runs before Prometheus.
    prometheus_testid: str | None = field(default=None, metadata=OMIT_NONE)
    prometheus_series: int | None = field(default=None, metadata=OMIT_NONE)
    # The k6 processes that made the load (one unless split with --k6-processes); empty in runs
    # from before, which had one, with the names of `K6ProcessRecord.files(1, 1)`.
    k6_processes: list[K6ProcessRecord] = field(default_factory=list)
    network: NetworkRecord | None = field(default=None, metadata=OMIT_NONE)  # absent in runs from before

    def load_processes(self) -> list[K6ProcessRecord]:
        """The run's k6 processes; for older runs their single one, with the run's exit code."""
        return self.k6_processes or [dataclasses.replace(K6ProcessRecord.files(1, 1), exit_code=self.k6_exit_code,
                                                         html_report=None)]


def k6_processes_of(record: RunRecord | None) -> list[K6ProcessRecord]:
    """A run's k6 processes (`RunRecord.load_processes`); one, with the old file names and no exit
    code, for a run folder without run.json."""
    return record.load_processes() if record else [K6ProcessRecord.files(1, 1)]


# ---------------------------------------------------------------------------------------------
# The answers of a run's PromQL queries (promql.py), kept in its folder (promql.json)


@dataclass(frozen=True)
class Series:
    """One series of a query's answer: its labels and its (unix seconds, value) points."""

    labels: dict[str, str]
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class QueryAnswer:
    query: str  # the PromQL, as asked
    series: list[Series]


@dataclass(frozen=True)
class StoredQueries(JsonDocument):
    """Every answer the analysis reads about one run, asked of `prometheus` when the run ended."""

    WHERE = "promql.json"
    INDENT = 1

    prometheus: str  # its URL
    start: float  # the per-second queries' window (unix seconds) and step
    end: float
    step: float
    t0: float  # the scenario's first request: the charts' time zero
    load_window: tuple[float, float]  # the windows of the one-answer queries (unix seconds)
    bursts: list[tuple[float, float]]
    answers: dict[str, QueryAnswer]  # by promql.RunQueries' names

    def get(self, name: str) -> QueryAnswer | None:
        return self.answers.get(name)


# ---------------------------------------------------------------------------------------------
# What analysis computes per run


@dataclass(frozen=True)
class Headline(JsonDocument):
    """Every number of one run (one arm, one repeat) that the report, the verdicts and the post
    use. An arm's median over repeats is a Headline too (`median`)."""

    WHERE = "headline"

    requests: int  # k6's requests, its setup() logins excluded
    endpoints: dict[str, EndpointNumbers]  # by the service's endpoint name (stats.ENDPOINTS)
    read: ReadNumbers
    write: WriteNumbers
    pool: PoolNumbers
    tasks: Gauge  # tokio_alive_tasks
    in_flight: Gauge  # http_requests_in_flight
    cpu: CpuNumbers
    k6_exit_code: int | None  # the worst of its processes' (k6run.worst_exit_code)
    k6_summary: K6Summary | None  # its processes' summaries, summed
    dropped_iterations: float | None  # k6's, from its summaries: the sum over its processes
    warm_up: WarmUp | None
    rates: Rates | None
    cpu_sets: CpuSetsRecord | None
    notes: list[str]
    recording: str | None
    little: dict[str, LittlesLaw] = field(default_factory=dict)  # by pool, over the bursts
    database: dict[str, Backends] = field(default_factory=dict)  # by pool
    # The k6 processes that made the load, by their index ("1", "2"...): a dict, so that an arm's
    # median takes each process's numbers over the repeats. Empty in analyses from before.
    load_processes: dict[str, LoadProcessNumbers] = field(default_factory=dict)
    # The last process's first request after the first process's (ms): 0 with one process.
    load_start_spread_ms: float | None = None
    network: NetworkRecord | None = field(default=None, metadata=OMIT_NONE)  # the run record's

# ---------------------------------------------------------------------------------------------
# One arm, and the whole run


@dataclass(frozen=True)
class Spread:
    """min / median / max of one number over the repeats that have it (`n` of them)."""

    min: float
    median: float
    max: float
    n: int


@dataclass(frozen=True)
class ArmSummary(JsonDocument):
    """One arm over its repeats: what it is, the median of every headline number, the spread of
    the ones the report shows, and each repeat's own headline."""

    WHERE = "arm"

    act: str
    label: str
    story: str
    pool_mode: str
    pool_size: int
    pools: dict[str, int]  # pool -> connections, as the service reported them
    median: Headline  # every number's median over the repeats
    spread: dict[str, Spread | None]  # by summary.SPREAD's names; None: no repeat had the number
    repeats: list[Headline]
    run_dirs: list[str]

@dataclass(frozen=True)
class Calibration(JsonDocument):
    """The calibration probe's result (calibrate.py, calibration.json; summary.json and config.json
    hold it too): hold times, the shared pool's capacity, and how it was measured."""

    WHERE = "calibration.json"

    connections: int  # the probed shared pool's size
    probe_rps: int  # the probe's steady rate
    probe_s: int  # how long it ran
    requests: dict[str, int]  # requests per endpoint during the probe, as the service counted them
    errors: int  # probe requests answered with an error (expected: 0)
    mix: dict[str, float]  # each endpoint's share of k6's requests (the acts' mix)
    hold_ms: dict[str, float]  # connection-milliseconds per request, per endpoint
    mean_hold_ms: float  # over the mix
    capacity_rps: float  # connections / mean hold
    delay_ms: int | None = field(default=None, metadata=OMIT_NONE)  # the latency proxy's delay it ran at (absent: before the CPU budget)

    def busy_connections(self, rate_rps: float) -> dict[str, float]:
        """Connections each endpoint keeps busy at `rate_rps` (Little's law: rate x share x hold)."""
        return {e: rate_rps * self.mix[e] * self.hold_ms[e] / 1000 for e in self.hold_ms if e in self.mix}



# The CPU the lab may use (cpulimit.py), and the plan that fitted the load to it (budget.py).

@dataclass(frozen=True)
class UsableCpu:
    """How much CPU the lab may use, and why: stated in the report, and what every CPU verdict and
    the CPU budget are judged against."""

    cores_seen: int  # the CPUs the kernel lists (os.cpu_count())
    affinity: list[int]  # the CPUs this process may run on (sched_getaffinity)
    usable: float  # the least of len(affinity) and the quota, in CPUs
    why: str  # in words, for the report
    quota_cpus: float | None = field(default=None, metadata=OMIT_NONE)  # the tightest CFS quota, in CPUs
    quota_cgroup: str | None = field(default=None, metadata=OMIT_NONE)  # the cgroup folder it is set on
    lab_cgroup: str | None = field(default=None, metadata=OMIT_NONE)  # the process's own cgroup folder (hierarchy with the quota)

    @property
    def limited_by_quota(self) -> bool:
        return self.quota_cpus is not None and self.quota_cpus < len(self.affinity)


@dataclass(frozen=True)
class RoleCost:
    """One role's CPU as a straight line in the request rate."""

    fixed_cores: float  # with no requests (its own timers, screenshots, scrapes, runtime)
    ms_per_request: float  # CPU milliseconds per request, on top

    def cores(self, rate_rps: float) -> float:
        return self.fixed_cores + self.ms_per_request * rate_rps / 1000


@dataclass(frozen=True)
class ProbeStage:
    """One steady stage of the calibration probe: its rate and each role's mean cores."""

    rate_rps: float
    cores: dict[str, float]  # role -> mean cores over the stage (cpu.jsonl)
    seconds: float  # how long the CPU was averaged over


@dataclass(frozen=True)
class DelayTry:
    """One probe at one delay, and what the budget made of it."""

    delay_ms: int
    calibration: Calibration
    stages: list[ProbeStage]
    costs: dict[str, RoleCost]
    burst_rps: int  # the profile's burst multiple of this probe's capacity
    predicted: dict[str, float]  # role -> cores in the bursts
    predicted_total: float
    fits: bool  # predicted_total <= MAX_PLANNED_SHARE x usable


@dataclass(frozen=True)
class CpuPlan:
    """How the delay was chosen: every probe, the usable CPU it was judged against, the outcome."""

    usable_cpus: float
    max_share: float
    # "searched" (the ladder), "explicit delay" (--delay-ms), "regime delay" (a sweep regime's own,
    # whose steps are planned apart: sweep.plan_steps), "explicit rates" (no probe)
    how: str
    tries: list[DelayTry]
    fits: bool  # the chosen try fits the budget
    forced: bool = False  # --force: the acts ran although nothing fitted
    note: str | None = field(default=None, metadata=OMIT_NONE)  # why the search stopped, when it did

    @property
    def chosen(self) -> DelayTry | None:
        return self.tries[-1] if self.tries else None

    @property
    def budget_cores(self) -> float:
        return self.max_share * self.usable_cpus


@dataclass(frozen=True)
class Machine(JsonDocument):
    """What the experiment ran on (machine.machine())."""

    WHERE = "machine"

    cores: int | None
    memory_gib: float | None
    cpu_model: str | None
    kernel: str | None
    os: str | None


@dataclass(frozen=True)
class RepeatVerdict:
    """One repeat's own judgement of a sign (verdict.judge): what verdicts.xml and `--check` read."""

    repeat: int  # 1-based
    holds: bool | None  # None: could not judge
    evidence: str


@dataclass(frozen=True)
class VerdictSummary:
    """One expected sign judged over every repeat (verdict.combine): `verdict` is yes, no, mixed
    or n/a; `holds` is the first repeat's; `evidence` holds each repeat's numbers."""

    key: str
    sign: str
    threshold: str
    holds: bool | None
    evidence: str
    optional: bool
    verdict: str
    held_in: int
    judged: int
    trust: bool = False  # a trust check (verdict.TRUST_CHECKS): on the measurement, not the story
    repeats: list[RepeatVerdict] = field(default_factory=list)  # each repeat's; empty in summaries from before


@dataclass(frozen=True)
class Summary(JsonDocument):
    """summary.json: every number of the run, for the documents and the post."""

    WHERE = "summary.json"

    run_id: str
    profile: Profile
    rates: Rates
    calibration: Calibration | None
    cpu_sets: CpuSetsRecord | None
    lab: LabParams
    load_script: str
    repeats: int
    machine: Machine
    versions: dict[str, Any]  # tool -> version, as machine.versions() found them
    arms: dict[str, ArmSummary]  # by arm key, in the order they ran
    verdicts: list[VerdictSummary]
    contaminated: list[str]  # the runs whose k6 numbers are too far from the service's own
    notes: list[str]
    hosts: HostsRecord | None = field(default=None, metadata=OMIT_NONE)  # config.json's; absent: one host
    usable_cpu: UsableCpu | None = field(default=None, metadata=OMIT_NONE)  # config.json's
    cpu_plan: CpuPlan | None = field(default=None, metadata=OMIT_NONE)  # config.json's

    @property
    def usable_cpus(self) -> float:
        """What every CPU verdict is judged against: the usable CPU, or, in runs from before the
        lab knew it, the cores the machine listed."""
        return self.usable_cpu.usable if self.usable_cpu else float(self.machine.cores or 1)

    def to_json(self) -> dict:
        """The JSON, with `schema` first and, after the arms, `headline`: the few numbers a post
        quotes, per arm (the medians), for readers of the file."""
        data = encode(self)
        out: dict[str, Any] = {"schema": SCHEMA}
        for key, value in data.items():
            out[key] = value
            if key == "arms":
                out["headline"] = _post_numbers(self)
        return out

    def configuration_json(self) -> dict:
        """The part of the JSON that states how the run was set up (the report shows it raw)."""
        data = self.to_json()
        return {k: data[k] for k in ("profile", "rates", "calibration", "cpu_sets", "hosts", "lab", "load_script",
                                     "repeats", "machine", "usable_cpu", "versions") if k in data}

    @classmethod
    def from_json(cls, data: Any, where: str | None = None) -> Summary:
        where = where or cls.WHERE
        if not isinstance(data, dict):
            raise ResultsError(f"{where}: not a JSON object")
        if data.get("schema") != SCHEMA:
            raise ResultsError(f"{where}: schema {data.get('schema')!r}, this code reads schema {SCHEMA}")
        if "headline" not in data:
            raise ResultsError(f"{where}: missing field 'headline'")
        rest = {k: v for k, v in data.items() if k not in ("schema", "headline")}
        return decode(cls, rest, where)

# summary.json's "headline": name -> the number of an arm's median headline.
POST_NUMBERS: tuple[tuple[str, Callable[[Headline], Any]], ...] = (
    ("read_p95_ms", lambda h: h.read.p95_ms),
    ("read_burst_p95_ms", lambda h: h.read.burst_p95_ms),
    ("read_baseline_p95_ms", lambda h: h.read.baseline_p95_ms),
    ("read_server_burst_p95_ms", lambda h: h.read.server_burst_p95_ms),
    ("read_client_server_ratio", lambda h: h.read.client_server_ratio),
    ("read_max_1s_p95_ms", lambda h: h.read.max_1s_p95_ms),
    ("read_error_rate", lambda h: h.read.error_rate),
    ("read_errors", lambda h: h.read.errors),
    ("read_requests", lambda h: h.read.count),
    ("write_p95_ms", lambda h: h.write.p95_ms),
    ("write_burst_p95_ms", lambda h: h.write.burst_p95_ms),
    ("write_error_rate", lambda h: h.write.error_rate),
    ("service_cpu_peak_cores", lambda h: h.cpu.service.peak_cores),
    ("service_cpu_mean_cores", lambda h: h.cpu.service.mean_cores),
    ("postgres_cpu_peak_cores", lambda h: h.cpu.postgres.peak_cores),
    ("k6_cpu_mean_cores", lambda h: h.cpu.k6.mean_cores),
    ("machine_cpu_mean_cores", lambda h: h.cpu.machine.mean_cores),
    ("machine_cpu_burst_mean_cores", lambda h: h.cpu.machine.burst_mean_cores),
    ("sut_cpu_burst_mean_cores", lambda h: h.cpu.sut_side.burst_mean_cores if h.cpu.sut_side else None),
    ("load_cpu_burst_mean_cores", lambda h: h.cpu.load_side.burst_mean_cores if h.cpu.load_side else None),
    ("others_cpu_mean_cores", lambda h: h.cpu.others.mean_cores),
    ("k6_dropped_iterations", lambda h: h.dropped_iterations),
    ("pool_max_waiters", lambda h: h.pool.max_waiters),
    ("pool_acquire_timeouts", lambda h: h.pool.acquire_timeouts),
    ("tasks_baseline", lambda h: h.tasks.baseline),
    ("tasks_peak", lambda h: h.tasks.peak),
    ("in_flight_baseline", lambda h: h.in_flight.baseline),
    ("in_flight_peak", lambda h: h.in_flight.peak),
)

def _post_numbers(summary: Summary) -> dict[str, dict[str, Any]]:
    numbers = {name: {key: encode(number(arm.median)) for key, arm in summary.arms.items()}
               for name, number in POST_NUMBERS}
    return numbers | {"pool_sizes": {key: dict(arm.pools) for key, arm in summary.arms.items()}}

# ---------------------------------------------------------------------------------------------
# The sweep (--sweep, sweep.py): the load stepped across the capacity, in one or two regimes


@dataclass(frozen=True)
class Regime:
    """The conditions a sweep runs under: the database with room, or held at its own limit."""

    key: str  # "room", "db-limited": the regime's folder under the results folder
    title: str  # in words, for the report
    db_cpu: float | None  # the CPU quota (in CPUs) Postgres ran under; None: no quota (or not chosen yet)
    delay_ms: int | None  # the latency proxy's delay fixed for the regime; None: the CPU budget picks it
    # Under a quota: the requests per second Postgres can serve in it (the quota over Postgres's CPU
    # per request, from the calibration), which the steps are multiples of; and where the quota
    # came from ("chosen": sweep.database_limit; "--db-cpu").
    db_capacity_rps: float | None = None
    db_cpu_source: str | None = None


@dataclass(frozen=True)
class PlannedStep:
    """One step of a sweep as planned: its rate, and whether this machine can offer it cleanly."""

    multiple: float  # of the regime's capacity: the shared pool's measured one, or the database's when lower
    rate_rps: int  # the burst's total rate
    predicted_cores: float  # the CPU budget's prediction of the lab's CPU at this rate (budget.predict)
    measurable: bool  # predicted_cores <= limit_cores
    run: bool  # k6 ran it: measurable, or --force


@dataclass(frozen=True)
class SweepPlan:
    """A regime's steps, planned from its calibration: the steps k6 ran are the profile's."""

    regime: Regime
    limit_cores: float  # a step predicted above this is "not measurable here" (the 75% trust limit)
    steps: list[PlannedStep]


@dataclass(frozen=True)
class StepNumbers:
    """What one arm did in one step's steady part (ramps left out)."""

    seconds: float  # the steady part's length
    sent_rps: float  # requests k6 sent per second
    goodput_rps: float  # requests answered 2xx per second, every endpoint
    read_p95_ms: float | None  # GET /todos, k6's samples
    read_server_p95_ms: float | None  # GET /todos, the service's histogram (PromQL over the step)
    read_error_rate: float
    write_p95_ms: float | None
    write_error_rate: float
    max_waiters: float | None  # the most requests waiting for a connection, all pools together
    cpu: dict[str, float]  # role (service, postgres, k6, proxy, lab) -> mean cores
    shortfall: float  # the share of the planned requests k6 did not send (dropped iterations)
    client_server_ratio: float | None  # read_p95_ms / read_server_p95_ms
    failed_checks: list[str]  # the trust checks it failed, in words (empty: trusted)


@dataclass(frozen=True)
class SweepStep:
    """One step of one arm: the plan, and the numbers when it ran (None: not measurable here)."""

    plan: PlannedStep
    numbers: StepNumbers | None
    past_knee: bool  # read errors or read p95 past the knee's thresholds (sweep.KNEE_*)


@dataclass(frozen=True)
class Knee:
    """Where an arm's reads break: predicted from the calibration, and measured."""

    predicted_rps: float | None  # Little's law: the pool that serves the reads, full
    predicted_multiple: float | None  # of the capacity
    predicted_why: str
    measured_multiple: float | None  # the first step past the knee; None: none of the steps run
    measured_rps: int | None
    measured_why: str


@dataclass(frozen=True)
class SweepArm:
    """One arm's sweep in one regime."""

    key: str
    label: str
    base_read_p95_ms: float | None  # before the first step: what "5x the base" is measured against
    steps: list[SweepStep]
    knee: Knee
    run_dir: str | None  # None: no step ran


@dataclass(frozen=True)
class SweepRegime:
    """One regime of the sweep: its plan, and every arm."""

    regime: Regime
    delay_ms: int
    capacity_rps: float | None
    usable_cpus: float | None
    limit_cores: float
    arms: dict[str, SweepArm]


@dataclass(frozen=True)
class SweepSummary(JsonDocument):
    """The sweep's summary.json: every step of every arm in every regime, the knees, the finding."""

    WHERE = "summary.json (sweep)"

    run_id: str
    profile: Profile
    machine: Machine
    regimes: list[SweepRegime]
    finding: str  # the paragraph for the post, written from the numbers (sweep.finding)
    notes: list[str]


@dataclass(frozen=True)
class RunConfig(JsonDocument):
    """A results folder's config.json: what was asked for (written before the first run), then
    what the run learned (rates, calibration, how Postgres was pinned)."""

    WHERE = "config.json"

    run_id: str
    profile: Profile
    lab: LabParams
    arms: list[str]
    repeats: int
    record: bool  # --no-record not given
    cpu_sets: CpuSetsRecord
    ui: str  # "ok", or why the UI can't be recorded
    load_script: str
    machine: Machine
    versions: dict[str, Any]
    rates: Rates | None = None  # set once calibrated (or given)
    calibration: Calibration | None = None
    hosts: HostsRecord | None = field(default=None, metadata=OMIT_NONE)  # absent in runs from before: local
    k6_processes: int = 1  # k6 processes per run (execution segments)
    # The CPU the lab may use, and how the delay was fitted to it; absent in runs from before.
    usable_cpu: UsableCpu | None = field(default=None, metadata=OMIT_NONE)
    cpu_plan: CpuPlan | None = field(default=None, metadata=OMIT_NONE)  # None also with explicit rates
    sweep: SweepPlan | None = field(default=None, metadata=OMIT_NONE)  # a regime of --sweep (sweep.py)

    @property
    def recorded(self) -> bool:
        """Whether the UI was recorded in the runs."""
        return self.record and self.ui == "ok"


def _project(value: Any, cls: type[T]) -> T:
    """The fields of `cls` taken from `value` (a dataclass with at least those fields)."""
    return cls(**{f.name: getattr(value, f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
