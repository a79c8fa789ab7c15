"""A load made by several k6 processes (execution segments): one run's numbers from all of their
samples merged, each process's own numbers, the documents and the checks (tests/synthetic.py's
run, split between two processes)."""

import dataclasses
import json

import pytest

from experiment import check_results
from experiment.analyse.analysis import analyze_run
from experiment.model.results import CpuSetsRecord, Headline, HostsRecord, K6ProcessRecord, NetworkRecord, RunConfig
from experiment.report import documents, postkit, render
from experiment.run.k6run import worst_exit_code
from experiment.tests.synthetic import LAB, MACHINE, TINY, k6_processes, run_record, summary_of, write_run

NETNS = HostsRecord(mode="netns", sut_address="10.77.0.2", load_address="10.77.0.1", interface="lab-load0",
                    sut_namespace="todo-lab-sut")
NETWORK = NetworkRecord(interface="lab-load0", rx_bytes=2_000_000, tx_bytes=500_000)


@pytest.fixture
def one(tmp_path):
    return analyze_run(write_run(tmp_path / "one"), TINY, "shared", 1)


@pytest.fixture
def two(tmp_path):
    return analyze_run(write_run(tmp_path / "two", processes=2), TINY, "shared", 1)


def test_the_percentiles_of_two_processes_are_those_of_their_requests_merged(one, two):
    assert two.headline.requests == one.headline.requests == 11
    assert two.headline.endpoints == one.headline.endpoints
    assert (two.headline.read, two.headline.write) == (one.headline.read, one.headline.write)
    assert two.per_second == one.per_second
    assert two.series.client_p95 == one.series.client_p95  # time zero: the first request of either


def test_dropped_iterations_and_k6s_own_counts_are_added_over_the_processes(two):
    h = two.headline
    assert h.dropped_iterations == 3  # 2 + 1
    assert h.k6_summary.counts == {"list_todos": 7, "login": 2, "create_todo": 2}
    assert h.k6_summary.p95_ms == {"list_todos": None, "login": None, "create_todo": None}  # no merging k6's


def test_k6s_cpu_is_all_of_its_processes_added_per_sample(two):
    k6 = two.headline.cpu.k6
    # Cores per second: 0.2, 0.2, 0.4, 0.4, 0.2; the burst covers the third and fourth.
    assert (k6.mean_cores, k6.peak_cores, k6.burst_mean_cores) == (
        pytest.approx(0.28), pytest.approx(0.4), pytest.approx(0.4))
    assert two.series.cpu["k6"] == [(t, pytest.approx(c)) for t, c in [(1, 0.2), (2, 0.2), (3, 0.4), (4, 0.4), (5, 0.2)]]
    # Everything else on the machine is the machine less the service and both processes.
    assert two.headline.cpu.others.mean_cores == pytest.approx(0.9 - 0.28)


def test_each_role_is_its_processes_added_up(two):
    cpu = two.headline.cpu
    mean = [getattr(cpu, group).mean_cores or 0.0 for group in ("service", "postgres", "proxy")]
    assert cpu.roles["system_under_test"].mean_cores == pytest.approx(sum(mean))
    assert cpu.roles["load_side"].mean_cores == pytest.approx(
        sum(getattr(cpu, group).mean_cores or 0.0 for group in ("k6", "ui", "recorder")))
    assert cpu.roles["load_side"].mean_cores >= cpu.k6.mean_cores > 0


def test_each_process_has_its_own_segment_requests_dropped_iterations_exit_code_start_and_cpu(two):
    first, second = two.headline.load_processes["1"], two.headline.load_processes["2"]
    assert (first.segment, first.requests, first.dropped_iterations, first.exit_code) == ("0:1/2", 6, 2, 0)
    assert (second.segment, second.requests, second.dropped_iterations, second.exit_code) == ("1/2:1", 5, 1, 99)
    assert first.first_request_offset_ms == 0
    assert second.first_request_offset_ms == pytest.approx(100, abs=0.01)  # its first request: a login at 0.1 s
    assert two.headline.load_start_spread_ms == pytest.approx(100, abs=0.01)
    assert (first.cpu.mean_cores, first.cpu.burst_mean_cores) == (pytest.approx(0.18), pytest.approx(0.3))
    assert (second.cpu.mean_cores, second.cpu.peak_cores) == (pytest.approx(0.1), pytest.approx(0.1))
    assert two.headline.k6_exit_code == 99


