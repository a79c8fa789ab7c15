"""The k6-operator manifests run the local run's load: the same variables, outputs and tags, the
same number of k6 processes, and an archive from which k6 builds the same scenarios.

The archive tests need k6 (`k6 archive` and `k6 inspect` send no request); the others use a
stand-in archive holding only the metadata the builders read.
"""

import base64
import io
import json
import shlex
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from experiment.model import shape
from experiment.model.labels import RunLabels
from experiment.model.profiles import PROFILES, LabParams, Rates
from experiment.model.results import CpuSetsRecord, RunConfig
from experiment.run import k6cmd, k6operator, lab, runner
from experiment.run.cpusets import CpuSets
from experiment.run.hosts import LocalHost
from experiment.run.lab import Paths, Service
from experiment.run.monitoring import Prometheus
from experiment.tests.synthetic import MACHINE
from experiment.tests.test_k6_shape import K6, inspect

LOAD = shape.SHAPE_PATH.parent
RUN_ID = "20261128T122648Z"
RATES = Rates(base_rps=199, burst_rps=1034, source="calibrated", capacity_rps=796.0)
CLUSTER_URL = "http://todo.lab.svc:8080"
WRITE_URL = "http://prom.monitoring.svc:9090/api/v1/write"
needs_k6 = pytest.mark.skipif(K6 is None, reason="no k6 (scripts/install-k6.sh installs it)")


@pytest.fixture
def ctx(monkeypatch) -> runner.Context:
    """The runner's context of a quick run; no variable of this process leaks into k6's env."""
    monkeypatch.setattr(k6cmd, "os", SimpleNamespace(environ={}))
    paths = Paths(root=LOAD.parent, service_bin=Path("todo-service"), proxy_bin=Path("latency-proxy"),
                  k6=Path(K6 or "k6"), load_script=LOAD / "todo-load.js")
    return runner.Context(paths=paths, profile=PROFILES["quick"], lab=LabParams(),
                          host=LocalHost(admin_url="", pg_data_dir=None),
                          record=False, ui_ok=False, ui_note="", cpus=CpuSets(None, None, "not pinned"), run_id=RUN_ID,
                          prometheus=Prometheus(Path("prometheus.sh"), "http://127.0.0.1:59090"), rates=RATES)


def local_env(ctx: runner.Context) -> dict[str, str]:
    """The environment the local run gives k6 (k6cmd.K6Command.env)."""
    return ctx.k6.env(Service(1, "http://127.0.0.1:8080", "http://127.0.0.1:9090").base_url, Path("summary.json"), RATES)


def write_config(out: Path, ctx: runner.Context, k6_processes: int) -> None:
    RunConfig(run_id=RUN_ID, profile=ctx.profile, lab=ctx.lab, arms=["shared"], repeats=1, record=False,
              cpu_sets=CpuSetsRecord.of(ctx.cpus), ui="off", load_script="load/todo-load.js", machine=MACHINE,
              versions={}, rates=RATES, k6_processes=k6_processes).save(out / "config.json")


def stand_in_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = json.dumps({"k6version": "1.1.0", "env": None}).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def written(out: Path) -> tuple[dict, dict]:
    folder = out / k6operator.FOLDER
    return (json.loads((folder / "configmap.json").read_text()), json.loads((folder / "testrun.json").read_text()))


def runner_env(test_run: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in test_run["spec"]["runner"]["env"]}


def archive_of(config_map: dict, test_run: dict) -> bytes:
    script = test_run["spec"]["script"]["configMap"]
    assert script["name"] == config_map["metadata"]["name"]
    return base64.b64decode(config_map["binaryData"][script["file"]])


def pairs(argv: list[str], option: str) -> list[str]:
    """The values of every `option` in `argv` (`--out A --out B` -> [A, B])."""
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == option]


@pytest.fixture
def manifests(ctx, tmp_path, monkeypatch) -> tuple[dict, dict]:
    """What the runner writes for a run of two k6 processes (with a stand-in archive)."""
    monkeypatch.setattr(k6operator, "make_archive", lambda *_: stand_in_archive())
    write_config(tmp_path, ctx, k6_processes=2)
    k6operator.write_for_run(ctx, tmp_path, base_url=CLUSTER_URL, remote_write_url=WRITE_URL)
    return written(tmp_path)


