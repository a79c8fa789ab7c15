"""The lab's load as a k6-operator `TestRun`: the manifests that run load/todo-load.js in a
Kubernetes cluster with the local run's environment, against a deployed service, writing to a
Prometheus of the user's (docs/hosts-and-kubernetes.md, "Running the load from Kubernetes").

The script imports ./lib/*.js and opens ../shape.json, so a ConfigMap of plain files cannot hold
it (a key cannot contain '/'): `k6 archive` bundles the script, its imports and opened files into
one tar, which the ConfigMap carries as binaryData. Two facts of k6 archives shape this module:

- k6 evaluates the script's init context when archiving and keeps the options it resolved (the
  scenarios, hence the rates) in the archive's metadata.json; a k6 running the archive does not
  build them again. So the archive is made with the load's environment, and the rates are fixed
  in it: other rates need new manifests, not an edited env.
- Variables given to `k6 archive` would be stored in it too; `--exclude-env-vars` leaves them out,
  so the TestRun's runner env is the one place that sets them (a runner's env overrides an
  archive's anyway, but a variable the TestRun lacked would silently fall back on the archived one).

The manifests are JSON (kubectl reads JSON as it reads YAML): the standard library writes it, the
base64 archive and every env value need no escaping rules of ours, and no dependency is added.
The builders are pure (explicit inputs, dicts out); `write_for_run` is the runner's one call.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shlex
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..model.labels import RunLabels
from ..model.results import RunConfig
from ..report import render
from . import k6cmd
from .lab import seed_options
from .runner import Context

FOLDER = "k6-operator"  # in the results folder: results/<run>/k6-operator/
API_VERSION = "k6.io/v1alpha1"  # k6-operator's TestRun CRD
ARCHIVE_KEY = "archive.tar"  # the ConfigMap's key, the file k6 runs in the runner pods (/test/archive.tar)
TESTID_ARM = "k6-operator"  # k6's tag testid=<run>/k6-operator/1 tells the cluster's run from the local arms
# Placeholders the user changes for their cluster (--k8s-base-url, or the written testrun.json).
DEFAULT_BASE_URL = "http://todo-service:8080"
DEFAULT_REMOTE_WRITE_URL = "http://prometheus:9090/api/v1/write"
# k6-operator passes `arguments` through a shell split on whitespace: an argument needing quotes
# would be mangled, so building one is refused rather than written.
_SHELL_UNSAFE = re.compile(r"""[\s'"`$\\;&|<>()*?#~!{}\[\]]""")


@dataclass(frozen=True)
class Manifests:
    """The two objects `kubectl apply` creates: the ConfigMap holding the archive, and the TestRun."""

    config_map: dict
    test_run: dict


def resource_name(run_id: str) -> str:
    """A Kubernetes name (DNS-1123 label: lowercase letters, digits, '-') for the run's objects:
    "todo-load-20261128t122648z". k6-operator names its jobs "<name>-<n>" after it."""
    return "todo-load-" + re.sub(r"[^a-z0-9]+", "-", run_id.lower()).strip("-")


def _labels(run_id: str) -> RunLabels:
    return RunLabels(run_id, TESTID_ARM, 1)


def testid(run_id: str) -> str:
    """k6's testid tag in the cluster: "<run>/k6-operator/1"."""
    return _labels(run_id).testid


def k6_arguments(run_id: str) -> list[str]:
    """k6's options in the cluster: the local run's remote-write output and testid tag
    (`k6cmd.remote_write_args`), the testid naming the run and k6-operator."""
    return k6cmd.remote_write_args(_labels(run_id))


def runner_env(load_env: dict[str, str], base_url: str, remote_write_url: str) -> dict[str, str]:
    """The runner pods' environment: the load's own variables (`k6cmd.K6Command.load_env`), the
    remote-write settings of the local run pointed at `remote_write_url`, and the service's URL.
    The local run's file outputs (SUMMARY_PATH, the CSV) have no place in a pod: the summary goes
    to the pods' logs."""
    return load_env | k6cmd.remote_write_env(remote_write_url) | {"BASE_URL": base_url}


def make_archive(k6: Path, script: Path, load_env: dict[str, str]) -> bytes:
    """`k6 archive` of `script` (no request is sent): the scenarios resolved with exactly
    `load_env`, the variables themselves left out (see the module's doc)."""
    result = subprocess.run(
        k6cmd.archive_argv(k6, script),
        env=load_env, capture_output=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"k6 archive exited with code {result.returncode}: "
                           f"{result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def archive_metadata(archive: bytes) -> dict:
    """The archive's metadata.json: the options k6 resolved, the k6 version that made it, the
    variables it carries (none, with --exclude-env-vars)."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("metadata.json")
        if member is None:
            raise ValueError("the k6 archive has no metadata.json")
        return json.load(member)


def runner_image(archive: bytes) -> str:
    """The k6 that made the archive, as grafana/k6's image: the cluster runs the local k6."""
    return f"grafana/k6:{archive_metadata(archive)['k6version']}"


def config_map(name: str, archive: bytes) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "todo-load"}},
        "binaryData": {ARCHIVE_KEY: base64.b64encode(archive).decode("ascii")},
    }


