"""The lab's moving parts for one run of an arm: database, latency proxy, service, warm-up, UI.

Each function starts one thing and returns what the next step needs (URLs, pids). Processes are
started through a `procs.Processes`, which stops them when the run ends. The database, the proxy
and the service are the system under test: their commands run on its host (hosts.py) and listen
on its address; the warm-up, the UI and the recorder are the load side, on the runner's own.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..model.profiles import Arm, LabParams, Profile
from ..model.results import WarmUp
from . import procs
from .hosts import SystemUnderTestHost


@dataclass(frozen=True)
class Paths:
    """Where the lab's binaries and scripts are."""

    root: Path
    service_bin: Path
    proxy_bin: Path
    k6: Path
    load_script: Path
    psql: str = "psql"


def with_database(url: str, database: str, host: str | None = None, port: int | None = None) -> str:
    """The same connection URL with another database name (and optionally host/port)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if host is not None or port is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        old_host, _, old_port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        hostport = f"{host or old_host}:{port or old_port}"
        netloc = f"{userinfo}@{hostport}" if userinfo else hostport
    return urlunsplit((parts.scheme, netloc, "/" + database, parts.query, parts.fragment))


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def recreate_database(paths: Paths, host: SystemUnderTestHost, database: str, log: Path) -> None:
    """Drop and create the experiment's database on `host`, so every run starts from the same data."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise ValueError(f"unsafe database name {database!r}")
    for sql in (f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database}"):
        procs.run(host.command([paths.psql, host.admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]), timeout=60,
                  log_path=log)


def seed(paths: Paths, host: SystemUnderTestHost, db_url: str, lab: LabParams, profile: Profile, log: Path) -> None:
    """Migrate and seed identical data (on `host`); the Argon2 cost set here is what a login verifies."""
    procs.run(host.command([str(paths.service_bin), "--database-url", db_url, *seed_options(lab, profile)]),
              timeout=300, log_path=log)


def seed_options(lab: LabParams, profile: Profile) -> list[str]:
    """todo-service's options after --database-url that seed the lab's data (here, or a managed
    Postgres for a k6-operator TestRun: k6operator.py)."""
    return ["--argon2-memory-kib", str(lab.argon2_memory_kib), "--argon2-iterations", str(lab.argon2_iterations),
            "seed", "--users", str(profile.users), "--todos-per-user", str(profile.todos_per_user),
            "--password", lab.password]


@dataclass(frozen=True)
class Proxy:
    pid: int
    port: int  # where the service connects, on the host's loopback
    metrics_address: str  # host:port of its /metrics, for Prometheus


def start_proxy(children: procs.Processes, paths: Paths, host: SystemUnderTestHost, delay_ms: int,
                log: Path, prefix: Sequence[str] = ()) -> Proxy:
    """Start the latency proxy in front of `host`'s Postgres, beside it: it listens on the host's
    loopback (only the service connects) and serves its metrics on the host's address (for
    Prometheus). `prefix` goes in front of the command line (`taskset -c ...`, see cpusets.py)."""
    upstream = host_port(host.admin_url)
    child = children.start(
        "latency-proxy",
        host.command([*prefix, str(paths.proxy_bin), "--listen", "127.0.0.1:0", "--upstream",
                      f"{upstream[0]}:{upstream[1]}", "--delay-ms", str(delay_ms),
                      "--metrics-listen", f"{host.address}:0"]),
        log,
    )
    # It prints these once bound, so no check from here is needed (nor possible across hosts).
    port = int(child.wait_for_line(r"proxying \S+:(\d+) ->", 20).group(1))
    metrics = child.wait_for_line(r"metrics on http://(\S+)/metrics", 20).group(1)
    return Proxy(pid=child.pid, port=port, metrics_address=metrics)


@dataclass(frozen=True)
class Service:
    pid: int
    base_url: str  # the public API, http://ADDRESS:PORT on the system under test's host
    metrics_url: str  # the metrics listener, http://ADDRESS:PORT