def test_the_worst_exit_code_speaks_for_the_run():
    assert worst_exit_code([0, 0]) == 0
    assert worst_exit_code([0, 99]) == 99  # thresholds failed: data
    assert worst_exit_code([99, 1, 0]) == 1
    assert worst_exit_code([0, None]) is None  # still running when stopped
    assert worst_exit_code([]) is None


def test_an_arm_takes_each_processs_median_over_the_repeats(tmp_path):
    runs = [analyze_run(write_run(tmp_path / f"rep-{n}", run_record(repeat=n, k6_processes=k6_processes(2)),
                                  processes=2), TINY, "shared", n) for n in (1, 2)]
    median = summary_of(runs).arms["shared"].median
    assert list(median.load_processes) == ["1", "2"]
    assert (median.load_processes["2"].requests, median.load_processes["2"].segment) == (5, "1/2:1")


def test_a_run_json_from_before_k6_processes_reads_the_single_processs_old_files(tmp_path):
    old_dir = write_run(tmp_path / "old")
    record = json.loads((old_dir / "run.json").read_text())
    del record["k6_processes"]  # as run.json was written before
    (old_dir / "run.json").write_text(json.dumps(record))
    old = analyze_run(old_dir, TINY, "shared", 1).headline
    # The same run as recorded once processes were listed (and before k6's HTML report was kept).
    explicit = run_record(k6_processes=[dataclasses.replace(K6ProcessRecord.files(1, 1), exit_code=0,
                                                            html_report=None)])
    assert analyze_run(write_run(tmp_path / "explicit", explicit), TINY, "shared", 1).headline == old
    only = old.load_processes["1"]
    assert (only.segment, only.requests, only.dropped_iterations, only.exit_code) == ("0:1", 11, 2, 0)
    assert only.cpu == old.cpu.k6  # its group is "k6", all of k6
    assert (old.load_start_spread_ms, old.k6_exit_code, old.dropped_iterations) == (0, 0, 2)


def test_an_analysis_stored_before_load_processes_reads_with_none(one):
    data = one.headline.to_json()
    del data["load_processes"], data["load_start_spread_ms"]
    old = Headline.from_json(data)
    assert old.load_processes == {} and old.load_start_spread_ms is None and old.network is None
    assert "network" not in data  # left out when the run recorded none, as before


