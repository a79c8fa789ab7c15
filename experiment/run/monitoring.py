"""The lab's Prometheus, seen from the runner: which targets it scrapes, where k6 writes, and the
export of a run's series into its results folder.

scripts/prometheus.sh owns the Prometheus and exporter processes and their files; this module
only calls it (register, unregister, pids, url) so the folder layout lives in one place. Each
run's service and proxy are registered with labels `run`, `arm` and `repeat`, and k6 tags its
samples `testid=<run>/<arm>/<repeat>`, so a query (or a user's Grafana) picks one run's series.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..model.labels import RunLabels
from . import procs

# Prometheus refuses a query_range of more than 11,000 points per series; 1 s steps fit 3 hours.
STEP_S = 1.0


@dataclass(frozen=True)
class Prometheus:
    """The lab's Prometheus (scripts/prometheus.sh), reachable at `url`."""

    script: Path  # scripts/prometheus.sh
    url: str

    @classmethod
    def of(cls, root: Path) -> Prometheus:
        script = root / "scripts" / "prometheus.sh"
        return cls(script, procs.script_output(script, "url").strip())

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def register(self, job: str, address: str, run: RunLabels) -> None:
        """Scrape `address` (host:port) as `job` from now on, its series labelled with `run`."""
        procs.script_output(self.script, "register", job, address, *(f"{k}={v}" for k, v in run.target_labels().items()))

    def wait_scraped(self, job: str, run: RunLabels, timeout: float = 20.0) -> bool:
        """Wait until `job`'s target of `run` has been scraped once; False if it has not been
        within `timeout` s. Prometheus reads a new target file at most every 5 s and then
        scrapes at its own offset: a window that starts before the first scrape has no value to
        subtract from, so the runner waits before the load starts."""
        target = ", ".join(f'{k}="{v}"' for k, v in run.target_labels().items())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.query(f'up{{job="{job}", {target}}} == 1', timeout=2):
                    return True
            except (OSError, RuntimeError, ValueError):
                pass
            time.sleep(0.25)
        return False

    def unregister(self, job: str) -> None:
        procs.script_output(self.script, "unregister", job)

    def pids(self) -> dict[str, int]:
        """The Prometheus and exporter processes, for CPU accounting: {"prometheus": pid, "exporter": pid}."""
        return procs.script_pids(self.script)

    @property
    def write_url(self) -> str:
        """Where k6 remote-writes its samples (k6cmd.remote_write_env)."""
        return self.url + "/api/v1/write"

    def query_range(self, query: str, start: float, end: float, step: float = STEP_S) -> list[dict]:
        """The `result` of /api/v1/query_range (a list of {metric, values|histograms})."""
        return self._ask("query_range", {"query": query, "start": start, "end": end, "step": step})

    def query(self, query: str, at: float | None = None, timeout: float = 60) -> list[dict]:
        """The `result` of the instant /api/v1/query at `at` (unix s; now when None): a vector,
        a list of {metric, value}."""
        return self._ask("query", {"query": query} | ({"time": at} if at is not None else {}), timeout)

    def _ask(self, api: str, params: dict, timeout: float = 60) -> list[dict]:
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(f"{self.url}/api/v1/{api}", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:  # a bad query: Prometheus says why in the body
            answer = json.load(error)
        if answer.get("status") != "success":
            raise RuntimeError(f"Prometheus refused {params['query']!r}: {answer.get('error')}")
        return answer["data"]["result"]

    def export(self, path: Path, start: float, end: float, run: RunLabels) -> int:
        """Write `run`'s series (RunLabels.selectors) between `start` and `end` (unix seconds) to
        `path` (gzipped JSON: the query_range answer per selector), so the report can be rebuilt
        without this Prometheus. Returns the number of series written."""
        exported = {selector: self.query_range(selector, start, end) for selector in run.selectors()}
        with gzip.open(path, "wt") as handle:
            json.dump({"start": start, "end": end, "step": STEP_S, "series": exported}, handle)
        return sum(len(result) for result in exported.values())
