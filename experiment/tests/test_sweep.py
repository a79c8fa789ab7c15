"""The sweep (sweep.py): its step plan, the per-step analysis of a synthetic sweep folder, the
knees, and the report built from that folder."""

from __future__ import annotations

import dataclasses
import json
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from experiment import check_results
from experiment.analyse import sweep
from experiment.model.profiles import ISOLATED, SHARED, SHARED_3X, Rates
from experiment.model.results import SweepSummary
from experiment.run import cli
from experiment.tests import synthetic
from experiment.tests.synthetic import SWEEP_CALIBRATION, SWEEP_PROFILE, SWEEP_USABLE


def planned(force: bool = False):
    rates = Rates.calibrated(SWEEP_PROFILE, SWEEP_CALIBRATION.capacity_rps)
    return sweep.plan_steps(SWEEP_PROFILE, rates, synthetic.sweep_cpu_plan(), SWEEP_USABLE, sweep.ROOM, force=force)


def test_a_step_the_cpu_budget_predicts_over_75_percent_of_the_usable_cpu_is_not_measurable_here():
    plan = planned()
    assert plan.limit_cores == 1.5
    assert [(s.rate_rps, s.predicted_cores, s.measurable, s.run) for s in plan.steps] == [
        (20, 0.34, True, True), (80, 1.06, True, True), (120, 1.54, False, False)]


def test_k6_runs_only_the_steps_that_are_run_and_force_runs_them_all():
    rates = Rates.calibrated(SWEEP_PROFILE, SWEEP_CALIBRATION.capacity_rps)
    profile, run_rates = sweep.run_profile(SWEEP_PROFILE, rates, planned())
    assert (profile.bursts, profile.steps, run_rates.step_rps) == (2, (0.5, 2.0), (20, 80))
    profile, run_rates = sweep.run_profile(SWEEP_PROFILE, rates, planned(force=True))
    assert (profile.bursts, run_rates.step_rps) == (3, (20, 80, 120))


def test_predicted_knees_are_little_s_law_for_the_pool_that_serves_the_reads():
    assert sweep.read_connections(ISOLATED) == 4 and sweep.read_connections(SHARED_3X) == 36
    assert sweep.predicted_knee(SHARED, SWEEP_CALIBRATION)[0] == pytest.approx(40.0)
    assert sweep.predicted_knee(ISOLATED, SWEEP_CALIBRATION)[0] == pytest.approx(200.0)  # 4 / (0.2 x 0.1 s)
    assert sweep.predicted_knee(SHARED_3X, SWEEP_CALIBRATION)[0] == pytest.approx(120.0)


def test_each_step_s_numbers_are_over_its_steady_part(tmp_path):
    regime = sweep.regime_summary(synthetic.write_sweep_regime(tmp_path / "room"))
    shared = regime.arms["shared"]
    assert shared.base_read_p95_ms == pytest.approx(10.0)
    first, second, third = shared.steps
    assert first.numbers is not None and second.numbers is not None and third.numbers is None
    assert first.numbers.sent_rps == pytest.approx(20.0) and first.numbers.goodput_rps == pytest.approx(20.0)
    assert second.numbers.read_error_rate == pytest.approx(0.3, abs=0.05)
    assert second.numbers.goodput_rps < second.numbers.sent_rps == pytest.approx(80.0)
    assert second.numbers.read_p95_ms == pytest.approx(300.0)
    assert second.numbers.read_server_p95_ms == pytest.approx(150.0)
    assert second.numbers.max_waiters == 7.0
    assert second.numbers.cpu["lab"] == pytest.approx(1.8)


def test_a_step_that_fails_a_trust_check_keeps_its_numbers_and_names_the_check(tmp_path):
    regime = sweep.regime_summary(synthetic.write_sweep_regime(tmp_path / "room"))
    first, second, _ = regime.arms["shared"].steps
    assert first.numbers.failed_checks == []
    assert second.numbers.failed_checks == ["CPU 1.80 of 2 usable cores (over 75%)"]
    assert regime.arms["isolated"].steps[1].numbers.failed_checks == []


def test_the_measured_knee_is_the_first_step_past_the_read_error_or_latency_threshold(tmp_path):
    regime = sweep.regime_summary(synthetic.write_sweep_regime(tmp_path / "room"))
    shared, isolated = regime.arms["shared"].knee, regime.arms["isolated"].knee
    assert (shared.measured_multiple, shared.measured_rps, shared.predicted_multiple) == (2.0, 80, 1.0)
    assert isolated.measured_multiple is None and isolated.measured_why == "no step past the knee up to 2x"
    assert isolated.predicted_multiple == 5.0


def test_a_sweep_report_is_built_from_a_sweep_folder(tmp_path):
    synthetic.write_sweep_regime(tmp_path / "room")
    assert cli.sweep_folder(tmp_path)
    assert cli.make_sweep_report(tmp_path) == 0
    result = SweepSummary.load(tmp_path / "summary.json")
    assert [r.regime.key for r in result.regimes] == ["room"]
    assert len(result.regimes[0].arms["shared"].steps) == 3  # every step, the one not run too
    assert "broke at 2x" in result.finding and "1 step(s) were not measurable" in result.finding
    markdown = (tmp_path / "summary.md").read_text()
    assert "# Where each design breaks" in markdown and "not measurable here" in markdown
    assert "hollow: CPU 1.80 of 2 usable cores" in markdown
    html = (tmp_path / "report.html").read_text()
    assert "Where each design breaks" in html and html.count("data:image/png;base64,") == 2
    assert json.loads((tmp_path / "summary.json").read_text())["regimes"][0]["regime"]["key"] == "room"


