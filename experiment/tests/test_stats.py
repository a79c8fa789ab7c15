"""Client-side statistics from k6 samples."""

import gzip
import math
import random

import numpy as np
import pytest

from experiment.analyse import stats
from experiment.analyse.stats import Request
from experiment.model.results import Spread


def test_percentile_matches_linear_interpolation():
    assert stats.percentile([], 95) is None
    assert stats.percentile([7], 95) == 7
    assert stats.percentile([1, 2, 3, 4], 50) == 2.5
    assert stats.percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert stats.percentile([5, 1, 3], 100) == 5
    assert stats.percentile((x for x in [3, 1, 2]), 50) == 2  # any iterable, once


def closest_ranks(values, q):
    """The definition the report has always used: sort, take the fractional rank (n - 1) * q / 100,
    interpolate linearly between the two closest ranks."""
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def test_percentile_is_the_closest_ranks_definition_on_random_inputs():
    """numpy's "linear" method is that definition: equal on every input up to the last bits of
    floating-point rounding (numpy computes the rank and the interpolation in another order).
    numpy's other methods are not: each differs by far more on some input."""
    rng = random.Random(11)
    draws = [lambda: rng.randint(0, 1000),  # whole milliseconds, with ties
             lambda: rng.lognormvariate(2, 1.5),  # latency-like, a long tail
             lambda: round(rng.uniform(-600, 600), 3)]
    cases = []
    for _ in range(3000):
        draw = rng.choice(draws)
        values = [draw() for _ in range(rng.randint(1, 300))]
        cases.append((values, rng.choice([0, 50, 95, 99, 99.9, 100, rng.uniform(0, 100)])))
    for values, q in cases:
        rounding = 1e-12 * (max(values) - min(values) or 1)
        assert abs(stats.percentile(values, q) - closest_ranks(values, q)) <= rounding
    for method in ("lower", "higher", "nearest", "midpoint", "hazen", "weibull", "median_unbiased"):
        assert any(abs(np.percentile(values, q, method=method) - closest_ranks(values, q)) > 1e-6
                   for values, q in cases), method


@pytest.mark.parametrize(
    "method,url,endpoint",
    [
        ("POST", "http://127.0.0.1:8080/login", "login"),
        ("POST", "http://127.0.0.1:8080/todos", "create_todo"),
        ("GET", "http://127.0.0.1:8080/todos?limit=20", "list_todos"),
        ("GET", "http://127.0.0.1:8080/todos/", "list_todos"),
        ("DELETE", "http://127.0.0.1:8080/todos", "other"),
        ("GET", "http://127.0.0.1:8080/health", "other"),
    ],
)
def test_requests_map_to_the_service_endpoint_names(method, url, endpoint):
    assert stats.endpoint_of(method, url) == endpoint


def test_the_k6_endpoint_tag_wins_and_setup_logins_are_set_apart():
    assert stats.endpoint_of("POST", "http://h/login", "endpoint=setup_login") == "setup"
    assert stats.endpoint_of("POST", "http://h/login", "x=1&endpoint=login") == "login"
    assert stats.endpoint_of("GET", "http://h/todos", "endpoint=list_todos") == "list_todos"


CSV = """metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata
http_reqs,1700000000123,1,,,,true,,GET,x,HTTP/1.1,default,,200,,,http://h/todos,,
http_req_duration,1700000000123,12.5,,,,true,,GET,x,HTTP/1.1,default,,200,,,http://h/todos?limit=20,,
http_req_duration,1700000000500,510.0,,,,false,,GET,x,HTTP/1.1,default,,503,,,http://h/todos,,
http_req_duration,1700000001200,3.0,,,,true,,POST,x,HTTP/1.1,default,,200,,,http://h/login,,
http_req_duration,1700000001300,60000,,request timeout,1050,false,,POST,x,HTTP/1.1,default,,0,,,http://h/todos,,
"""


def test_read_k6_csv_keeps_one_row_per_request(tmp_path):
    path = tmp_path / "s.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write(CSV)
    requests = stats.read_k6_csv(str(path))
    assert [r.endpoint for r in requests] == ["list_todos", "list_todos", "login", "create_todo"]
    assert requests[0].t == pytest.approx(1700000000.123)
    assert [r.ok for r in requests] == [True, False, True, False]
    assert requests[3].status == 0


def test_summarize_counts_errors_and_percentiles():
    reqs = [Request(t=i, endpoint="list_todos", duration_ms=float(i), status=200 if i < 8 else 503) for i in range(10)]
    s = stats.summarize(reqs, seconds=5)
    assert s.count == 10 and s.rps == 2
    assert s.errors == 2 and s.error_rate == 0.2
    assert s.p50_ms == 4.5
    assert s.statuses == {"200": 8, "503": 2}
    assert stats.summarize([], 1).p95_ms is None


def test_per_second_buckets_from_t0():
    reqs = [Request(100.2, "list_todos", 10, 200), Request(100.9, "list_todos", 30, 503), Request(101.1, "list_todos", 5, 200)]
    seconds = stats.per_second(reqs, t0=100.0, q=50)
    assert seconds == {0: stats.Second(count=2, errors=1, p_ms=20.0), 1: stats.Second(count=1, errors=0, p_ms=5.0)}


def test_spread_ignores_missing_values():
    assert stats.spread([3, None, 1, 2]) == Spread(min=1, median=2, max=3, n=3)
    assert stats.spread([None]) is None
