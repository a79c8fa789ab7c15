"""Calibration: hold times from PromQL over the probe, Little's law for the capacity."""

import json

import pytest

from experiment.analyse import promql
from experiment.model.labels import RunLabels
from experiment.run import calibrate


class FakePrometheus:
    """Answers each instant query with the vector given for its name (by the query's text)."""

    def __init__(self, queries: dict[str, str], vectors: dict[str, dict[str, float]]):
        self.vectors = {queries[name]: vector for name, vector in vectors.items()}
        self.asked: list[tuple[str, float]] = []

    def query(self, query: str, at: float) -> list[dict]:
        self.asked.append((query, at))
        return [{"metric": {"endpoint": e}, "value": [at, str(v)]} for e, v in self.vectors[query].items()]


def test_the_probes_hold_times_and_requests_are_promql_increases_over_its_window():
    queries = promql.RunQueries(RunLabels("RUN", "calibration", 1), "lab_experiment")
    vectors = {"hold_seconds": {"login": 2.0, "list_todos": 0.5}, "requests": {"login": 200, "list_todos": 100},
               "requests_2xx": {"login": 199, "list_todos": 100}}
    fake = FakePrometheus(queries.calibration(10.0, 25.0), vectors)
    counts = calibrate.probe_counts(fake, queries, 10.0, 25.0)
    assert counts == vectors
    assert {at for _, at in fake.asked} == {25.0}
    assert all("@ 25.500" in q and "@ 10.500" in q for q, _ in fake.asked)


def test_capacity_is_connections_over_the_mix_mean_hold():
    # login holds 10 ms per request, the todo endpoints 5 ms; mix 40/40/20 -> mean 7 ms
    hold = {"login": 4.0, "create_todo": 2.0, "list_todos": 1.0}
    requests = {"login": 400, "create_todo": 400, "list_todos": 200}
    mix = {"login": 0.4, "create_todo": 0.4, "list_todos": 0.2}
    hold_ms, mean_ms, capacity = calibrate.capacity(12, hold, requests, mix)
    assert hold_ms == pytest.approx({"login": 10.0, "create_todo": 5.0, "list_todos": 5.0})
    assert mean_ms == pytest.approx(7.0)
    assert capacity == pytest.approx(12 / 0.007)


def test_an_endpoint_without_measurements_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="list_todos"):
        calibrate.capacity(12, {"login": 1.0}, {"login": 10}, {"login": 0.8, "list_todos": 0.2})


def test_the_mix_is_k6s_own_count_of_what_it_sent(tmp_path):
    path = tmp_path / "k6-summary.json"
    path.write_text(json.dumps({"endpoints": {"login": {"count": 40}, "create_todo": {"count": 40},
                                              "list_todos": {"count": 20}}}))
    assert calibrate.mix_from_k6_summary(path) == {"login": 0.4, "create_todo": 0.4, "list_todos": 0.2}


def test_a_stage_s_rate_is_what_k6_sent_not_what_it_planned(tmp_path):
    # A stage that ran the machine dry: k6 dropped iterations, so the roles' CPU was spent on fewer
    # requests than planned, and a line through the planned rate would make requests look cheap.
    path = tmp_path / "k6-cpu-summary.json"
    path.write_text(json.dumps({"endpoints": {"login": {"count": 3200}, "create_todo": {"count": 3200},
                                              "list_todos": {"count": 1600}}}))
    assert calibrate.sent_rate(path, 8, planned_rps=1340) == 1000.0
    assert calibrate.sent_rate(path, 8, planned_rps=900) == 900  # a few late answers do not raise it
