"""Checks that a results folder is complete: report, charts, summary.json with data for every arm.

summary.json, config.json and every run.json are read through their types (results.py), so a
missing, renamed or unexpected field is a failed check that names it.

    python -m experiment.check_results DIR [--arms shared,isolated,shared-3x] [--expect-recording]
        [--expect-k6-processes N] [--expect-hosts local|netns] [--junit-schema XSD]
    python -m experiment.check_results DIR --sweep [--regimes room,db-limited] [--arms ...]

It checks that the pipeline produced everything, never how big the effect is (that is a benchmark
result, not a test). Prints one line per check and a closing `N passed, N failed` line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TypeVar
from xml.etree import ElementTree

import xmlschema

from .analyse.analysis import LAST_METRICS_JSONL_COMMIT
from .analyse.promql import ANSWERS
from .model.codec import ResultsError
from .model.profiles import ARMS
from .model.results import HostsRecord, RunConfig, RunRecord, Summary, SweepSummary, k6_processes_of
from .model.shape import ENDPOINTS
from .report import junit
from .report.postkit import write_post

T = TypeVar("T")

CHARTS = ("read-p95.png", "endpoints.png", "pools.png", "cpu-tasks.png", "database.png")


def checks(out: Path, arms: list[str], expect_recording: bool = False, expect_k6_processes: int | None = None,
           expect_hosts: str | None = None, junit_schema: Path | None = None) -> list[tuple[str, bool, str]]:
    results: list[tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        results.append((name, bool(ok), detail))

    def load(name: str, kind: type[T], path: Path) -> T | None:
        """A results file read into its type: a missing or renamed field fails here, by name."""
        try:
            value = kind.load(path)  # type: ignore[attr-defined]
        except ResultsError as error:
            check(f"{name} reads as a {kind.__name__}", False, str(error))
            return None
        check(f"{name} reads as a {kind.__name__}", True)
        return value

    files_exist(check, out, ("report.html", "summary.md", "summary.json", junit.NAME, "config.json", "post/post.md",
                             "post/README.md"), CHARTS)
    report = out / "report.html"
    if report.exists():
        check("report.html inlines its charts", report.read_text().count("data:image/png;base64,") >= len(CHARTS))

    config = load("config.json", RunConfig, out / "config.json") if (out / "config.json").exists() else None
    recorded = config is not None and config.recorded
    if expect_recording:
        check("the UI was recorded during the load", recorded,
              f"record={config.record}, ui={config.ui}" if config else "no config.json")
    k6_processes = config.k6_processes if config else 1
    hosts = config.hosts if config else None
    if expect_k6_processes is not None:
        check(f"config.json asks for {expect_k6_processes} k6 process(es) per run",
              k6_processes == expect_k6_processes, f"{k6_processes}")
    if expect_hosts is not None:
        check(f"the roles ran on hosts {expect_hosts}", (hosts.mode if hosts else "local") == expect_hosts,
              hosts.mode if hosts else "no hosts in config.json: local")

    summary_path = out / "summary.json"
    summary = load("summary.json", Summary, summary_path) if summary_path.exists() else None
    if summary is None:
        return results
    check("summary.json is exactly what its types write (nothing more, nothing less)",
          json.loads(summary_path.read_text()) == summary.to_json())
    post = out / "post" / "post.md"
    if post.exists():
        check("post.md has no unfilled placeholder", "{" not in post.read_text().split("---")[0])
        # Every number in post.md comes from summary.json: writing it again from the summary
        # must give the very same text.
        with tempfile.TemporaryDirectory() as scratch:
            again = Path(scratch) / "post.md"
            write_post(summary, again)
            check("post.md's numbers are the summary's (regenerated from summary.json, identical)",
                  again.read_text() == post.read_text())
    check("summary.json has verdicts", bool(summary.verdicts))
    if (out / junit.NAME).exists():
        _check_junit(check, out / junit.NAME, summary, junit_schema)
    check("summary.json has the versions", bool(summary.versions))
    if summary.rates.source == "calibrated":
        calibration = summary.calibration
        hold = calibration.hold_ms if calibration else {}
        check("the calibration measured a hold time for every endpoint", set(hold) >= set(ENDPOINTS), f"{hold}")
        check("the calibrated capacity is a positive rate", calibration is not None and calibration.capacity_rps > 0)
        probed = out / "calibration" / f"{calibration.delay_ms}ms" if calibration else out / "calibration"
        check("the calibration's raw files are kept (both stages, their CPU)",
              all((probed / n).exists() for n in ("calibration.json", "k6-summary.json", "k6.log", "k6-cpu-summary.json",
                                                   "cpu.jsonl")), str(probed))
        plan = summary.cpu_plan
        check("the CPU plan judged the chosen delay", plan is not None and plan.chosen is not None
              and plan.chosen.delay_ms == summary.lab.delay_ms and bool(plan.chosen.predicted))
        check("the usable CPU is recorded", summary.usable_cpu is not None and summary.usable_cpu.usable > 0)
    for arm in arms:
        data = summary.arms.get(arm)
        check(f"summary.json has arm {arm}", data is not None)
        if data is None:
            continue
        for repeat, headline in enumerate(data.repeats, 1):
            for endpoint in ENDPOINTS:
                numbers = headline.endpoints.get(endpoint)
                count = numbers.count if numbers else 0
                check(f"{arm} rep {repeat}: {endpoint} has requests", count > 0, f"{count}")
            counts = headline.k6_summary.counts if headline.k6_summary else None
            if counts:
                ours = {e: headline.endpoints[e].count for e in ENDPOINTS if e in headline.endpoints}
                check(f"{arm} rep {repeat}: request counts agree with k6's own summary",
                      all(counts.get(e) == ours.get(e) for e in ENDPOINTS), f"ours {ours}, k6 {counts}")
            check(f"{arm} rep {repeat}: pool metrics were sampled", headline.pool.max_waiters is not None)
            check(f"{arm} rep {repeat}: tokio tasks were sampled", headline.tasks.peak is not None)
            check(f"{arm} rep {repeat}: Little's law was measured for every pool",
                  bool(headline.pool.sizes) and set(headline.little) == set(headline.pool.sizes),
                  f"pools {sorted(headline.pool.sizes)}, measured {sorted(headline.little)}")
            check(f"{arm} rep {repeat}: the database's backends were sampled for every pool",
                  bool(headline.pool.sizes) and set(headline.database) == set(headline.pool.sizes),
                  f"pools {sorted(headline.pool.sizes)}, sampled {sorted(headline.database)}")
            for group, use in (("service", headline.cpu.service), ("postgres", headline.cpu.postgres),
                               ("k6", headline.cpu.k6)):
                check(f"{arm} rep {repeat}: {group} CPU was sampled", use.mean_cores is not None)
        for run_dir in data.run_dirs:
            if (Path(run_dir) / "metrics.jsonl").exists() and not (Path(run_dir) / ANSWERS).exists():
                check(f"{arm}: {Path(run_dir).name} was recorded since the runner reads PromQL", False,
                      f"it has metrics.jsonl and no {ANSWERS}: analyse it with commit {LAST_METRICS_JSONL_COMMIT}")
            record = load(f"{arm}: {Path(run_dir).name}/run.json", RunRecord, Path(run_dir) / "run.json") \
                if (Path(run_dir) / "run.json").exists() else None
            processes = k6_processes_of(record)
            files = [name for p in processes for name in (p.samples, p.summary, p.cast, p.log, p.html_report) if name]
            for name in (*files, ANSWERS, "cpu.jsonl", "run.json"):
                path = Path(run_dir) / name
                check(f"{arm}: raw {name} kept", path.exists() and path.stat().st_size > 0)
            if record:
                _check_load(check, f"{arm}: {Path(run_dir).name}", record, k6_processes, hosts)
            if recorded:
                recording = Path(run_dir) / "recording"
                for page in ("ui", "dashboard"):
                    frames = len(list((recording / page).glob("frame-*.png")))
                    check(f"{arm}: at least one {page} frame recorded during the load", frames > 0, f"{frames}")
                timeline = recording / "ui-timeline.jsonl"
                check(f"{arm}: the UI timeline was recorded", timeline.exists() and timeline.stat().st_size > 0)
    return results


def _check_junit(check: Callable[[str, bool, str], None], path: Path, summary: Summary,
                 schema: Path | None) -> None:
    """verdicts.xml: valid JUnit XML (against `schema` when given), with a test case for every
    repeat's judgement of every verdict in summary.json, and nothing else."""
    if schema is not None:
        errors = [str(e.reason or e) for e in xmlschema.XMLSchema(schema).iter_errors(path)]
        check(f"{junit.NAME} is valid against the JUnit schema {schema.name}", not errors, "; ".join(errors[:3]))
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        check(f"{junit.NAME} is XML", False, str(error))
        return
    cases = sorted((suite.get("name", ""), case.get("name", "")) for suite in root.iter("testsuite")
                   for case in suite.iter("testcase"))
    expected = sorted((f"repeat {r.repeat}", f"{v.key}: {v.sign}") for v in summary.verdicts for r in v.repeats)
    check(f"{junit.NAME} has a test case for every verdict of every repeat in summary.json", cases == expected,
          f"{len(cases)} test cases, {len(expected)} verdicts")


