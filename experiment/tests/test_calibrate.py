"""Calibration arithmetic: hold times from two scrapes, Little's law for the capacity."""

import json

import pytest

from experiment import calibrate


def scrape(hold: dict[str, float], requests: dict[str, float]) -> dict[str, float]:
    out = {}
    for endpoint, seconds in hold.items():
        out[f'db_pool_connection_hold_seconds_sum{{endpoint="{endpoint}",pool="shared"}}'] = seconds
    for endpoint, count in requests.items():
        out[f'http_requests_total{{endpoint="{endpoint}",status_class="2xx"}}'] = count
    return out


def test_hold_time_and_requests_are_the_increase_between_two_scrapes():
    before = scrape({"login": 1.0, "list_todos": 0.5}, {"login": 100, "list_todos": 50})
    after = scrape({"login": 3.0, "list_todos": 1.0}, {"login": 300, "list_todos": 150})
    hold, requests = calibrate.hold_by_endpoint(before, after)
    assert hold == {"login": 2.0, "list_todos": 0.5}
    assert requests == {"login": 200, "list_todos": 100}


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
