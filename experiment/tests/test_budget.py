"""The CPU budget: each role's cost from the probe's two stages, the capacity at another delay, the
delay the plan picks, and how the documents state it."""

from __future__ import annotations

import dataclasses

import pytest

from experiment.analyse import budget, summary
from experiment.model.profiles import Rates
from experiment.model.results import Calibration, CpuPlan, CpuUse, ProbeStage, UsableCpu
from experiment.report import postkit, render, tables
from experiment.tests.synthetic import LAB, MACHINE, TINY, arm, headline

# At 5 ms: login makes two round trips (2 x 10 ms + 1 ms), the todo endpoints one (10 ms + 1 ms).
AT_5MS = Calibration(connections=12, probe_rps=50, probe_s=15,
                     requests={"login": 300, "create_todo": 300, "list_todos": 150}, errors=0,
                     mix={"login": 0.4, "create_todo": 0.4, "list_todos": 0.2},
                     hold_ms={"login": 21.0, "create_todo": 11.0, "list_todos": 11.0},
                     mean_hold_ms=15.0, capacity_rps=800.0, delay_ms=5)
# k6 and the service cost 0.5 ms of CPU per request; the recorder 0.1 cores whatever the rate.
LOW = ProbeStage(rate_rps=50, cores={"k6": 0.045, "service": 0.025, "recorder": 0.1}, seconds=11)
HIGH = ProbeStage(rate_rps=400, cores={"k6": 0.22, "service": 0.2, "recorder": 0.1}, seconds=11)


def test_two_stages_split_each_role_into_a_fixed_part_and_a_cost_per_request():
    costs = budget.fit(LOW, HIGH)
    assert costs["k6"].ms_per_request == pytest.approx(0.5)
    assert costs["k6"].fixed_cores == pytest.approx(0.02)
    assert costs["service"].fixed_cores == pytest.approx(0.0)
    assert costs["recorder"].ms_per_request == 0 and costs["recorder"].fixed_cores == pytest.approx(0.1)
    assert budget.predict(costs, 1000)["k6"] == pytest.approx(0.52)


def test_neither_part_of_a_cost_is_ever_negative():
    noisy = budget.fit(ProbeStage(50, {"ui": 0.2}, 10), ProbeStage(400, {"ui": 0.1}, 10))
    assert noisy["ui"].ms_per_request == 0 and noisy["ui"].fixed_cores == pytest.approx(0.1)
    steep = budget.fit(ProbeStage(50, {"k6": 0.0}, 10), ProbeStage(400, {"k6": 0.35}, 10))
    assert steep["k6"].fixed_cores == 0 and steep["k6"].ms_per_request == pytest.approx(1.0)


def test_the_cpu_stage_must_be_faster_than_the_hold_stage():
    with pytest.raises(ValueError):
        budget.fit(HIGH, LOW)


def test_round_trips_are_read_off_the_hold_times():
    assert budget.round_trips(AT_5MS, 5) == {"login": 2, "create_todo": 1, "list_todos": 1}


def test_a_longer_delay_lengthens_each_hold_by_its_round_trips():
    # At 10 ms: login 21 + 2 x 2 x 5 = 41 ms, the others 11 + 10 = 21 ms; mean 0.4 x 41 + 0.6 x 21 = 29 ms.
    assert budget.predicted_capacity(AT_5MS, 5, 10) == pytest.approx(12 / 0.029)
    assert budget.predicted_capacity(AT_5MS, 5, 5) == pytest.approx(800.0)


def test_a_probe_that_fits_the_budget_is_judged_so():
    fits = budget.judge(5, AT_5MS, [LOW, HIGH], burst_x=1.3, usable_cpus=2)
    assert fits.burst_rps == 1040
    assert fits.predicted_total == pytest.approx(0.02 + 0.52 + 0.52 + 0.1)
    assert fits.fits  # 1.16 <= 0.6 x 2
    tight = budget.judge(5, AT_5MS, [LOW, HIGH], burst_x=1.3, usable_cpus=1.2)
    assert not tight.fits  # 1.16 > 0.72


def test_the_next_delay_is_the_smallest_predicted_to_fit():
    tight = budget.judge(5, AT_5MS, [LOW, HIGH], burst_x=1.3, usable_cpus=1.2)
    delay = budget.next_delay(tight, burst_x=1.3, usable_cpus=1.2, acquire_timeout_ms=500)
    assert delay is not None and delay > 5
    rate = 1.3 * budget.predicted_capacity(AT_5MS, 5, delay)
    assert sum(budget.predict(tight.costs, rate).values()) <= 0.6 * 1.2
    before = budget.DELAY_LADDER[budget.DELAY_LADDER.index(delay) - 1]
    if before > 5:
        rate = 1.3 * budget.predicted_capacity(AT_5MS, 5, before)
        assert sum(budget.predict(tight.costs, rate).values()) > 0.6 * 1.2


def test_no_next_delay_when_the_fixed_costs_alone_exceed_the_budget():
    heavy = ProbeStage(50, {"recorder": 1.0}, 10), ProbeStage(400, {"recorder": 1.0}, 10)
    last = budget.judge(5, AT_5MS, list(heavy), burst_x=1.3, usable_cpus=1.2)
    assert budget.next_delay(last, burst_x=1.3, usable_cpus=1.2, acquire_timeout_ms=500) is None
    assert "recorder 1.00" in budget.fixed_costs_note(last, usable_cpus=1.2)
    assert budget.fixed_costs_note(budget.judge(5, AT_5MS, [LOW, HIGH], 1.3, 2), usable_cpus=2) is None


