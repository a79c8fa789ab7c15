"""Verdicts are computed from the numbers with the stated thresholds."""

from experiment import verdict


def headline(burst_p95=10.0, baseline_p95=5.0, errors=0, count=1000, svc_peak=0.3, waiters=0, timeouts=0,
             tasks=(10, 12), write_burst=20.0, write_err=0.0):
    return {
        "read": {"burst_p95_ms": burst_p95, "baseline_p95_ms": baseline_p95, "errors": errors, "count": count,
                 "error_rate": errors / count, "server_burst_p95_ms": burst_p95 / 2, "client_server_ratio": 2.0},
        "write": {"burst_p95_ms": write_burst, "error_rate": write_err},
        "cpu": {"service": {"peak_cores": svc_peak, "mean_cores": svc_peak / 2},
                "postgres": {"peak_cores": 0.5, "mean_cores": 0.2}},
        "pool": {"max_waiters": waiters, "acquire_timeouts": timeouts},
        "tasks": {"baseline": tasks[0], "peak": tasks[1]},
        "in_flight": {"baseline": tasks[0] / 10, "peak": tasks[1] / 10},
    }


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
    h = headline()
    h["read"]["burst_p95_ms"] = None
    h["cpu"]["service"]["peak_cores"] = None
    v = by_key(verdict.judge({"shared": h}, cores=2))
    assert v["read_p95_spikes_act1"].holds is None
    assert v["cpu_low_act1"].word == "n/a"


def test_repeats_combine_into_yes_no_or_mixed():
    yes = verdict.judge({"shared": headline(errors=10)}, cores=2)
    no = verdict.judge({"shared": headline(errors=0)}, cores=2)
    combined = {c["key"]: c for c in verdict.combine([yes, no, yes])}
    assert combined["read_errors_act1"]["verdict"] == "mixed"
    assert combined["read_errors_act1"]["held_in"] == 2
    assert combined["cpu_low_act1"]["verdict"] == "yes"
    assert {c["key"]: c for c in verdict.combine([no])}["read_errors_act1"]["verdict"] == "no"


def test_a_saturated_machine_is_called_out():
    busy = headline()
    busy["cpu"]["machine"] = {"mean_cores": 1.0, "peak_cores": 2.0, "burst_mean_cores": 1.9}
    idle = headline()
    idle["cpu"]["machine"] = {"mean_cores": 0.8, "peak_cores": 1.2, "burst_mean_cores": 1.1}
    assert not by_key(verdict.judge({"shared": busy, "isolated": idle}, cores=2))["cpu_to_spare"].holds
    assert by_key(verdict.judge({"shared": idle}, cores=2))["cpu_to_spare"].holds


def test_when_pinned_each_side_is_judged_on_its_own_cpus():
    arm = headline()
    arm["cpu"]["machine"] = {"burst_mean_cores": 1.2}  # 60% of the machine: fine as a whole ...
    arm["cpu"]["sut_side"] = {"burst_mean_cores": 0.3, "cpus": 1}
    arm["cpu"]["load_side"] = {"burst_mean_cores": 0.9, "cpus": 1}  # ... but the load side's core was 90% busy
    v = by_key(verdict.judge({"shared": arm}, cores=2))["cpu_to_spare"]
    assert not v.holds and "load side" in v.evidence
    arm["cpu"]["load_side"]["burst_mean_cores"] = 0.7
    assert by_key(verdict.judge({"shared": arm}, cores=2))["cpu_to_spare"].holds


def test_a_client_far_from_the_service_marks_the_run_contaminated():
    near, far = headline(), headline()
    far["read"]["client_server_ratio"] = 2.6
    assert by_key(verdict.judge({"shared": near, "isolated": near}, cores=2))["client_measures_service"].holds
    assert not by_key(verdict.judge({"shared": near, "isolated": far}, cores=2))["client_measures_service"].holds


def test_dropped_iterations_are_called_out():
    few, many = headline(), headline()
    few |= {"dropped_iterations": 5, "requests": 10000}
    many |= {"dropped_iterations": 900, "requests": 10000}
    assert by_key(verdict.judge({"shared": few}, cores=2))["load_offered"].holds
    assert not by_key(verdict.judge({"shared": few, "isolated": many}, cores=2))["load_offered"].holds


def test_an_arm_without_a_server_side_p95_leaves_the_contamination_check_open():
    near, blind = headline(), headline()
    blind["read"]["client_server_ratio"] = None
    v = by_key(verdict.judge({"shared": near, "isolated": blind}, cores=2))["client_measures_service"]
    assert v.holds is None and "unchecked" in v.evidence


def test_when_pinned_the_service_cpu_is_judged_against_its_own_cpus():
    busy = headline(svc_peak=0.8)  # 40% of the machine, but 80% of the one core it may use
    busy["cpu"]["sut_side"] = {"burst_mean_cores": 0.5, "cpus": 1}
    assert not by_key(verdict.judge({"shared": busy}, cores=2))["cpu_low_act1"].holds
    del busy["cpu"]["sut_side"]
    assert by_key(verdict.judge({"shared": busy}, cores=2))["cpu_low_act1"].holds
