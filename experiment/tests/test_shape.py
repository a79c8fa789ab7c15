"""load/shape.json as the runner reads it: the profiles, the mix, the endpoint names and the prose."""

import itertools
import json

from experiment.model import shape
from experiment.model.profiles import PROFILES, Profile
from experiment.run import calibrate


def test_the_profiles_are_the_ones_in_load_shape_json():
    raw = json.loads(shape.SHAPE_PATH.read_text())["profiles"]
    assert sorted(PROFILES) == sorted(raw) == ["default", "quick", "sweep", "sweep-quick"]
    for name, profile in PROFILES.items():
        assert profile == Profile(name=name, **raw[name])


def test_every_profile_bursts_above_the_capacity_from_a_base_below_it_and_fits_its_bursts_in_its_time():
    for name, p in PROFILES.items():
        assert p.base_x < 1 < p.burst_x, name
        windows = p.burst_windows()
        assert len(windows) == p.bursts
        assert all(end - start == p.burst_s + 2 * p.ramp_s for start, end in windows), name
        assert windows[0][0] == p.warmup_s and windows[-1][1] + p.recovery_s == p.duration_s(), name
        assert all(b[0] - a[1] == p.gap_s for a, b in itertools.pairwise(windows)), name
        assert p.sessions <= p.users and p.probe_s > calibrate.STAGE_SETTLE_S + 1, name  # a steady part to average


def test_the_mix_is_40_login_40_create_20_read_and_adds_up_to_the_whole_rate():
    assert [(e.scenario, e.name, e.share) for e in shape.MIX] == [
        ("login", "login", 0.4), ("create", "create_todo", 0.4), ("read", "list_todos", 0.2)]
    assert abs(sum(e.share for e in shape.MIX) - 1) < 1e-9


def test_every_endpoint_of_the_mix_has_a_title_and_the_reads_are_the_only_non_write():
    endpoints = {e.name for e in shape.MIX}
    assert set(shape.ENDPOINTS) == endpoints == set(shape.ENDPOINT_TITLES)
    assert set(shape.WRITES) == endpoints - {shape.LIST}
    assert all(title.split()[0] in ("GET", "POST") for title in shape.ENDPOINT_TITLES.values())


def test_the_mix_is_written_from_the_file_in_each_wording_the_documents_use():
    assert shape.mix_text() == "40% POST /login, 40% POST /todos, 20% GET /todos"
    assert shape.mix_text("scenario", " / ") == "40% login / 40% create / 20% read"
    assert shape.mix_text("plain") == "40% logins, 40% new todos, 20% reads of the todo list"
