"""`python -m experiment.run.demo`: the lab by hand, set up the way an experiment run sets up an arm.

scripts/demo.sh prepares what it needs and calls this. The system under test comes from the
runner's own code (`runner.system_under_test`): a freshly recreated database (`lab_demo`) seeded
with the profile's users at the lab's cheap Argon2 cost, the latency proxy at the lab's delay in
front of Postgres, and the service in the arm's pool mode and size, at the same Argon2 cost and
acquire timeout, warmed up and scraped by the lab's Prometheus. The UI runs against it
(`lab.start_ui`). Then it prints the k6 command that loads the service with the variables of an
experiment run. Delay and rates come as a pair: the newest calibrated run's on this machine (the
delay its CPU budget chose, and its measured capacity times the profile's multiples), else the
lab's 5 ms and load/shape.json's `hand_rates`, the lab machine's calibration at 5 ms. It runs
until Ctrl-C or scripts/stop.sh (through its pid file) and stops everything it started.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from pathlib import Path

from ..model import shape
from ..model.labels import RunLabels
from ..model.profiles import ARMS_BY_KEY, PROFILES, LabParams, Profile, Rates
from ..model.results import RunConfig
from . import cpusets, k6cmd, lab, procs, runner
from .hosts import LocalHost
from .monitoring import Prometheus

ROOT = Path(__file__).resolve().parents[2]
PID_FILE = ROOT / ".lab" / "demo.pid"  # scripts/stop.sh stops the demo through it
LOGS = ROOT / ".lab" / "demo"
DATABASE = "lab_demo"  # never the experiment's database: a demo may run beside an experiment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.sh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("arm", nargs="?", default="shared", choices=list(ARMS_BY_KEY),
                        help="the arm to run: shared (Act I), isolated (Act III), shared-3x (control)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default",
                        help="the seed sizes, and the schedule of the printed k6 command")
    parser.add_argument("--k6", default="k6", help="the k6 binary, for the printed command")
    return parser.parse_args(argv)


def admin_url() -> str:
    """The lab's Postgres (scripts/pg.sh url), or the `postgres` database of DATABASE_URL's server."""
    if url := os.environ.get("DATABASE_URL"):
        return lab.with_database(url, "postgres")
    return procs.script_output(ROOT / "scripts" / "pg.sh", "url").strip()


def plan_for(profile: Profile, params: LabParams,
             latest: Path = ROOT / "results" / "latest") -> tuple[LabParams, Rates, str]:
    """The delay and the rates of the demo, and where they come from: the newest results folder's
    when it was calibrated (the delay it ran at, the capacity it measured there times the
    profile's multiples: a capacity only holds at its own delay), else `params` as they are and
    load/shape.json's hand_rates (measured at the lab's default delay)."""
    try:
        config = RunConfig.load(latest / "config.json")
    except (OSError, ValueError):
        config = None
    if config is not None and config.rates is not None and config.rates.capacity_rps is not None:
        return (dataclasses.replace(params, delay_ms=config.lab.delay_ms),
                Rates.calibrated(profile, config.rates.capacity_rps),
                f"calibrated on this machine by run {config.run_id}: {config.rates.capacity_rps:.0f} req/s capacity "
                f"at {config.lab.delay_ms} ms")
    base, burst = shape.read_hand_rates(shape.SHAPE_PATH)
    return (params, Rates(base_rps=base, burst_rps=burst, source="explicit"),
            f"load/shape.json's hand_rates, the lab machine's calibration at {params.delay_ms} ms (load/README.md); "
            "run scripts/experiment.sh once to calibrate this machine")


def k6_command(ctx: runner.Context, service: lab.Service, rates: Rates) -> str:
    """The shell command that loads `service` as an experiment run would (k6cmd.K6Command.load_env)."""
    env = ctx.k6.load_env(rates) | {"BASE_URL": service.base_url}
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return f"{assignments} \\\n  {shlex.quote(str(ctx.paths.k6))} run {shlex.join(k6cmd.NO_API)} {ctx.paths.load_script.relative_to(ROOT)}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    procs.install_signal_handlers()
    arm, profile = ARMS_BY_KEY[args.arm], PROFILES[args.profile]
    params, rates, source = plan_for(profile, LabParams(database=DATABASE, pin_cpus="off"))
    LOGS.mkdir(parents=True, exist_ok=True)
    paths = lab.Paths(root=ROOT, service_bin=ROOT / "target/release/todo-service",
                      proxy_bin=ROOT / "target/release/latency-proxy", k6=Path(args.k6),
                      load_script=ROOT / "load" / "todo-load.js")
    prometheus = Prometheus.of(ROOT)
    ctx = runner.Context(paths=paths, profile=profile, lab=params, host=LocalHost(admin_url(), None), record=False,
                         ui_ok=False, ui_note="", cpus=cpusets.choose("off"), run_id="demo", prometheus=prometheus)
    PID_FILE.write_text(f"{os.getpid()}\n")
    try:
        with runner.system_under_test(ctx, arm, RunLabels("demo", arm.key, 1), LOGS) as sut:
            ui_ok, ui_note = lab.ui_status(ROOT)
            ui = lab.start_ui(sut.children, ROOT, sut.service, prometheus.url, LOGS / "web.log") if ui_ok else None
            print(f"[demo] {arm.label}: the service on {sut.service.base_url} (metrics {sut.service.metrics_url}), "
                  f"Postgres {params.delay_ms} ms away through the latency proxy, Argon2 "
                  f"{params.argon2_memory_kib} KiB / {params.argon2_iterations} pass; logs in {LOGS}", flush=True)
            print(f"[demo] open {ui}: log in as demo@lab.test / demo-password; {ui}/dashboard shows the pools live"
                  if ui else f"[demo] no UI: {ui_note}", flush=True)
            print(f"[demo] load it from another terminal ({profile.name} profile, {profile.duration_s()} s; "
                  f"{rates.base_rps} / {rates.burst_rps} req/s: {source}):\n\n{k6_command(ctx, sut.service, rates)}\n",
                  flush=True)
            print("[demo] Ctrl-C or scripts/stop.sh stops it", flush=True)
            while all(child.alive() for child in sut.children.children):
                time.sleep(1)
            stopped = [child.name for child in sut.children.children if not child.alive()]
            print(f"[demo] {', '.join(stopped)} stopped; see {LOGS}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\n[demo] stopping", flush=True)
        return 0
    finally:
        PID_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
