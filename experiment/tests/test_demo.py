"""The demo (scripts/demo.sh) sets up an arm as a run does and prints a k6 command with the run's
variables, at this machine's calibrated rates when a results folder has them."""

import shlex
from pathlib import Path

from experiment.model import shape
from experiment.model.profiles import PROFILES, LabParams, Rates
from experiment.model.results import CpuSetsRecord, RunConfig
from experiment.run import demo, runner
from experiment.run.cpusets import CpuSets
from experiment.run.hosts import LocalHost
from experiment.run.lab import Paths, Service
from experiment.run.monitoring import Prometheus
from experiment.tests.synthetic import MACHINE

QUICK = PROFILES["quick"]


def save_config(folder: Path, rates: Rates, lab: LabParams) -> None:
    folder.mkdir(parents=True)
    RunConfig(run_id="20261128T123844Z", profile=PROFILES["default"], lab=lab, arms=["shared"], repeats=1,
              record=False, cpu_sets=CpuSetsRecord.of(CpuSets(None, None, "not pinned")), ui="off",
              load_script="load/todo-load.js", machine=MACHINE, versions={}, rates=rates).save(folder / "config.json")


def test_without_a_results_folder_the_delay_is_the_lab_s_and_the_rates_shape_json_s_hand_rates(tmp_path):
    params, rates, source = demo.plan_for(QUICK, LabParams(), latest=tmp_path / "latest")
    assert params == LabParams()
    assert (rates.base_rps, rates.burst_rps) == shape.read_hand_rates(shape.SHAPE_PATH)
    assert "hand_rates" in source


def test_the_newest_calibrated_run_gives_the_delay_and_the_rates_together(tmp_path):
    # The CPU budget put that run at 12 ms: its capacity holds there, not at the lab's 5 ms.
    save_config(tmp_path / "latest", Rates(84, 438, "calibrated", capacity_rps=337.0), LabParams(delay_ms=12))
    params, rates, source = demo.plan_for(QUICK, LabParams(), latest=tmp_path / "latest")
    assert params == LabParams(delay_ms=12)
    assert (rates.base_rps, rates.burst_rps) == (round(QUICK.base_x * 337), round(QUICK.burst_x * 337))
    assert "20261128T123844Z" in source and "12 ms" in source


def test_a_run_with_explicit_rates_is_not_used(tmp_path):
    save_config(tmp_path / "explicit", Rates(150, 800, "explicit"), LabParams(delay_ms=1))
    params, rates, _ = demo.plan_for(QUICK, LabParams(), latest=tmp_path / "explicit")
    assert params == LabParams()
    assert (rates.base_rps, rates.burst_rps) == shape.read_hand_rates(shape.SHAPE_PATH)


def test_the_k6_command_carries_the_variables_of_a_run():
    root = shape.SHAPE_PATH.parent.parent
    ctx = runner.Context(
        paths=Paths(root=root, service_bin=Path("todo-service"), proxy_bin=Path("latency-proxy"), k6=Path("/opt/k6"),
                    load_script=root / "load" / "todo-load.js"),
        profile=QUICK, lab=LabParams(), host=LocalHost(admin_url="", pg_data_dir=None), record=False, ui_ok=False,
        ui_note="", cpus=CpuSets(None, None, "not pinned"), run_id="demo",
        prometheus=Prometheus(Path("prometheus.sh"), "http://127.0.0.1:59090"))
    rates = Rates(200, 1041, "explicit")
    command = demo.k6_command(ctx, Service(1, "http://127.0.0.1:8080", "http://127.0.0.1:9090"), rates)
    words = shlex.split(command.replace("\\\n", ""))  # one shell line, continued
    env = dict(word.split("=", 1) for word in words[:words.index("/opt/k6")])
    assert env == ctx.k6.load_env(rates) | {"BASE_URL": "http://127.0.0.1:8080"}
    assert env["VU_CONNECTION_REUSE"] == "false" and env["BURST_RPS"] == "1041"
    assert words[words.index("/opt/k6"):] == ["/opt/k6", "run", "--address", "", "load/todo-load.js"]
