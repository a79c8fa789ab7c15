"""Verdicts are computed from the numbers with the stated thresholds."""

import dataclasses

from experiment.analyse import verdict
from experiment.model.results import CpuUse
from experiment.tests.synthetic import headline


def by_key(verdicts):
    return {v.key: v for v in verdicts}


def test_the_story_as_expected():
    arms = {
        "shared": headline(burst_p95=400, baseline_p95=8, errors=50, waiters=30, timeouts=50, tasks=(20, 300),
                           write_burst=300),
        "isolated": headline(burst_p95=9, baseline_p95=6, errors=0, write_burst=450),
        "shared-3x": headline(burst_p95=200, errors=5),
    }
    v = by_key(verdict.judge(arms, cores=2))
    assert all(v[k].holds for k in ("read_p95_spikes_act1", "read_errors_act1", "cpu_low_act1",
                                    "pool_exhausted_act1", "tasks_rise_act1", "requests_pile_up_act1", "reads_stable_act3",
                                    "reads_fast_server_side_act3",
                                    "writes_degrade_act3", "boundaries_beat_power"))


def test_no_effect_is_reported_as_no():
    arms = {"shared": headline(), "isolated": headline()}
    v = by_key(verdict.judge(arms, cores=2))
    assert not v["read_p95_spikes_act1"].holds
    assert not v["read_errors_act1"].holds
    assert not v["pool_exhausted_act1"].holds
    assert not v["tasks_rise_act1"].holds
    assert not v["requests_pile_up_act1"].holds
    assert not v["reads_stable_act3"].holds  # not 3x lower than Act I
    assert v["cpu_low_act1"].holds


def test_a_busy_service_is_not_low_cpu():
    v = by_key(verdict.judge({"shared": headline(svc_peak=1.5)}, cores=2))
    assert not v["cpu_low_act1"].holds


def test_missing_data_is_not_judged():
    h = headline(burst_p95=None, svc_peak=None)
    v = by_key(verdict.judge({"shared": h}, cores=2))
    assert v["read_p95_spikes_act1"].holds is None
    assert v["cpu_low_act1"].word == "n/a"


def test_repeats_combine_into_yes_no_or_mixed():
    yes = verdict.judge({"shared": headline(errors=10)}, cores=2)
    no = verdict.judge({"shared": headline(errors=0)}, cores=2)
    combined = {c.key: c for c in verdict.combine([yes, no, yes])}
    assert combined["read_errors_act1"].verdict == "mixed"
    assert combined["read_errors_act1"].held_in == 2
    assert combined["read_errors_act1"].evidence.startswith("rep 1: 10 of 1000 GET /todos failed")
    assert combined["cpu_low_act1"].verdict == "yes"
    assert {c.key: c for c in verdict.combine([no])}["read_errors_act1"].verdict == "no"


def test_a_saturated_machine_is_called_out():
    busy = headline(machine=CpuUse(mean_cores=1.0, peak_cores=2.0, burst_mean_cores=1.9))
    idle = headline(machine=CpuUse(mean_cores=0.8, peak_cores=1.2, burst_mean_cores=1.1))
    assert not by_key(verdict.judge({"shared": busy, "isolated": idle}, cores=2))["cpu_to_spare"].holds
    assert by_key(verdict.judge({"shared": idle}, cores=2))["cpu_to_spare"].holds


def test_under_a_cpu_quota_the_lab_is_judged_against_the_usable_cpu_not_the_cores():
    # A cgroup limited to 1.2 CPUs on a 2-core machine: 1.0 core busy is 50% of the machine, but
    # 83% of what the lab may use.
    def quota_arm(lab_burst):
        h = headline(machine=CpuUse(None, None, 1.0))
        return dataclasses.replace(h, cpu=dataclasses.replace(h.cpu, lab=CpuUse(None, None, lab_burst)))

    v = by_key(verdict.judge({"shared": quota_arm(1.0)}, cores=1.2))["cpu_to_spare"]
    assert not v.holds and "1.00 cores of 1.2" in v.evidence
    assert by_key(verdict.judge({"shared": quota_arm(0.8)}, cores=1.2))["cpu_to_spare"].holds


