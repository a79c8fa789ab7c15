"""Runs one arm once: fresh database, proxy, service, warm-up, k6 with the CPU sampler and recording;
the run's PromQL answers when it ends.

Everything the run produces lands in its own folder (see `RUN_FILES`); `run.json` there records
what happened (URLs, pids, exit codes, notes: a `results.RunRecord`) so the analysis never has to
guess.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..analyse import promql
from ..model.labels import RunLabels
from ..model.profiles import Arm, LabParams, Profile, Rates
from ..model.results import CpuSetsRecord, K6ProcessRecord, RunRecord, WarmUp
from . import hosts, k6cmd, k6run, lab, procs
from .cpu import CpuSampler, find_postmaster, postgres_filter
from .cpulimit import UsableCpu
from .cpusets import CpuSets
from .monitoring import Prometheus

# What a run folder holds (results/<run>/arms/<arm>/rep-<n>/).
RUN_FILES = {
    "run.json": "what happened: timings, URLs, pids, pool sizes, exit codes, notes",
    "k6-samples.csv.gz": "k6's per-request samples (--out csv): the source of every client-side number",
    "k6-summary.json": "the k6 script's own end-of-test summary (SUMMARY_PATH)",
    "k6.cast": "asciinema v2 recording of k6's terminal",
    "k6.log": "k6's terminal output as text",
    "k6-report.html": "k6's own HTML report (its web dashboard's export, 1 s period), linked from report.html",
    "k6-<i>-*": "the same five files per k6 process when the load is split (--k6-processes N)",
    "cpu.jsonl": "cumulative CPU seconds of service, Postgres, k6, proxy, Prometheus, exporter, every second",
    promql.ANSWERS: "the answers of the run's PromQL queries (promql.py): every server-side number the report uses",
    "prometheus-series.json.gz": "the run's raw series from the lab's Prometheus (service, proxy, k6, database backends)",
    "setup.log / service.log / proxy.log": "logs of the database set-up and of each process",
    "recording/": "UI screenshots and timeline (when recording)",
}


RECORD_MARGIN_S = 20  # the recorder's --seconds beyond the load's duration (it is stopped when k6 ends)
# Once stopped, the recorder draws its dashboard frames (~0.2 s each, one per frame-ms recorded) and
# gives up after the recording's length + 10 s (record-ui.mjs): it is waited for that long, and 5 s.
RECORDER_DRAW_MARGIN_S = 15


@dataclass
class Context:
    """What every run of every arm shares."""

    paths: lab.Paths
    profile: Profile
    lab: LabParams
    host: hosts.SystemUnderTestHost  # where the system under test runs; the load side is here
    record: bool
    ui_ok: bool
    ui_note: str
    cpus: CpuSets
    run_id: str  # the results folder's run id; labels every series of the run in Prometheus
    prometheus: Prometheus
    k6_processes: int = 1  # k6 processes splitting each run's load (execution segments)
    usable: UsableCpu | None = None  # the CPU the lab may use (cpulimit.py); sampled against in every run
    rates: Rates | None = None  # set by calibration (or given explicitly) before the first run
    notes: list[str] = field(default_factory=list)

    @property
    def k6(self) -> k6cmd.K6Command:
        """How this lab invokes k6 (k6cmd.py)."""
        return k6cmd.K6Command(k6=self.paths.k6, script=self.paths.load_script, profile=self.profile,
                               password=self.lab.password, write_url=self.prometheus.write_url,
                               prefix=self.cpus.prefix("load"), host_options=self.host.k6_options())


def _display(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "?"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Progress:
    """One line of progress per second: which arm, elapsed/total, live request rate, pool state,
    asked of the lab's Prometheus (a few instant queries, only when a line is printed)."""

    def __init__(self, title: str, total_s: int, prometheus: Prometheus, queries: promql.RunQueries):
        self.title = title
        self.total_s = total_s
        self.prometheus = prometheus
        self.queries = queries.progress()
        self.started = time.monotonic()
        self.tty = sys.stdout.isatty()
        self._last_print = -10.0

    def tick(self) -> None:
        elapsed = time.monotonic() - self.started
        if elapsed - self._last_print < (1 if self.tty else 5):
            return
        self._last_print = elapsed
        line = f"  {self.title}  {elapsed:4.0f}s / {self.total_s}s"
        now = self._now()
        if now.get("rps") is None:
            line += "  (waiting for metrics)"
        else:
            line += f"  {now['rps']:6.0f} req/s"
            if None not in (now.get("in_use"), now.get("size"), now.get("waiters")):
                line += f"  pool in use {now['in_use']:.0f}/{now['size']:.0f}  waiters {now['waiters']:.0f}"
        print("\r" + line.ljust(100) if self.tty else line, end="" if self.tty else "\n", flush=True)

    def _now(self) -> dict[str, float | None]:
        """Each progress query's value now (None: no answer yet, or Prometheus did not answer)."""
        values: dict[str, float | None] = {}
        for name, query in self.queries.items():
            try:
                vector = self.prometheus.query(query, timeout=0.5)
            except (OSError, RuntimeError, ValueError):
                vector = []
            values[name] = float(vector[0]["value"][1]) if vector else None
        return values

    def done(self) -> None:
        if self.tty:
            print(flush=True)