def plan_summary(plan: CpuPlan, usable: UsableCpu):
    """A one-arm summary carrying `plan` and `usable`, as cli.make_report builds it."""
    h = headline()
    cpu = dataclasses.replace(h.cpu, k6=CpuUse(0.3, 0.6, 0.55), lab=CpuUse(0.5, 0.9, 0.8))
    h = dataclasses.replace(h, cpu=cpu)
    s = summary.build("RUN1", TINY, dataclasses.replace(LAB, delay_ms=plan.chosen.delay_ms), "load/todo-load.js", 1,
                      {}, MACHINE, {}, [], None, plan.chosen.calibration, None, usable_cpu=usable, cpu_plan=plan)
    return dataclasses.replace(s, arms={"shared": arm("shared", h, {"shared": 12})},
                               rates=Rates.calibrated(TINY, plan.chosen.calibration.capacity_rps))


def test_the_documents_state_the_plan_and_the_usable_cpu(tmp_path):
    usable = UsableCpu(cores_seen=2, affinity=[0, 1], usable=1.2, quota_cpus=1.2,
                       quota_cgroup="/sys/fs/cgroup/cpu/lab",
                       why="1.2 usable: 2 CPUs seen; a cgroup v1 CPU quota of 1.2 CPUs (/sys/fs/cgroup/cpu/lab)")
    first = budget.judge(5, AT_5MS, [LOW, HIGH], burst_x=1.3, usable_cpus=1.2)
    at_12 = dataclasses.replace(AT_5MS, capacity_rps=380.0, delay_ms=12)
    second = budget.judge(12, at_12, [LOW, HIGH], burst_x=1.3, usable_cpus=1.2)
    plan = CpuPlan(usable_cpus=1.2, max_share=0.6, how="searched", tries=[first, second], fits=second.fits)
    s = plan_summary(plan, usable)
    lines = render.plan_lines(plan)
    assert len(lines) == 3
    assert lines[0].startswith("Probe at 5 ms") and "does not fit" in lines[0]
    assert lines[1].startswith("Probe at 12 ms") and lines[1].endswith(": fits.")
    assert "Chosen: 12 ms" in lines[2]
    table = tables.cpu_budget(s)
    assert table.header == ["role", "predicted", "Act I shared measured"]
    k6 = next(row for row in table.rows if row[0] == "k6")
    assert k6[2] == "0.55"
    assert table.rows[-1][0] == "total (of 1.2 usable)" and table.rows[-1][2] == "0.80"
    postkit.write_post(s, tmp_path / "post.md")
    post = (tmp_path / "post.md").read_text()
    assert "limited to 1.2 CPUs" in post and "12 ms away" in post and "of 5, 12 ms" in post


def test_a_summary_from_before_the_budget_judges_against_the_machine():
    s = summary.build("RUN1", TINY, LAB, "load/todo-load.js", 1, {}, MACHINE, {}, [], None, None, None)
    assert s.usable_cpus == 2.0
    assert tables.cpu_budget(s).rows == []


def test_no_delay_past_the_point_where_act_iii_could_not_beat_the_acquire_timeout_tenfold():
    assert budget.max_delay_ms(500) == 25
    # Fits only from 30 ms on: the ladder stops at 25 ms for a 500 ms timeout, 50 ms for 1 s.
    cheap_at_30 = budget.judge(5, AT_5MS, [LOW, HIGH], burst_x=1.3, usable_cpus=0.45)
    assert budget.next_delay(cheap_at_30, 1.3, 0.45, acquire_timeout_ms=500) is None
    assert budget.next_delay(cheap_at_30, 1.3, 0.45, acquire_timeout_ms=1000) in (30, 40, 50)


def test_the_highest_rate_is_where_the_roles_lines_reach_the_cores_given():
    costs = budget.fit(LOW, HIGH)  # 0.12 fixed (the recorder, k6's 0.02) + 1 ms a request in all
    assert budget.max_rate(costs, 1.1) == pytest.approx(980.0)
    assert budget.max_rate(costs, 0.05) == 0.0  # the fixed costs alone take more


def test_when_only_the_recording_keeps_the_bursts_over_the_budget_the_plan_says_so():
    # 0.3 cores of budget: with the recorder's 0.1 fixed, no delay up to 25 ms fits; without it one does.
    tight = budget.judge(5, AT_5MS, [LOW, HIGH], burst_x=1.3, usable_cpus=0.5)
    assert budget.next_delay(tight, burst_x=1.3, usable_cpus=0.5, acquire_timeout_ms=500) is None
    note = budget.without_recording_note(tight, burst_x=1.3, usable_cpus=0.5, acquire_timeout_ms=500)
    assert note is not None and note.endswith("--no-record")
    delay = int(note.split(" ms:")[0].rsplit(" ", 1)[1])
    rate = 1.3 * budget.predicted_capacity(AT_5MS, 5, delay)
    without = {role: c for role, c in budget.predict(tight.costs, rate).items() if role != "recorder"}
    assert sum(without.values()) <= 0.3 < sum(without.values()) + 0.1
    # No recording in the probe: nothing to leave out.
    unrecorded = dataclasses.replace(tight, costs={r: c for r, c in tight.costs.items() if r != "recorder"})
    assert budget.without_recording_note(unrecorded, burst_x=1.3, usable_cpus=0.5, acquire_timeout_ms=500) is None
