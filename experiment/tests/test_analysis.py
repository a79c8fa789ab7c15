"""analyze_run on a tiny made-up run folder (tests/synthetic.py): the numbers worked out by hand."""

import pytest

from experiment.analyse.analysis import LAST_METRICS_JSONL_COMMIT, OldResults, analyze_run
from experiment.tests.synthetic import TINY, run_record, write_run


@pytest.fixture
def result(tmp_path):
    return analyze_run(write_run(tmp_path / "run"), TINY, "shared", 1)


def test_the_analysis_reads_the_raw_files_and_writes_nothing(tmp_path):
    run = write_run(tmp_path / "run")
    before = sorted(p.name for p in run.iterdir())
    analyze_run(run, TINY, "shared", 1)
    assert sorted(p.name for p in run.iterdir()) == before


def test_setup_logins_are_neither_load_nor_time_zero(result):
    assert result.headline.requests == 11
    assert result.per_second["list_todos"][0].count == 3  # the first request is second 0


def test_reads_are_split_into_the_calm_and_the_burst(result):
    read = result.headline.endpoints["list_todos"]
    assert (read.count, read.errors, read.rps) == (7, 1, pytest.approx(7 / 5))
    assert (read.p50_ms, read.p95_ms, read.max_ms) == (30.0, pytest.approx(270.0), 300.0)
    assert (read.baseline.count, read.baseline.p95_ms) == (3, pytest.approx(29.0))
    assert (read.burst.count, read.burst.errors, read.burst.p95_ms) == (3, 1, pytest.approx(290.0))
    assert read.statuses == {"200": 6, "503": 1}
    assert read.max_1s_p95_ms == pytest.approx(290.0)  # second 4 has too few requests to count


def test_the_read_headline_sets_k6_beside_the_services_own_histogram(result):
    read = result.headline.read
    # Interpolated in the (50 ms, 500 ms] bucket: 2.85 of the burst's 3 requests, 6.65 of all 7.
    assert read.server_burst_p95_ms == pytest.approx(477.5)
    assert read.server_p95_ms == pytest.approx(447.5)
    assert read.client_server_ratio == pytest.approx(290.0 / 477.5)
    assert (read.burst_p95_ms, read.baseline_p95_ms, read.burst_error_rate) == (
        pytest.approx(290.0), pytest.approx(29.0), pytest.approx(1 / 3))


def test_writes_are_logins_and_new_todos_together(result):
    write = result.headline.write
    assert (write.count, write.errors, write.error_rate) == (4, 1, 0.25)
    assert write.p95_ms == pytest.approx(75.5)
    assert write.burst_p95_ms == pytest.approx(78.5)


def test_pool_tasks_and_requests_in_flight_come_from_the_stored_promql_answers(result):
    h = result.headline
    assert h.pool.sizes == {"shared": 12}
    assert (h.pool.max_waiters, h.pool.acquire_timeouts, h.pool.acquire_timeouts_during_k6) == (5, 3, 3)
    assert h.pool.peak_in_use_by_pool == {"shared": 12}
    assert (h.tasks.baseline, h.tasks.peak) == (11, 40)  # the median before the burst, the maximum
    assert (h.in_flight.baseline, h.in_flight.peak) == (1, 9)


def test_cpu_is_per_group_per_side_and_for_everything_else(result):
    cpu = result.headline.cpu
    assert (cpu.service.mean_cores, cpu.service.peak_cores, cpu.service.burst_mean_cores) == (
        pytest.approx(0.3), pytest.approx(0.6), pytest.approx(0.6))
    assert cpu.postgres.mean_cores is None  # not sampled
    assert cpu.machine.burst_mean_cores == pytest.approx(1.5)
    assert cpu.others.mean_cores == pytest.approx(0.9)  # the machine less the service
    assert (cpu.sut_side.mean_cores, cpu.sut_side.burst_mean_cores, cpu.sut_side.cpus) == (
        pytest.approx(0.7), pytest.approx(1.0), 1)
    assert (cpu.load_side.mean_cores, cpu.load_side.cpus) == (pytest.approx(0.5), 1)


def test_the_run_record_and_k6s_summary_are_carried_along(result):
    h = result.headline
    assert h.dropped_iterations == 2 and h.k6_summary.counts == {"list_todos": 7, "login": 2, "create_todo": 2}
    assert h.rates == run_record().rates and h.warm_up == run_record().warm_up
    assert h.recording == "off (--no-record)" and h.k6_exit_code == 0


def test_series_are_in_seconds_since_the_first_request(result):
    series = result.series
    assert series.client_p95["list_todos"] == [(0.5, pytest.approx(29.0)), (2.5, pytest.approx(290.0))]
    assert [t for t, _ in series.tasks] == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert series.pool_max == {"shared": 12}
    # A rate over the last 3 s is drawn at the middle of those seconds.
    assert series.server_p95["list_todos"] == [(0.0, pytest.approx(30.0)), (1.0, pytest.approx(450.0))]


def test_an_unpinned_run_has_no_sides(tmp_path):
    run = write_run(tmp_path / "run", run_record(cpu_sets=None))
    headline = analyze_run(run, TINY, "shared", 1).headline
    assert headline.cpu.sut_side is None and headline.cpu.load_side is None and not headline.cpu.pinned
    assert "sut_side" not in headline.to_json()["cpu"]  # as the files always had it


def test_littles_law_per_pool_sets_the_mean_in_use_beside_throughput_times_hold(result):
    little = result.headline.little["shared"]
    # 2,000 connections handed out in the 2 s burst, held 20 s in all: 1,000/s x 10 ms = 10 busy.
    assert (little.mean_in_use, little.throughput_rps, little.mean_hold_ms) == (11.0, 1000.0, 10.0)
    assert little.predicted_in_use == pytest.approx(10.0)


def test_the_databases_view_counts_a_missing_state_as_no_backend(result):
    backends = result.headline.database["shared"]
    assert (backends.peak_active, backends.peak_total) == (12, 12)
    assert backends.mean_active_bursts == pytest.approx(6.0)  # seconds 2.5 (none active) and 3.5 (12)
    assert result.series.backends["shared"]["idle"][3] == (3.5, 0.0)


def test_a_run_from_before_promql_says_which_commit_can_analyse_it(tmp_path):
    run = write_run(tmp_path / "run")
    (run / "promql.json").unlink()
    (run / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(OldResults, match=LAST_METRICS_JSONL_COMMIT):
        analyze_run(run, TINY, "shared", 1)