@dataclass
class SystemUnderTest:
    """What `system_under_test` started for one run: the processes, how to reach the service, and
    what setting it up took."""

    children: procs.Processes
    service: lab.Service
    proxy_pid: int | None
    proxy_port: int | None  # None without the latency proxy
    seed_s: float  # seconds to migrate and seed the database
    warm_up: WarmUp
    notes: tuple[str, ...] = ()  # what went wrong setting it up, for the run record


@contextmanager
def system_under_test(ctx: Context, arm: Arm, run: RunLabels, out: Path) -> Iterator[SystemUnderTest]:
    """A fresh database with the seed data, the latency proxy and the service in `arm`'s mode (on
    the system under test's host and CPUs), warmed up and scraped by the lab's Prometheus with
    `run`'s labels (the block starts once Prometheus has scraped the service); everything is
    stopped (and no longer scraped) when the block ends."""
    params, paths, host = ctx.lab, ctx.paths, ctx.host
    setup_log = out / "setup.log"
    lab.recreate_database(paths, host, params.database, setup_log)
    direct_url = lab.with_database(host.admin_url, params.database)
    t = time.monotonic()
    lab.seed(paths, host, direct_url, params, ctx.profile, setup_log)
    seed_s = round(time.monotonic() - t, 2)

    sut = ctx.cpus.prefix("sut")
    with procs.Processes() as children:
        proxy_pid = proxy_port = None
        service_db = direct_url
        try:
            if params.delay_ms > 0:
                proxy = lab.start_proxy(children, paths, host, params.delay_ms, out / "proxy.log", prefix=sut)
                proxy_pid, proxy_port = proxy.pid, proxy.port
                service_db = lab.with_database(host.admin_url, params.database, host="127.0.0.1", port=proxy_port)
                ctx.prometheus.register("latency-proxy", proxy.metrics_address, run)
            service = lab.start_service(children, paths, host, arm, service_db, params, out / "service.log",
                                        prefix=sut)
            ctx.prometheus.register("todo-service", service.metrics_url.removeprefix("http://"), run)
            warm_up = lab.warm_up(service, ctx.profile, params)
            notes = () if ctx.prometheus.wait_scraped("todo-service", run) else (
                "Prometheus had not scraped the service when the load started: its numbers may be missing",)
            yield SystemUnderTest(children, service, proxy_pid, proxy_port, seed_s, warm_up, notes)
        finally:
            for job in ("todo-service", "latency-proxy"):
                ctx.prometheus.unregister(job)


def start_cpu_sampler(ctx: Context, sut: SystemUnderTest, path: Path) -> CpuSampler:
    """A CPU sampler writing to `path`, already tracking the system under test (service, Postgres,
    proxy), the monitoring, and what counts against the usable CPU; k6, the UI and the recorder
    are tracked when they start."""
    cpu = CpuSampler(path, usable=ctx.usable)
    cpu.track("service", sut.service.pid)
    cpu.track("postgres", find_postmaster(ctx.host.pg_data_dir), tree=True, keep=postgres_filter(ctx.lab.database))
    cpu.track("proxy", sut.proxy_pid)
    for name, pid in (ctx.prometheus.pids() | ctx.host.monitoring_pids()).items():  # what the monitoring costs
        cpu.track(name, pid)
    return cpu.start()