def _check_load(check: Callable[[str, bool, str], None], run: str, record: RunRecord, k6_processes: int,
                hosts: HostsRecord | None) -> None:
    """One run's k6 processes: each exited as a finished load does, there are as many as asked
    for and their segments split the load; with the roles in two network namespaces, the
    requests and answers crossed the load side's interface."""
    processes = record.load_processes()
    for p in processes:
        check(f"{run}: k6 process {p.index} exited with 0 or 99 (99: its thresholds failed)", p.exit_code in (0, 99),
              f"{p.exit_code}")
    segments = [p.segment for p in processes]
    check(f"{run}: {k6_processes} k6 process(es) made the load", len(processes) == k6_processes, f"{len(processes)}")
    check(f"{run}: the k6 processes' execution segments split the load (0 to 1, no gap, no overlap)",
          segments_cover(segments), ", ".join(segments))
    if hosts and hosts.mode == "netns":
        net = record.network
        check(f"{run}: bytes crossed {hosts.interface} both ways during k6",
              net is not None and net.interface == hosts.interface and net.rx_bytes > 0 and net.tx_bytes > 0,
              f"{net.interface}: {net.tx_bytes} sent, {net.rx_bytes} received" if net else "no network record")


SWEEP_CHARTS = ("sweep-reads.png", "sweep-goodput.png")


