"""How the lab invokes k6: every command line and environment given to a k6 process, here or in a
cluster, is built in this module and nowhere else.

- `script_env`: the variables the k6 script reads (load/todo-load.js): the profile at its rates.
- `K6Command`: one lab's k6 (binary, script, CPU pinning, the host's options, its Prometheus):
  `load_env` (the load's own variables, also given to k6-operator's pods), `env` and `argv` of a
  local run, `process_argv` for one of several processes splitting the load with execution
  segments.
- `remote_write_env` / `remote_write_args`: k6's samples to a Prometheus, tagged with the run.
- `dashboard_env`: k6's HTML report; `api_args`: started paused with its REST API (k6run.py).
- `archive_argv`: `k6 archive` of the script, for k6-operator's ConfigMap.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..model.labels import RunLabels
from ..model.profiles import Profile, Rates
from ..model.results import DASHBOARD_PERIOD, K6ProcessRecord

# No REST API: k6 then does not take port 6565, which another k6 on the machine may hold.
NO_API = ["--address", ""]


def script_env(profile: Profile, rates: Rates) -> dict[str, str]:
    """The variables the k6 script reads (all explicit: the report states them)."""
    return {
        "PROFILE": profile.name,
        "BASE_RPS": str(rates.base_rps),
        "BURST_RPS": str(rates.burst_rps),
        "BURSTS": str(profile.bursts),
        "BURST_S": str(profile.burst_s),
        "GAP_S": str(profile.gap_s),
        "WARMUP_S": str(profile.warmup_s),
        "RECOVERY_S": str(profile.recovery_s),
        "RAMP_S": str(profile.ramp_s),
        "USERS": str(profile.users),
        "SESSIONS": str(profile.sessions),
        # A new TCP connection for every iteration (k6's noVUConnectionReuse): each arrival is
        # a client of its own, so open connections (one tokio task each) follow the requests
        # in flight instead of staying at one per pre-allocated VU.
        "VU_CONNECTION_REUSE": "false",
    } | ({"BURST_RATES": ",".join(str(r) for r in rates.step_rps)} if rates.step_rps else {})


def remote_write_env(write_url: str) -> dict[str, str]:
    """k6's environment for its remote-write output to `write_url` (a Prometheus's
    /api/v1/write, here or in a cluster: k6operator.py): trends as native histograms (quantiles
    per second in PromQL; the raw CSV samples stay the source of the report's exact
    percentiles), pushed every second, series marked stale when k6 ends."""
    return {
        "K6_PROMETHEUS_RW_SERVER_URL": write_url,
        "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM": "true",
        "K6_PROMETHEUS_RW_PUSH_INTERVAL": "1s",
        "K6_PROMETHEUS_RW_STALE_MARKERS": "true",
    }


def remote_write_args(run: RunLabels) -> list[str]:
    """k6's command-line options that send its samples to the remote write, tagged with the run."""
    return ["--out", "experimental-prometheus-rw", "--tag", f"testid={run.testid}"]


def dashboard_env(report: Path) -> dict[str, str]:
    """k6's variables for its web dashboard, kept only as the self-contained HTML report it
    exports to `report` when the test ends: no web server (port -1), so k6 takes no port (another
    k6 on the machine may hold the default 5665) and never waits for a browser to go away."""
    return {"K6_WEB_DASHBOARD": "true", "K6_WEB_DASHBOARD_EXPORT": str(report),
            "K6_WEB_DASHBOARD_PERIOD": DASHBOARD_PERIOD, "K6_WEB_DASHBOARD_PORT": "-1"}


def api_args(address: str) -> list[str]:
    """k6's options for a process the runner starts paused and lets go through its REST API."""
    return ["--paused", "--address", address]


def local_ips_args(source_ips: str) -> list[str]:
    """k6's options to spread its connections over the source addresses `source_ips` ("A-B")."""
    return ["--local-ips", source_ips]


def segment_sequence(count: int) -> str:
    """k6's --execution-segment-sequence for `count` equal segments ("0,1/2,1" for two): every
    process must be given the same sequence so the segments split the load without overlap."""
    return ",".join(str(Fraction(i, count)) for i in range(count + 1))  # k6's notation: 0, 1/2, 1


def segment_args(files: K6ProcessRecord, count: int) -> list[str]:
    """k6's options that make it run process `files.index` of `count`'s share of the load."""
    return ["--execution-segment", files.segment, "--execution-segment-sequence", segment_sequence(count)]


def archive_argv(k6: Path, script: Path) -> list[str]:
    """`k6 archive` of `script` to stdout, the environment's variables resolved but left out."""
    return [str(k6), "archive", "--include-system-env-vars", "--exclude-env-vars", "--archive-out", "-", str(script)]


@dataclass(frozen=True)
class K6Command:
    """One lab's k6: what every k6 process it starts shares (runner.Context.k6 builds it)."""

    k6: Path  # the binary
    script: Path  # load/todo-load.js
    profile: Profile
    password: str  # the seeded users' (LabParams.password)
    write_url: str  # the lab's Prometheus's /api/v1/write
    prefix: Sequence[str] = ()  # what pins the load side's CPUs (cpusets.py), before k6
    host_options: Sequence[str] = ()  # the host's options for reaching the service (hosts.py)

    def load_env(self, rates: Rates) -> dict[str, str]:
        """The variables that make the load what it is, wherever k6 runs (here, or a k6-operator
        TestRun, k6operator.py): the profile at `rates` and the seeded users' password."""
        return script_env(self.profile, rates) | {"PASSWORD": self.password, "K6_NO_USAGE_REPORT": "true"}

    def env(self, base_url: str, summary_path: Path, rates: Rates, **overrides: str) -> dict[str, str]:
        """k6's environment for a run against `base_url`: the load at `rates`, its samples also
        written to the lab's Prometheus."""
        return os.environ | self.load_env(rates) | remote_write_env(self.write_url) | {
            "BASE_URL": base_url, "SUMMARY_PATH": str(summary_path), "K6_CSV_TIME_FORMAT": "unix_milli",
        } | overrides

    def argv(self, run: RunLabels, *extra: str, paused_api: str | None = None) -> list[str]:
        """k6's command line for `run`; with `paused_api` it starts paused, its REST API there
        (k6run.py lets it go), else with no REST API (`NO_API`)."""
        api = api_args(paused_api) if paused_api else NO_API
        return [*self.prefix, str(self.k6), "run", *api, *remote_write_args(run), *self.host_options, *extra,
                str(self.script)]

    def process_argv(self, run: RunLabels, files: K6ProcessRecord, count: int, samples: Path, api: str) -> list[str]:
        """The command line of process `files.index` of `count` splitting `run`'s load: its samples
        to `samples` (CSV), tagged `instance_id=<index>`, its execution segment, paused at `api`."""
        return self.argv(run, "--out", f"csv={samples}", "--tag", f"instance_id={files.index}",
                         *segment_args(files, count), paused_api=api)