def k6_launches(ctx: Context, run: RunLabels, service: lab.Service, title: str,
                out: Path) -> list[tuple[K6ProcessRecord, k6run.K6Launch]]:
    """The run's k6 processes, each with its execution segment, files (its HTML report too) and
    REST API (paused until every one is ready: k6run.py). Each tags its samples `instance_id=<index>`, as k6-operator tags
    its runners, so Prometheus keeps their series apart (two writers of one series would have
    their samples dropped as duplicates)."""
    assert ctx.rates is not None
    count = ctx.k6_processes
    launches = []
    for index in range(1, count + 1):
        files = K6ProcessRecord.files(index, count)
        api = f"127.0.0.1:{procs.free_port()}"
        argv = ctx.k6.process_argv(run, files, count, out / files.samples, api)
        assert files.html_report is not None
        env = ctx.k6.env(service.base_url, out / files.summary, ctx.rates, **k6cmd.dashboard_env(out / files.html_report))
        shown = title if count == 1 else f"{title} (process {index}/{count}, segment {files.segment})"
        launches.append((files, k6run.K6Launch(argv, env, out / files.cast, out / files.log, shown, api)))
    return launches


def run_arm(ctx: Context, arm: Arm, repeat: int, repeats: int, out: Path) -> RunRecord:
    """Run `arm` once into `out`; returns the run record (also written to out/run.json)."""
    out.mkdir(parents=True, exist_ok=True)
    profile, paths = ctx.profile, ctx.paths
    assert ctx.rates is not None, "rates are set by calibration (or --base-rps/--burst-rps) before any run"
    notes: list[str] = []

    print(f"[experiment] {arm.label}, repeat {repeat}/{repeats}: recreating and seeding {ctx.lab.database}", flush=True)
    run = RunLabels(ctx.run_id, arm.key, repeat)
    with system_under_test(ctx, arm, run, out) as sut:
        service = sut.service
        notes += sut.notes
        cpu = start_cpu_sampler(ctx, sut, out / "cpu.jsonl")
        try:
            recording = start_recording(ctx, sut.children, service, out, cpu)
            notes += recording.notes
            launches = k6_launches(ctx, run, service, f"k6: {arm.label}", out)
            queries = promql.RunQueries(run, ctx.lab.database)
            progress = Progress(f"[{arm.act} {arm.key} {repeat}/{repeats}]", profile.duration_s(), ctx.prometheus,
                                queries)
            loadavg_before = _loadavg()
            network_before = hosts.interface_counters(ctx.host.interface)
            k6_started = time.time()
            pids: dict[int, int] = {}

            def started(i: int, proc) -> None:
                pids[i] = proc.pid
                cpu.track(launches[i][0].cpu_group, proc.pid)

            outcomes = k6run.run_k6([launch for _, launch in launches], timeout=profile.duration_s() + 120,
                                    on_start=started, on_tick=progress.tick)
            k6_ended = time.time()
            network = hosts.difference(network_before, hosts.interface_counters(ctx.host.interface))
            loadavg_after = _loadavg()
            progress.done()
            time.sleep(promql.SCRAPE_WAIT_S)  # the service's final counters are scraped before it stops
            recorder_exit_code = finish_recording(recording) if recording.recorder else None
        finally:
            cpu.stop()

    k6_processes = [dataclasses.replace(files, pid=pids.get(i), exit_code=outcome.exit_code,
                                        resumed=outcome.resumed)
                    for i, ((files, _), outcome) in enumerate(zip(launches, outcomes, strict=True))]
    for process in k6_processes:
        if process.exit_code not in (0, 99):  # 99: the script's thresholds failed, which is data
            notes.append(f"k6 process {process.index} exited with code {process.exit_code}; see {process.log}")
    k6_exit_code = k6run.worst_exit_code([p.exit_code for p in k6_processes])
    _ask_queries(ctx, queries, k6_processes, k6_started, k6_ended, out, notes)
    series = _export_series(ctx, run, k6_started, k6_ended, out, notes)
    record = RunRecord(
        arm=arm.key, act=arm.act, pool_mode=arm.pool_mode, pool_size=arm.pool_size, repeat=repeat,
        profile=profile.name, notes=notes, load_script=_display(paths.load_script, paths.root),
        load_script_sha256=_sha256(paths.load_script), rates=ctx.rates, cpu_sets=CpuSetsRecord.of(ctx.cpus),
        seed_s=sut.seed_s, proxy_port=sut.proxy_port, service_url=service.base_url,
        metrics_url=service.metrics_url, service_pid=service.pid, warm_up=sut.warm_up, recording=recording.status,
        ui_url=recording.ui_url, loadavg_before=loadavg_before, k6_started=k6_started, k6_exit_code=k6_exit_code,
        k6_ended=k6_ended, loadavg_after=loadavg_after, recorder_exit_code=recorder_exit_code,
        prometheus_testid=run.testid, prometheus_series=series, k6_processes=k6_processes, network=network,
    )
    record.save(out / "run.json")
    return record