def test_the_documents_show_the_load_processes_and_where_the_roles_ran(tmp_path):
    record = run_record(k6_processes=k6_processes(2), network=NETWORK)
    runs = [analyze_run(write_run(tmp_path / "rep-1", record, processes=2), TINY, "shared", 1)]
    s = dataclasses.replace(summary_of(runs), hosts=NETNS)
    documents.write_markdown(s, tmp_path / "summary.md", [])
    text = (tmp_path / "summary.md").read_text()
    assert "\n## Load processes\n" in text and "| Act I shared | 1 | 2 | 1/2:1 | 5 | 1 | 0.10 | 0.10 |" in text
    assert "Load: up to 2 k6 processes per run" in text and "at most 100" in text
    assert ("- Hosts: system under test in network namespace todo-lab-sut at 10.77.0.2, load side at 10.77.0.1; "
            "requests crossed veth lab-load0: shared 0.5 MB sent, 2.0 MB received per run (median).\n") in text
    documents.write(s, tmp_path, [], tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Load processes</h2>" in page
    # k6's own report of each process, linked, and said to show that process's share only.
    assert '<li><a href="rep-1/k6-2-report.html">Act I: shared (pool 12), rep 1, process 2 of 2, segment 1/2:1</a>' \
        in page
    assert "one per k6 process: each shows its own execution segment of the load, not the whole of it" in page


def test_one_process_on_one_host_is_a_line_each_and_no_table(tmp_path, whole):
    documents.write_markdown(whole, tmp_path / "summary.md", [])
    text = (tmp_path / "summary.md").read_text()
    assert "- Hosts: one host, loopback.\n- CPU by role during the bursts" in text
    assert "- Load: one k6 process per run.\n" in text
    assert "## Load processes" not in text
    assert render.shared().hosts(dataclasses.replace(whole, hosts=NETNS)).endswith("lab-load0 (bytes not recorded).")


def test_the_post_kits_clip_is_the_first_processs_terminal(tmp_path):
    split = write_run(tmp_path / "two", processes=2)
    assert postkit._first_cast(split) == split / "k6-1.cast"
    assert postkit._first_cast(write_run(tmp_path / "one")) == tmp_path / "one" / "k6.cast"


def _split_results(tmp_path, network: NetworkRecord | None = NETWORK):
    """A results folder of two repeats, each split between two k6 processes, in network namespaces."""
    runs = [analyze_run(write_run(tmp_path / f"rep-{n}", run_record(repeat=n, k6_processes=k6_processes(2),
                                                                      network=network), processes=2),
                        TINY, "shared", n) for n in (1, 2)]
    s = summary_of(runs)
    s.save(tmp_path / "summary.json")
    RunConfig(run_id=s.run_id, profile=TINY, lab=LAB, arms=["shared"], repeats=2, record=False,
              cpu_sets=CpuSetsRecord(sut=None, load=None, note="not pinned"), ui="ok", load_script=s.load_script,
              machine=MACHINE, versions={}, rates=s.rates, hosts=NETNS, k6_processes=2).save(tmp_path / "config.json")
    return tmp_path


def _checked(out):
    return {name: (ok, detail) for name, ok, detail in
            check_results.checks(out, ["shared"], expect_k6_processes=2, expect_hosts="netns")}


PROCESS_CHECKS = [
    "config.json asks for 2 k6 process(es) per run",
    "the roles ran on hosts netns",
    *(f"shared: raw {name} kept" for name in ("k6-1-samples.csv.gz", "k6-2-samples.csv.gz", "k6-1-summary.json",
                                               "k6-2-summary.json", "k6-1.cast", "k6-2.cast", "k6-1.log", "k6-2.log",
                                               "k6-1-report.html", "k6-2-report.html")),
    "shared: rep-1: k6 process 1 exited with 0 or 99 (99: its thresholds failed)",
    "shared: rep-2: k6 process 2 exited with 0 or 99 (99: its thresholds failed)",
    "shared: rep-1: 2 k6 process(es) made the load",
    "shared: rep-1: the k6 processes' execution segments split the load (0 to 1, no gap, no overlap)",
    "shared: rep-2: bytes crossed lab-load0 both ways during k6",
    "shared rep 1: request counts agree with k6's own summary",
]


def test_check_results_passes_a_load_split_between_processes(tmp_path):
    checked = _checked(_split_results(tmp_path))
    for name in PROCESS_CHECKS:
        assert checked[name][0], (name, checked[name])


def test_check_results_names_a_processs_missing_file(tmp_path):
    out = _split_results(tmp_path)
    (out / "rep-2" / "k6-2-samples.csv.gz").unlink()
    checked = _checked(out)
    assert checked["shared: raw k6-2-samples.csv.gz kept"][0] is False
    assert checked["shared: raw k6-1-samples.csv.gz kept"][0] is True


def test_check_results_fails_a_netns_run_without_bytes_on_the_veth(tmp_path):
    checked = _checked(_split_results(tmp_path, network=None))
    assert checked["shared: rep-1: bytes crossed lab-load0 both ways during k6"] == (False, "no network record")


def test_segments_must_split_the_load_without_gap_or_overlap():
    assert check_results.segments_cover(["0:1/2", "1/2:1"]) and check_results.segments_cover(["0:1"])
    assert check_results.segments_cover(["1/3:2/3", "0:1/3", "2/3:1"])
    assert not check_results.segments_cover(["0:1/2", "0:1/2"])
    assert not check_results.segments_cover(["0:1/3", "1/2:1"])
    assert not check_results.segments_cover(["0:1/2"])
    assert not check_results.segments_cover(["0-1"])
