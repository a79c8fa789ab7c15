"""The run's PromQL queries: what they select and how windows become one answer."""

from experiment.analyse import promql
from experiment.model.labels import RunLabels
from experiment.model.results import QueryAnswer
from experiment.run.runner import Progress

QUERIES = promql.RunQueries(RunLabels("20261128T115523Z", "shared", 1), "lab_experiment")
TARGET = 'job="todo-service", run="20261128T115523Z", arm="shared", repeat="1"'


def test_every_service_query_selects_only_this_runs_target():
    for name, query in QUERIES.series().items():
        if name != "backends":
            assert query.count("{") == query.count(TARGET), name
    assert QUERIES.selector("x", status_class="2xx") == f'x{{{TARGET}, status_class="2xx"}}'


def test_the_databases_view_is_the_lab_databases_pools_per_state():
    query = QUERIES.series()["backends"]
    assert query.startswith("sum by (application_name, state) (pg_backends_count{")
    assert 'datname="lab_experiment"' in query and 'application_name=~"todo-service/.+"' in query


def test_a_window_is_the_counters_value_at_the_scrape_nearest_its_end_minus_at_its_start_and_windows_add_up():
    windows = QUERIES.windows((100.0, 130.0), [(106.0, 112.0), (118.0, 124.5)])
    bucket = f"http_request_duration_seconds_bucket{{{TARGET}}}"
    assert windows["server_p95_s_load"] == (
        f"histogram_quantile(0.95, (sum by (le, endpoint) ({bucket} @ 130.500)"
        f" - sum by (le, endpoint) ({bucket} @ 100.500)))")
    bursts = windows["server_p95_s_bursts"]
    assert bursts.count(" @ ") == 4 and ") + (" in bursts
    assert "[6s] @ 112.000" in windows["in_use_mean_bursts"] and "[6s] @ 124.500" in windows["in_use_mean_bursts"]


def test_a_profile_without_bursts_asks_only_for_the_whole_load():
    assert set(QUERIES.windows((0.0, 10.0), [])) == {"server_p95_s_load"}


def test_answers_keep_labels_and_points_and_drop_nan():
    result = [{"metric": {"__name__": "x", "endpoint": "login"}, "values": [[1, "0.5"], [2, "NaN"], [3, "2"]]},
              {"metric": {"pool": "shared"}, "value": [9, "12"]}]
    first, second = promql.answers(result)
    assert (first.labels, first.points) == ({"endpoint": "login"}, [(1.0, 0.5), (3.0, 2.0)])
    assert promql.by_label(QueryAnswer("q", [second]), "pool") == {"shared": 12.0}


class NowPrometheus:
    """Answers the progress line's instant queries with fixed values (None: an empty vector)."""

    def __init__(self, values: dict[str, float | None]):
        self.values = {QUERIES.progress()[name]: value for name, value in values.items()}

    def query(self, query: str, timeout: float) -> list[dict]:
        value = self.values[query]
        return [] if value is None else [{"metric": {}, "value": [0, str(value)]}]


def test_the_progress_line_asks_prometheus_for_the_rate_and_the_pool(capsys):
    fake = NowPrometheus({"rps": 812.4, "in_use": 12, "size": 12, "waiters": 340})
    Progress("[Act I shared 1/1]", 32, fake, QUERIES).tick()
    line = capsys.readouterr().out
    assert "812 req/s" in line and "pool in use 12/12  waiters 340" in line


def test_the_progress_line_waits_for_the_first_scrape(capsys):
    fake = NowPrometheus({"rps": None, "in_use": None, "size": None, "waiters": None})
    Progress("[Act I shared 1/1]", 32, fake, QUERIES).tick()
    assert "(waiting for metrics)" in capsys.readouterr().out