def test_run(name: str, config_map_name: str, env: dict[str, str], arguments: list[str], parallelism: int,
             image: str) -> dict:
    """The TestRun: `parallelism` k6 runners (k6-operator gives each an equal execution segment,
    as the local runner does with several k6 processes), each running the ConfigMap's archive
    with `arguments` and exactly `env`."""
    if parallelism < 1:
        raise ValueError(f"parallelism must be at least 1, not {parallelism}")
    unsafe = [a for a in arguments if not a or _SHELL_UNSAFE.search(a)]
    if unsafe:
        raise ValueError(f"k6-operator splits `arguments` on whitespace in a shell: cannot pass {unsafe}")
    return {
        "apiVersion": API_VERSION,
        "kind": "TestRun",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "todo-load"}},
        "spec": {
            "parallelism": parallelism,
            "script": {"configMap": {"name": config_map_name, "file": ARCHIVE_KEY}},
            "arguments": " ".join(arguments),
            # The initializer pod (k6 inspect of the archive) takes the runner's settings.
            "runner": {"image": image, "env": [{"name": k, "value": v} for k, v in sorted(env.items())]},
        },
    }


def build(run_id: str, load_env: dict[str, str], archive: bytes, parallelism: int,
          base_url: str = DEFAULT_BASE_URL, remote_write_url: str = DEFAULT_REMOTE_WRITE_URL) -> Manifests:
    """The run's ConfigMap and TestRun, from explicit inputs."""
    name = resource_name(run_id)
    config_map_name = f"{name}-archive"
    return Manifests(
        config_map=config_map(config_map_name, archive),
        test_run=test_run(name, config_map_name, runner_env(load_env, base_url, remote_write_url),
                          k6_arguments(run_id), parallelism, runner_image(archive)),
    )


def write(folder: Path, manifests: Manifests, run_testid: str, rates_note: str, seed_command: str) -> None:
    """configmap.json and testrun.json (kubectl applies a folder's .json files in name order,
    the ConfigMap first) and README.txt, the commands to run them (templates/k6-operator.txt.j2)."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, manifest in (("configmap.json", manifests.config_map), ("testrun.json", manifests.test_run)):
        (folder / file).write_text(json.dumps(manifest, indent=2) + "\n")
    env = {item["name"]: item["value"] for item in manifests.test_run["spec"]["runner"]["env"]}
    (folder / "README.txt").write_text(render.environment.get_template("k6-operator.txt.j2").render(
        test_run=manifests.test_run, env=env, rates_note=rates_note, archive_key=ARCHIVE_KEY, testid=run_testid,
        seed_command=seed_command))


def write_for_run(ctx: Context, out: Path, base_url: str = DEFAULT_BASE_URL,
                  remote_write_url: str = DEFAULT_REMOTE_WRITE_URL) -> None:
    """Write the manifests of the run in `out` (its config.json holds the rates and the number of
    k6 processes) into out/k6-operator/. A failure (k6 archive, say) is printed, never raised:
    the experiment goes on without them."""
    try:
        config = RunConfig.load(out / "config.json")
        if config.rates is None:
            raise ValueError("config.json has no rates yet")
        env = ctx.k6.load_env(config.rates)
        manifests = build(config.run_id, env, make_archive(ctx.paths.k6, ctx.paths.load_script, env),
                          config.k6_processes, base_url, remote_write_url)
        rates = f"{config.rates.base_rps} req/s base, {config.rates.burst_rps} req/s in bursts ({config.rates.source})"
        seed = 'todo-service --database-url "$DATABASE_URL" ' + shlex.join(seed_options(ctx.lab, ctx.profile))
        write(out / FOLDER, manifests, testid(config.run_id), rates, seed)
    except (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError, tarfile.TarError,
            jinja2.TemplateError) as error:
        print(f"[experiment] k6-operator manifests not written: {error}", flush=True)
        return
    print(f"[experiment] k6-operator TestRun for a cluster: {out / FOLDER} (README.txt there)", flush=True)