def test_check_results_passes_a_complete_sweep_folder_and_names_a_missing_regime(tmp_path):
    synthetic.write_sweep_regime(tmp_path / "room")
    cli.make_sweep_report(tmp_path)
    results = check_results.sweep_checks(tmp_path, ["shared", "isolated"], ["room"])
    assert [name for name, ok, _ in results if not ok] == []
    results = check_results.sweep_checks(tmp_path, ["shared", "isolated"], ["room", "db-limited"])
    assert [name for name, ok, _ in results if not ok] == ["regime db-limited is in summary.json"]


def test_sweep_is_a_mode_of_its_own_with_a_profile_that_has_steps():
    assert cli.parse_args(["--admin-url", "postgres://x"]).profile == "default"
    args = cli.parse_args(["--sweep", "--admin-url", "postgres://x"])
    assert (args.profile, args.regimes) == ("sweep", "room,db-limited")
    for argv in (["--sweep", "--profile", "quick"], ["--profile", "sweep"], ["--sweep", "--repeat", "2"],
                 ["--sweep", "--regimes", "room,nowhere"]):
        with pytest.raises(SystemExit):
            cli.parse_args([*argv, "--admin-url", "postgres://x"])


def test_the_database_is_held_to_a_quota_only_in_the_regime_that_has_one(tmp_path, monkeypatch):
    (tmp_path / "postmaster.pid").write_text("4242\n/data\n")
    ctx = SimpleNamespace(host=SimpleNamespace(pg_data_dir=tmp_path))
    calls = []

    @contextmanager
    def quota_for(pids, cpus, name):
        calls.append((cpus, name.startswith("lab-postgres-")))
        yield tmp_path / name

    monkeypatch.setattr(cli.cpulimit, "quota_for", quota_for)
    with cli._database_quota(ctx, sweep.ROOM) as note:
        assert note is None
    with cli._database_quota(ctx, sweep.limited(sweep.DB_LIMITED, 0.12, None)) as note:
        assert note is not None and note.startswith("held to 0.12 CPU")
    assert calls == [(0.12, True)]


# The db-limited regime's quota. The budget's lines: 0.1 fixed + 12 ms a request for the service,
# 0.02 fixed + 2 ms a request for Postgres: 1.5 cores (75% of 2) at 1380/14 = 98.6 req/s.
DB_COSTS = synthetic.SWEEP_COSTS | {"postgres": synthetic.RoleCost(fixed_cores=0.02, ms_per_request=2.0)}


def db_plan():
    return dataclasses.replace(synthetic.sweep_cpu_plan(), tries=[
        dataclasses.replace(synthetic.sweep_cpu_plan().tries[0], costs=DB_COSTS)])


def test_the_chosen_quota_lets_postgres_serve_a_fraction_of_what_the_machine_can_offer_cleanly():
    regime = sweep.database_limit(sweep.DB_LIMITED, db_plan(), SWEEP_USABLE)
    reach = (1.5 - 0.12) / 0.014
    assert regime.db_cpu == pytest.approx(round(0.02 + 0.002 * reach / sweep.DB_REACH, 3))
    assert regime.db_capacity_rps == pytest.approx(reach / sweep.DB_REACH, abs=0.6)
    assert regime.db_cpu_source == "chosen"
    # The steps' capacity is the database's, below the pool's 40 req/s... only when it is lower.
    assert sweep.capacity_of(regime, SWEEP_CALIBRATION) == min(40.0, regime.db_capacity_rps)


def test_a_quota_given_on_the_command_line_is_kept_and_its_capacity_follows_from_postgres_s_cpu():
    regime = sweep.database_limit(sweep.limited(sweep.DB_LIMITED, 0.06, None), db_plan(), SWEEP_USABLE)
    assert (regime.db_cpu, regime.db_capacity_rps, regime.db_cpu_source) == (0.06, 20.0, "--db-cpu")
    assert sweep.capacity_of(regime, SWEEP_CALIBRATION) == 20.0


def test_past_the_database_s_capacity_every_arm_is_predicted_to_break_there():
    regime = sweep.database_limit(sweep.limited(sweep.DB_LIMITED, 0.06, None), db_plan(), SWEEP_USABLE)
    for arm in (SHARED, ISOLATED, SHARED_3X):
        rate, why = sweep.predicted_knee(arm, SWEEP_CALIBRATION, regime)
        assert rate == 20.0 and "database" in why
    assert "if the database keeps up" in sweep.predicted_knee(SHARED_3X, SWEEP_CALIBRATION)[1]


def test_under_a_quota_a_step_s_predicted_cpu_counts_postgres_at_most_at_its_quota():
    regime = sweep.database_limit(sweep.limited(sweep.DB_LIMITED, 0.06, None), db_plan(), SWEEP_USABLE)
    rates = Rates.calibrated(SWEEP_PROFILE, 40.0)  # steps 20, 80, 120 req/s
    plan = sweep.plan_steps(SWEEP_PROFILE, rates, db_plan(), SWEEP_USABLE, regime)
    service = [0.1 + 0.012 * r for r in (20, 80, 120)]
    postgres = [min(0.06, 0.02 + 0.002 * r) for r in (20, 80, 120)]
    assert [s.predicted_cores for s in plan.steps] == pytest.approx([a + b for a, b in zip(service, postgres)])