def test_the_testrun_gives_k6_the_local_run_s_variables_with_the_cluster_s_urls(ctx, manifests):
    _, test_run = manifests
    local = local_env(ctx)
    assert local["K6_PROMETHEUS_RW_SERVER_URL"] != WRITE_URL and local["BASE_URL"] != CLUSTER_URL
    local_files = {"SUMMARY_PATH", "K6_CSV_TIME_FORMAT"}  # the local run's output files: none in a pod
    expected = {k: v for k, v in local.items() if k not in local_files} | {
        "K6_PROMETHEUS_RW_SERVER_URL": WRITE_URL, "BASE_URL": CLUSTER_URL}
    assert runner_env(test_run) == expected
    # ...which is the load's own variables plus the remote-write settings, and the service.
    assert expected == ctx.k6.load_env(RATES) | k6cmd.remote_write_env(ctx.prometheus.write_url) | {
        "K6_PROMETHEUS_RW_SERVER_URL": WRITE_URL, "BASE_URL": CLUSTER_URL}


def test_the_testrun_splits_the_load_into_the_run_s_k6_processes(manifests):
    _, test_run = manifests
    assert test_run["apiVersion"] == "k6.io/v1alpha1" and test_run["kind"] == "TestRun"
    assert test_run["spec"]["parallelism"] == 2


def test_the_testrun_sends_k6_s_samples_where_the_local_run_does_tagged_with_the_run(ctx, manifests):
    _, test_run = manifests
    cluster = shlex.split(test_run["spec"]["arguments"])
    assert test_run["spec"]["arguments"].split() == cluster  # k6-operator splits on whitespace
    local = ctx.k6.argv(RunLabels(RUN_ID, "shared", 1), "--out", "csv=k6-samples.csv.gz")
    assert pairs(cluster, "--out") == [o for o in pairs(local, "--out") if not o.startswith("csv=")]
    assert pairs(cluster, "--tag") == [f"testid={RUN_ID}/k6-operator/1"]
    assert [t.split("=")[0] for t in pairs(local, "--tag")] == ["testid"]


def test_the_manifests_name_the_run_in_kubernetes_terms(manifests):
    config_map, test_run = manifests
    assert test_run["metadata"]["name"] == "todo-load-20261128t122648z"
    assert config_map["metadata"]["name"] == "todo-load-20261128t122648z-archive"
    assert test_run["spec"]["runner"]["image"] == "grafana/k6:1.1.0"  # the k6 that made the archive


def test_arguments_a_shell_would_mangle_are_refused():
    with pytest.raises(ValueError, match="whitespace"):
        k6operator.test_run("t", "t-archive", {}, ["--tag", "note=two words"], 1, "grafana/k6:1.1.0")


def test_the_readme_says_the_commands_and_the_run_s_testid(manifests, tmp_path):
    readme = (tmp_path / k6operator.FOLDER / "README.txt").read_text()
    assert "kubectl apply -f ." in readme and f"testid={RUN_ID}/k6-operator/1" in readme
    assert "199 req/s base, 1034 req/s in bursts" in readme and CLUSTER_URL in readme
    seed = 'todo-service --database-url "$DATABASE_URL" ' + " ".join(lab.seed_options(LabParams(), PROFILES["quick"]))
    assert seed in readme and "--users 200 --todos-per-user 20" in seed


def test_a_failing_k6_archive_is_a_note_not_the_end_of_the_experiment(ctx, tmp_path, capsys):
    write_config(tmp_path, ctx, k6_processes=1)
    broken = runner.Context(**{**vars(ctx), "paths": Paths(**{**vars(ctx.paths), "k6": tmp_path / "no-k6"})})
    k6operator.write_for_run(broken, tmp_path)
    assert "k6-operator manifests not written" in capsys.readouterr().out
    assert not (tmp_path / k6operator.FOLDER).exists()


@needs_k6
def test_the_archive_holds_the_script_its_imports_and_shape_json_and_no_variables(ctx, tmp_path):
    write_config(tmp_path, ctx, k6_processes=2)
    k6operator.write_for_run(ctx, tmp_path)
    archive = archive_of(*written(tmp_path))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
    for file in ("todo-load.js", "lib/profile.js", "lib/summary.js", "shape.json"):
        assert any(name.endswith(f"{LOAD.name}/{file}") for name in names), (file, names)
    assert not k6operator.archive_metadata(archive)["env"]  # the TestRun's env sets every variable


@needs_k6
def test_k6_builds_the_local_run_s_scenarios_from_the_archive_and_the_testrun_s_env(ctx, tmp_path):
    write_config(tmp_path, ctx, k6_processes=2)
    k6operator.write_for_run(ctx, tmp_path)
    config_map, test_run = written(tmp_path)
    archive = tmp_path / "archive.tar"
    archive.write_bytes(archive_of(config_map, test_run))
    cluster = inspect(archive, runner_env(test_run))
    local = inspect(LOAD / "todo-load.js", local_env(ctx))
    assert cluster["scenarios"] == local["scenarios"] and cluster["thresholds"] == local["thresholds"]
    assert local["scenarios"]["login"]["startRate"] == round(RATES.base_rps * shape.MIX[0].share)
