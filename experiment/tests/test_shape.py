"""load/shape.json as the runner reads it: the profiles, the mix, the endpoint names and the prose."""

import json

from experiment import shape, stats
from experiment.profiles import PROFILES, Profile


def test_the_profiles_are_the_ones_in_load_shape_json():
    raw = json.loads(shape.SHAPE_PATH.read_text())["profiles"]
    assert sorted(PROFILES) == sorted(raw) == ["default", "quick", "sweep", "sweep-quick"]
    for name, profile in PROFILES.items():
        assert profile == Profile(name=name, **raw[name])


def test_the_quick_profile_bursts_twice_in_32_seconds():
    quick = PROFILES["quick"]
    assert quick.duration_s() == 32
    assert quick.burst_windows() == [(6, 14), (20, 28)]
    assert (quick.base_x, quick.burst_x, quick.users, quick.probe_s) == (0.25, 1.3, 200, 8)


def test_the_default_profile_bursts_four_times_in_168_seconds():
    default = PROFILES["default"]
    assert default.duration_s() == 168
    assert default.burst_windows() == [(20, 37), (57, 74), (94, 111), (131, 148)]
    assert (default.base_x, default.burst_x, default.users, default.probe_s) == (0.25, 1.3, 1000, 15)


def test_the_mix_is_40_login_40_create_20_read_and_adds_up_to_the_whole_rate():
    assert [(e.scenario, e.name, e.share) for e in shape.MIX] == [
        ("login", "login", 0.4), ("create", "create_todo", 0.4), ("read", "list_todos", 0.2)]
    assert abs(sum(e.share for e in shape.MIX) - 1) < 1e-9


def test_the_endpoint_names_and_titles_come_from_the_file_and_stats_re_exports_them():
    assert (shape.LOGIN, shape.CREATE, shape.LIST) == ("login", "create_todo", "list_todos")
    assert shape.ENDPOINTS == ("list_todos", "login", "create_todo")
    assert shape.WRITES == ("login", "create_todo")
    assert shape.ENDPOINT_TITLES == {"login": "POST /login", "create_todo": "POST /todos", "list_todos": "GET /todos"}
    assert (stats.LOGIN, stats.CREATE, stats.LIST, stats.ENDPOINTS, stats.ENDPOINT_TITLES, stats.WRITES) == (
        shape.LOGIN, shape.CREATE, shape.LIST, shape.ENDPOINTS, shape.ENDPOINT_TITLES, shape.WRITES)


def test_the_mix_is_written_from_the_file_in_each_wording_the_documents_use():
    assert shape.mix_text() == "40% POST /login, 40% POST /todos, 20% GET /todos"
    assert shape.mix_text("scenario", " / ") == "40% login / 40% create / 20% read"
    assert shape.mix_text("plain") == "40% logins, 40% new todos, 20% reads of the todo list"
