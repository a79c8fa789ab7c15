"""Scrapes the service's /metrics every second into a jsonl time series.

Each line of metrics.jsonl: {"t": unix_s, "metrics": {series_key: value, ...}} (see prom.series_key),
or {"t": unix_s, "error": "..."} when a scrape failed. A failed scrape is data too: it tells the
metrics listener itself was slow.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

from . import prom


def scrape(url: str, timeout: float = 2.0) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return prom.parse(response.read().decode("utf-8"))


class MetricsSampler:
    """A background thread that scrapes `url` every `interval` s and appends to `path`.

    `rate()` gives the live request rate (all endpoints) from the last two scrapes, for the progress
    line.
    """

    def __init__(self, url: str, path: Path, interval: float = 1.0):
        self.url = url
        self.path = path
        self.interval = interval
        self.scrapes = 0
        self.failures = 0
        self._last: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-sampler", daemon=True)

    def start(self) -> MetricsSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def rate(self) -> float | None:
        """Requests per second over the last scrape interval."""
        if len(self._last) < 2:
            return None
        (t1, m1), (t2, m2) = self._last[-2], self._last[-1]
        if t2 <= t1:
            return None
        name = "http_requests_total"
        return (prom.total(m2, name) - prom.total(m1, name)) / (t2 - t1)

    def latest(self) -> dict[str, float]:
        return self._last[-1][1] if self._last else {}

    def _run(self) -> None:
        with open(self.path, "a") as out:
            while not self._stop.is_set():
                started = time.monotonic()
                t = time.time()
                try:
                    metrics = scrape(self.url, timeout=max(0.5, self.interval * 0.9))
                    out.write(json.dumps({"t": t, "metrics": metrics}) + "\n")
                    self._last = ([*self._last, (t, metrics)])[-2:]
                    self.scrapes += 1
                except Exception as error:
                    out.write(json.dumps({"t": t, "error": str(error)}) + "\n")
                    self.failures += 1
                out.flush()
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


def load(path: Path) -> list[dict]:
    """The successful scrapes of a metrics.jsonl, in order."""
    samples = []
    with open(path) as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                if "metrics" in record:
                    samples.append(record)
    return samples