def start_service(children: procs.Processes, paths: Paths, host: SystemUnderTestHost, arm: Arm, db_url: str,
                  lab: LabParams, log: Path, prefix: Sequence[str] = ()) -> Service:
    """Start `todo-service serve` for this arm on `host`, on free ports of its address, and wait
    until it answers /health from here (the load side)."""
    env = os.environ | {"RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    child = children.start(
        "todo-service",
        host.command([
            *prefix, str(paths.service_bin), "--database-url", db_url,
            "--argon2-memory-kib", str(lab.argon2_memory_kib), "--argon2-iterations", str(lab.argon2_iterations),
            "serve", "--pool-mode", arm.pool_mode, "--pool-size", str(arm.pool_size),
            "--acquire-timeout-ms", str(lab.acquire_timeout_ms),
            "--listen", f"{host.address}:0", "--metrics-listen", f"{host.address}:0"]),
        log, env=env,
    )
    api = child.wait_for_line(r"listening on (http://\S+)", 60).group(1)
    metrics = child.wait_for_line(r"metrics on (http://\S+)", 30).group(1)
    procs.wait_until(lambda: procs.http_ok(metrics + "/health"), 30, "service /health", alive=child.alive)
    return Service(pid=child.pid, base_url=api.rstrip("/"), metrics_url=metrics.rstrip("/"))


def _request(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def warm_up(service: Service, profile: Profile, lab: LabParams) -> WarmUp:
    """A few hundred requests of the same mix before k6, so every arm starts warm (pool connections
    open, caches filled). Identical for every arm; returns counts and time for the run record."""
    started = time.monotonic()
    users = [f"user{i}@lab.test" for i in range(1, min(profile.users, 20) + 1)]
    def one(i: int) -> int:
        email = users[i % len(users)]
        status, body = _request("POST", service.base_url + "/login", {"email": email, "password": lab.password})
        token = body.get("token")
        if status != 200 or not token:
            return status
        if i % 2 == 0:
            return _request("POST", service.base_url + "/todos", {"title": f"warm-up {i}"}, token)[0]
        return _request("GET", service.base_url + "/todos?limit=20", None, token)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(one, range(max(1, profile.warmup_requests // 2))))
    ok = sum(1 for s in statuses if 200 <= s < 300)
    return WarmUp(iterations=len(statuses), ok=ok, requests=2 * len(statuses),
                  seconds=round(time.monotonic() - started, 2))


def ui_status(root: Path) -> tuple[bool, str]:
    """Whether the UI can be started and recorded: built web/ and its recorder script."""
    web = root / "web"
    if not (web / "package.json").exists():
        return False, "web/ is not there"
    if not (web / "scripts" / "record-ui.mjs").exists():
        return False, "web/scripts/record-ui.mjs is not there yet"
    if not (web / "node_modules").exists():
        return False, "web/node_modules is missing (run npm --prefix web ci)"
    if not (web / ".next" / "BUILD_ID").exists():
        return False, "the UI is not built (run npm --prefix web run build)"
    return True, "ok"


def start_ui(children: procs.Processes, root: Path, service: Service, prometheus_url: str, log: Path,
             prefix: Sequence[str] = ()) -> str:
    """`npm --prefix web run start` against this arm's service, its dashboard reading the service's
    series (by the metrics listener's address) from the lab's Prometheus; returns the UI's base URL."""
    port = procs.free_port()
    env = os.environ | {
        "PORT": str(port), "HOSTNAME": "127.0.0.1", "PROMETHEUS_URL": prometheus_url,
        "API_URL": service.base_url, "METRICS_URL": service.metrics_url + "/metrics",
        "NEXT_TELEMETRY_DISABLED": "1",
    }
    child = children.start("web-ui", [*prefix, "npm", "--prefix", str(root / "web"), "run", "start"], log, env=env)
    base = f"http://127.0.0.1:{port}"
    procs.wait_until(lambda: procs.http_ok(base + "/", timeout=5), 90, "web UI", interval=0.5, alive=child.alive)
    return base


def start_recorder(children: procs.Processes, root: Path, ui_url: str, out_dir: Path, seconds: int,
                   frame_ms: int, log: Path, prefix: Sequence[str] = ()) -> procs.Child:
    out_dir.mkdir(parents=True, exist_ok=True)
    return children.start(
        "record-ui",
        [*prefix, "node", str(root / "web" / "scripts" / "record-ui.mjs"), "--base-url", ui_url, "--out", str(out_dir),
         "--seconds", str(seconds), "--frame-ms", str(frame_ms)],
        log,
    )