def _ask_queries(ctx: Context, queries: promql.RunQueries, k6_processes: list[K6ProcessRecord], k6_started: float,
                 k6_ended: float, out: Path, notes: list[str]) -> None:
    """Keep the answers of the run's PromQL queries in its folder (promql.ANSWERS): the report's
    server-side numbers. On failure a note says so, and the report shows them as missing."""
    try:
        promql.ask_for_run(ctx.prometheus, queries, out, ctx.profile, k6_started, k6_ended, processes=k6_processes)
    except (OSError, RuntimeError, ValueError) as error:
        notes.append(f"asking Prometheus for the run's numbers failed: {error}")


def _export_series(ctx: Context, run: RunLabels, k6_started: float, k6_ended: float, out: Path,
                   notes: list[str]) -> int | None:
    """Keep the run's raw series from Prometheus in its folder (prometheus-series.json.gz),
    beside the answers the report uses: the evidence they were computed from, and the material
    for a question nobody has asked yet once the Prometheus's 15 days are over. Returns how many
    series; None, with a note, if the export fails (the report does not read it)."""
    try:
        return ctx.prometheus.export(out / "prometheus-series.json.gz", k6_started - 5, k6_ended + 5, run)
    except (OSError, RuntimeError) as error:
        notes.append(f"exporting the run's series from Prometheus failed: {error}")
        return None


@dataclass(frozen=True)
class Recording:
    """The UI recorder of one run, if it started: the run record's "recording" says why not."""

    recorder: procs.Child | None
    status: str  # "on", or why not
    ui_url: str | None = None
    notes: tuple[str, ...] = ()
    seconds: int = 0  # the recorder's --seconds


def start_recording(ctx: Context, children: procs.Processes, service: lab.Service, out: Path,
                    cpu: CpuSampler, load_s: float | None = None) -> Recording:
    """The UI server and the recorder (when recording), tracked by `cpu`, recording for the load's
    `load_s` seconds (default: the profile's) and a margin."""
    if not ctx.record:
        return Recording(None, "off (--no-record)")
    if not ctx.ui_ok:
        return Recording(None, f"skipped: {ctx.ui_note}")
    try:
        load = ctx.cpus.prefix("load")
        ui_url = lab.start_ui(children, ctx.paths.root, service, ctx.prometheus.url, out / "ui.log", prefix=load)
        cpu.track("ui", children.children[-1].pid, tree=True)  # npm -> next-server
        # k6 spends a few seconds allocating VUs and logging in before the load starts: record
        # longer than the load, and stop the recorder once k6 is done.
        seconds = round((load_s or ctx.profile.duration_s()) + RECORD_MARGIN_S)
        recorder = lab.start_recorder(children, ctx.paths.root, ui_url, out / "recording", seconds, ctx.lab.frame_ms,
                                      out / "record-ui.log", prefix=load)
        cpu.track("recorder", recorder.pid, tree=True)  # node -> Chromium
        return Recording(recorder, "on", ui_url, seconds=seconds)
    except (procs.StartError, OSError) as error:
        return Recording(None, f"skipped: {error}", notes=(f"UI recording failed to start: {error}",))


def finish_recording(recording: Recording) -> int | None:
    """Let the recorder save the frame after the load ended, then stop it; returns its exit code
    (None: it was still running). Stopped, it draws the dashboard's frames from the readings it
    kept (drawing them while the load ran would take the load's CPU): this waits for that, after
    the load, outside every window the report measures."""
    recorder = recording.recorder
    assert recorder is not None
    time.sleep(2)
    code = recorder.proc.poll()
    recorder.stop(timeout=recording.seconds + RECORDER_DRAW_MARGIN_S)
    return code