def test_when_pinned_each_side_is_judged_on_its_own_cpus():
    def arm(load_side_burst):
        return headline(machine=CpuUse(None, None, 1.2),  # 60% of the machine: fine as a whole ...
                        sut_side=CpuUse(None, None, 0.3, cpus=1),
                        load_side=CpuUse(None, None, load_side_burst, cpus=1))

    v = by_key(verdict.judge({"shared": arm(0.9)}, cores=2))["cpu_to_spare"]  # ... but the load side's core was 90% busy
    assert not v.holds and "load side" in v.evidence
    assert by_key(verdict.judge({"shared": arm(0.7)}, cores=2))["cpu_to_spare"].holds


def test_a_client_far_from_the_service_marks_the_run_contaminated():
    near, far = headline(), headline(ratio=2.6)
    assert by_key(verdict.judge({"shared": near, "isolated": near}, cores=2))["client_measures_service"].holds
    assert not by_key(verdict.judge({"shared": near, "isolated": far}, cores=2))["client_measures_service"].holds


def test_dropped_iterations_are_called_out():
    few, many = headline(dropped=5, requests=10000), headline(dropped=900, requests=10000)
    assert by_key(verdict.judge({"shared": few}, cores=2))["load_offered"].holds
    assert not by_key(verdict.judge({"shared": few, "isolated": many}, cores=2))["load_offered"].holds


def test_an_arm_without_a_server_side_p95_leaves_the_contamination_check_open():
    near, blind = headline(), headline(ratio=None)
    v = by_key(verdict.judge({"shared": near, "isolated": blind}, cores=2))["client_measures_service"]
    assert v.holds is None and "unchecked" in v.evidence


def test_when_pinned_the_service_cpu_is_judged_against_its_own_cpus():
    busy = headline(svc_peak=0.8, sut_side=CpuUse(None, None, 0.5, cpus=1))  # 40% of the machine, but 80% of its one core
    assert not by_key(verdict.judge({"shared": busy}, cores=2))["cpu_low_act1"].holds
    assert by_key(verdict.judge({"shared": headline(svc_peak=0.8)}, cores=2))["cpu_low_act1"].holds


def _with_monitoring(h, mean_cores):
    use = CpuUse(mean_cores=mean_cores, peak_cores=mean_cores, burst_mean_cores=mean_cores)
    return dataclasses.replace(h, cpu=dataclasses.replace(h.cpu, monitoring=use))


def test_the_monitoring_is_judged_small_only_under_five_percent_of_a_core_in_every_arm():
    small = {"shared": _with_monitoring(headline(), 0.008), "isolated": _with_monitoring(headline(), 0.02)}
    v = by_key(verdict.judge(small, cores=2))["monitoring_is_small"]
    assert v.holds
    assert "shared: 0.008 cores mean" in v.evidence

    one_heavy = {"shared": _with_monitoring(headline(), 0.008), "isolated": _with_monitoring(headline(), 0.2)}
    assert not by_key(verdict.judge(one_heavy, cores=2))["monitoring_is_small"].holds


def test_runs_without_monitoring_samples_get_no_monitoring_verdict():
    assert "monitoring_is_small" not in by_key(verdict.judge({"shared": headline()}, cores=2))


def test_the_trust_checks_are_verdicts_judge_gives_and_the_summary_keeps_them_apart():
    arms = {key: _with_monitoring(headline(dropped=5, requests=10000, machine=CpuUse(0.5, 0.8, 0.6)), 0.01)
            for key in ("shared", "isolated", "shared-3x")}
    judged = by_key(verdict.judge(arms, cores=2))
    assert set(judged) >= verdict.TRUST_CHECKS  # a renamed trust check fails here
    combined = by_key(verdict.combine([list(judged.values()), list(judged.values())]))
    assert {key for key, v in combined.items() if v.trust} == verdict.TRUST_CHECKS
    assert [(r.repeat, r.holds) for r in combined["read_p95_spikes_act1"].repeats] == [(1, False), (2, False)]