def files_exist(check: Callable[[str, bool], None], out: Path, documents: tuple[str, ...],
                charts: tuple[str, ...]) -> None:
    """Each document in `out` is there and not empty; each chart in out/charts is a PNG."""
    for name in documents:
        path = out / name
        check(f"{name} exists and is not empty", path.exists() and path.stat().st_size > 0)
    for name in charts:
        path = out / "charts" / name
        check(f"chart {name} is a PNG", path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n")


def sweep_checks(out: Path, arms: list[str], regimes: list[str]) -> list[tuple[str, bool, str]]:
    """A sweep's folder (sweep.py): its documents and charts, every regime asked for, every arm
    with every planned step, numbers for each step that ran, and every k6 run ended as k6 runs do."""
    results: list[tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        results.append((name, bool(ok), detail))

    files_exist(check, out, ("report.html", "summary.md", "summary.json"), SWEEP_CHARTS)
    report = out / "report.html"
    check("report.html has the section \"Where each design breaks\"",
          report.exists() and "Where each design breaks" in report.read_text())
    try:
        summary = SweepSummary.load(out / "summary.json")
    except ResultsError as error:
        check("summary.json reads as a SweepSummary", False, str(error))
        return results
    check("summary.json reads as a SweepSummary", True)
    found = {r.regime.key: r for r in summary.regimes}
    for key in regimes:
        regime = found.get(key)
        check(f"regime {key} is in summary.json", regime is not None)
        if regime is None:
            continue
        for arm in arms:
            swept = regime.arms.get(arm)
            check(f"{key}/{arm}: every planned step is reported", swept is not None and len(swept.steps) > 0,
                  f"{len(swept.steps)} steps" if swept else "missing")
            if swept is None:
                continue
            ran = [s for s in swept.steps if s.plan.run]
            check(f"{key}/{arm}: every step that ran has numbers, with requests answered",
                  all(s.numbers is not None and s.numbers.goodput_rps > 0 for s in ran), f"{len(ran)} ran")
            check(f"{key}/{arm}: a step not run is one not measurable here",
                  all(s.numbers is None and not s.plan.measurable for s in swept.steps if not s.plan.run))
            run_json = out / key / "arms" / arm / "rep-1" / "run.json"
            if ran:
                record = RunRecord.load(run_json) if run_json.exists() else None
                check(f"{key}/{arm}: k6 exited with 0 or 99", record is not None and record.k6_exit_code in (0, 99),
                      f"{record.k6_exit_code}" if record else "no run.json")
    return results


def segments_cover(segments: list[str]) -> bool:
    """Whether k6 execution segments ("0:1/2", "1/2:1") split 0..1 with no gap and no overlap."""
    try:
        bounds = sorted((Fraction(start), Fraction(end)) for start, end in (s.split(":") for s in segments))
    except (ValueError, ZeroDivisionError):
        return False
    edge = Fraction(0)
    for start, end in bounds:
        if start != edge or end <= start:
            return False
        edge = end
    return edge == 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_results")
    parser.add_argument("out", type=Path)
    parser.add_argument("--arms", default=",".join(a.key for a in ARMS))
    parser.add_argument("--expect-recording", action="store_true",
                        help="fail unless the UI and dashboard were recorded in every arm")
    parser.add_argument("--expect-k6-processes", type=int, metavar="N",
                        help="fail unless config.json asks for N k6 processes per run (each run is checked "
                             "against config.json's number either way)")
    parser.add_argument("--expect-hosts", choices=("local", "netns"),
                        help="fail unless the roles ran so (netns: and each run's bytes crossed the veth)")
    parser.add_argument("--junit-schema", type=Path, metavar="XSD",
                        help=f"also validate {junit.NAME} against this JUnit XML schema "
                             "(python -m experiment.tests.junit_schema prints the one the tests use)")
    parser.add_argument("--sweep", action="store_true", help="DIR is a sweep's results folder (--sweep)")
    parser.add_argument("--regimes", default="room,db-limited", help="with --sweep: the regimes that must be there")
    args = parser.parse_args(argv)
    if args.sweep:
        results = sweep_checks(args.out, args.arms.split(","), args.regimes.split(","))
    else:
        results = checks(args.out, args.arms.split(","), args.expect_recording, args.expect_k6_processes,
                         args.expect_hosts, args.junit_schema)
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail else ""))
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
